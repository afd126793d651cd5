package c2s

import (
	"sync"
	"time"
)

// ThrottleConfig tunes a MemoryThrottle; zero fields take the defaults.
type ThrottleConfig struct {
	MaxFailures int           // failures within Window that trigger a block (default 5)
	Window      time.Duration // default 5 minutes
	Backoff     time.Duration // how long a block lasts (default 5 minutes)
	Now         func() time.Time
}

// MemoryThrottle refuses authentication from an address or for an account
// that failed MaxFailures times within Window, for Backoff. Blocking an
// account by name lets an attacker lock its owner out for a while; that
// is the price of stopping a distributed guess at one password.
//
// It is safe for concurrent use and forgets old entries as it goes.
type MemoryThrottle struct {
	cfg ThrottleConfig

	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	times        []time.Time
	blockedUntil time.Time
}

var _ Throttle = (*MemoryThrottle)(nil)

// NewMemoryThrottle returns a throttle with cfg.
func NewMemoryThrottle(cfg ThrottleConfig) *MemoryThrottle {
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.Window <= 0 {
		cfg.Window = 5 * time.Minute
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &MemoryThrottle{cfg: cfg, keys: make(map[string]*failures)}
}

func throttleKeys(addr, username string) []string {
	keys := []string{"addr:" + addr}
	if username != "" {
		keys = append(keys, "user:"+username)
	}
	return keys
}

// Allow reports whether neither the address nor the account is blocked.
func (t *MemoryThrottle) Allow(addr, username string) bool {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range throttleKeys(addr, username) {
		if f := t.keys[k]; f != nil && now.Before(f.blockedUntil) {
			return false
		}
	}
	return true
}

// Record counts a failure against the address and the account, or on
// success forgets the account's failures (not the address's: one good
// account must not launder guesses at others).
func (t *MemoryThrottle) Record(addr, username string, ok bool) {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if ok {
		if username != "" {
			delete(t.keys, "user:"+username)
		}
		return
	}
	for _, k := range throttleKeys(addr, username) {
		f := t.keys[k]
		if f == nil {
			f = &failures{}
			t.keys[k] = f
		}
		f.times = append(pruneBefore(f.times, now.Add(-t.cfg.Window)), now)
		if len(f.times) >= t.cfg.MaxFailures {
			f.blockedUntil = now.Add(t.cfg.Backoff)
			f.times = f.times[:0]
		}
	}
	if len(t.keys) > 10000 {
		t.sweep(now)
	}
}

// sweep drops entries with nothing recent and no block.
func (t *MemoryThrottle) sweep(now time.Time) {
	for k, f := range t.keys {
		f.times = pruneBefore(f.times, now.Add(-t.cfg.Window))
		if len(f.times) == 0 && !now.Before(f.blockedUntil) {
			delete(t.keys, k)
		}
	}
}

func pruneBefore(ts []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(cutoff) {
		i++
	}
	return append(ts[:0], ts[i:]...)
}
