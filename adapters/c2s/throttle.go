package c2s

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"xmppd/events"
)

// Defaults of ThrottleConfig's zero fields.
const (
	DefaultThrottleFreeFailures     = 3
	DefaultThrottleAddrFreeFailures = 10
	DefaultThrottleBaseDelay        = time.Second
	DefaultThrottleMaxDelay         = 30 * time.Second
	DefaultThrottleRefuseAfter      = 100
	DefaultThrottleRefuseFor        = 15 * time.Minute
	DefaultThrottleWindow           = 15 * time.Minute
	DefaultThrottleMaxDelayed       = 4
	DefaultThrottleMaxEntries       = 100_000
)

// ThrottleConfig tunes a MemoryThrottle; zero fields take the defaults
// above.
type ThrottleConfig struct {
	// FreeFailures is how many failures one address may have against one
	// account (a typo or three) before its answers for that account are
	// delayed.
	FreeFailures int
	// AddrFreeFailures is how many failures one address may have against
	// all accounts together before all its answers are delayed: guessing
	// one password at many accounts is slowed too.
	AddrFreeFailures int
	// BaseDelay is the first delay; each further failure doubles it, up
	// to MaxDelay. MaxDelay must stay below the negotiation timeout, which
	// bounds every wait.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// RefuseAfter is how many failures one address may have within Window
	// before it is refused outright, for RefuseFor, with
	// <temporary-auth-failure/> and without its password being checked.
	RefuseAfter int
	RefuseFor   time.Duration
	// Window is how long a count is kept after its last failure.
	Window time.Duration
	// MaxDelayedPerAddr is how many attempts of one address may wait at
	// once; more are refused at once, so an address cannot hold the
	// server's goroutines and sockets with delayed attempts.
	MaxDelayedPerAddr int
	// MaxEntries bounds the memory of the counts; past it, expired counts
	// are swept, and while all are live new ones are not kept.
	MaxEntries int
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

func (c *ThrottleConfig) setDefaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.FreeFailures, DefaultThrottleFreeFailures)
	def(&c.AddrFreeFailures, DefaultThrottleAddrFreeFailures)
	def(&c.RefuseAfter, DefaultThrottleRefuseAfter)
	def(&c.MaxDelayedPerAddr, DefaultThrottleMaxDelayed)
	def(&c.MaxEntries, DefaultThrottleMaxEntries)
	defD(&c.BaseDelay, DefaultThrottleBaseDelay)
	defD(&c.MaxDelay, DefaultThrottleMaxDelay)
	defD(&c.RefuseFor, DefaultThrottleRefuseFor)
	defD(&c.Window, DefaultThrottleWindow)
	if c.Now == nil {
		c.Now = time.Now
	}
}

// withThrottleDefaults returns c with its zero fields set.
func withThrottleDefaults(c ThrottleConfig) ThrottleConfig {
	c.setDefaults()
	return c
}

// Validate reports every problem at once; zero fields are the defaults.
func (c ThrottleConfig) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{{"FreeFailures", c.FreeFailures}, {"AddrFreeFailures", c.AddrFreeFailures}, {"RefuseAfter", c.RefuseAfter},
		{"MaxDelayedPerAddr", c.MaxDelayedPerAddr}, {"MaxEntries", c.MaxEntries}} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("c2s: throttle: %s %d is negative", f.name, f.v))
		}
	}
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"BaseDelay", c.BaseDelay}, {"MaxDelay", c.MaxDelay}, {"RefuseFor", c.RefuseFor}, {"Window", c.Window}} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("c2s: throttle: %s %s is negative", f.name, f.v))
		}
	}
	d := c
	d.setDefaults()
	if d.MaxDelay < d.BaseDelay {
		errs = append(errs, fmt.Errorf("c2s: throttle: MaxDelay %s is below BaseDelay %s", d.MaxDelay, d.BaseDelay))
	}
	if d.RefuseAfter <= d.FreeFailures || d.RefuseAfter <= d.AddrFreeFailures {
		errs = append(errs, fmt.Errorf("c2s: throttle: RefuseAfter %d must be above FreeFailures %d and AddrFreeFailures %d: an address is delayed long before it is refused",
			d.RefuseAfter, d.FreeFailures, d.AddrFreeFailures))
	}
	return errors.Join(errs...)
}

// ThrottleVerdict is a Throttle's answer about one attempt.
type ThrottleVerdict struct {
	Decision events.ThrottleDecision
	// Delay is how long to hold the answer back (ThrottleDelayed).
	Delay time.Duration
	// Reason says why, for logs.
	Reason string
	// Release, set with ThrottleDelayed, frees the address's slot for a
	// waiting attempt: call it once the wait is over.
	Release func()
}

// MemoryThrottle counts failed logins per (address, account) and per
// address, in memory, and answers with delays rather than refusals:
//
//   - an address that failed more than FreeFailures times at one account,
//     or more than AddrFreeFailures times in all, waits before each answer:
//     BaseDelay, doubled for each further failure, up to MaxDelay;
//   - an address with RefuseAfter failures is refused outright for
//     RefuseFor;
//   - nothing that one address does changes how another is answered:
//     the owner of an account under attack logs in from elsewhere at
//     normal speed (there is no per-account count, so that a name known
//     to an attacker is never a lock on its owner);
//   - a success clears the (address, account) count, not the address's
//     count: one good account must not launder guesses at others.
//
// IPv6 addresses are counted by /64, the block one host usually holds.
// It is safe for concurrent use: one mutex guards the counts and is never
// held while anyone waits.
type MemoryThrottle struct {
	cfg ThrottleConfig

	mu        sync.Mutex
	addrs     map[string]*failCount // by address key
	pairs     map[pairKey]*failCount
	delayed   map[string]int // waiting attempts by address key
	lastSweep time.Time
}

type pairKey struct{ addr, user string }

type failCount struct {
	n            int
	last         time.Time
	refusedUntil time.Time // addresses only
}

var _ Throttle = (*MemoryThrottle)(nil)

// NewMemoryThrottle returns a throttle with cfg, whose zero fields take
// the defaults. cfg should have passed Validate.
func NewMemoryThrottle(cfg ThrottleConfig) *MemoryThrottle {
	cfg.setDefaults()
	return &MemoryThrottle{cfg: cfg, addrs: map[string]*failCount{}, pairs: map[pairKey]*failCount{}, delayed: map[string]int{}}
}

// addrKey is the address as counted: IPv4 as is, IPv6 by its /64.
func addrKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, err := a.Prefix(64)
		if err == nil {
			return p.String()
		}
	}
	return a.String()
}

// userKey is a username as counted: a long one (a localpart may have
// 1023 bytes, RFC 7622 section 3.3.1, and an invalid name is counted
// too) by its SHA-256, so MaxEntries bounds the memory of the keys.
func userKey(username string) string {
	if len(username) <= 64 {
		return username
	}
	sum := sha256.Sum256([]byte(username))
	return "sha256:" + string(sum[:])
}

// current returns f's count, 0 once Window has passed since its last
// failure.
func (t *MemoryThrottle) current(f *failCount, now time.Time) int {
	if f == nil || now.Sub(f.last) > t.cfg.Window {
		return 0
	}
	return f.n
}

// delayFor is the delay after n failures with free allowed.
func (t *MemoryThrottle) delayFor(n, free int) time.Duration {
	if n < free {
		return 0
	}
	d := t.cfg.BaseDelay
	for i := free; i < n && d < t.cfg.MaxDelay; i++ {
		d *= 2
	}
	return min(d, t.cfg.MaxDelay)
}

// Check decides about an attempt by addr at username ("" while the name
// is not known). A ThrottleDelayed verdict holds one of the address's
// MaxDelayedPerAddr slots until its Release is called.
func (t *MemoryThrottle) Check(addr, username string) ThrottleVerdict {
	now := t.cfg.Now()
	ak := addrKey(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.addrs[ak]
	if a != nil && now.Before(a.refusedUntil) {
		return ThrottleVerdict{Decision: events.ThrottleRefused,
			Reason: fmt.Sprintf("address refused until %s after %d failed logins", a.refusedUntil.UTC().Format(time.RFC3339), a.n)}
	}
	d := t.delayFor(t.current(a, now), t.cfg.AddrFreeFailures)
	if username != "" {
		p := t.pairs[pairKey{ak, userKey(username)}]
		d = max(d, t.delayFor(t.current(p, now), t.cfg.FreeFailures))
	}
	if d == 0 {
		return ThrottleVerdict{Decision: events.ThrottleNone}
	}
	if t.delayed[ak] >= t.cfg.MaxDelayedPerAddr {
		return ThrottleVerdict{Decision: events.ThrottleRefused,
			Reason: fmt.Sprintf("%d delayed attempts from this address already wait", t.delayed[ak])}
	}
	t.delayed[ak]++
	var once sync.Once
	release := func() {
		once.Do(func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			if t.delayed[ak]--; t.delayed[ak] <= 0 {
				delete(t.delayed, ak)
			}
		})
	}
	return ThrottleVerdict{Decision: events.ThrottleDelayed, Delay: d, Reason: "earlier failed logins from this address", Release: release}
}

// Record learns an outcome: a failure counts against the address and the
// (address, account) pair; a success clears the pair only.
func (t *MemoryThrottle) Record(addr, username string, ok bool) {
	now := t.cfg.Now()
	ak := addrKey(addr)
	pk := pairKey{ak, userKey(username)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if ok {
		delete(t.pairs, pk)
		return
	}
	if len(t.addrs)+len(t.pairs) >= t.cfg.MaxEntries {
		t.sweep(now)
	}
	a := bump(t, t.addrs, ak, now)
	if a != nil && a.n >= t.cfg.RefuseAfter && !now.Before(a.refusedUntil) {
		a.refusedUntil = now.Add(t.cfg.RefuseFor)
	}
	if username != "" {
		bump(t, t.pairs, pk, now)
	}
}

// bump counts a failure at key, creating its count if there is room.
func bump[K comparable](t *MemoryThrottle, m map[K]*failCount, key K, now time.Time) *failCount {
	f := m[key]
	if f == nil {
		if len(t.addrs)+len(t.pairs) >= t.cfg.MaxEntries {
			return nil
		}
		f = &failCount{}
		m[key] = f
	}
	f.n = t.current(f, now) + 1
	f.last = now
	return f
}

// sweep drops the counts that expired, at most once a second: while
// every count is live, a full table costs one scan a second, not one per
// failure.
func (t *MemoryThrottle) sweep(now time.Time) {
	if now.Sub(t.lastSweep) < time.Second {
		return
	}
	t.lastSweep = now
	for k, f := range t.addrs {
		if t.current(f, now) == 0 && !now.Before(f.refusedUntil) {
			delete(t.addrs, k)
		}
	}
	for k, f := range t.pairs {
		if t.current(f, now) == 0 {
			delete(t.pairs, k)
		}
	}
}
