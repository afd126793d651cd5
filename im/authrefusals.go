package im

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"xmppd/events"
)

// Defaults of RefusalLogConfig's zero fields.
const (
	DefaultRefusalInterval     = time.Minute
	DefaultRefusalMaxAddresses = 100_000
)

// RefusalLogConfig bounds what logins refused by the failed-login
// throttle write to the log. A refused address answers at once, so it can
// fail as fast as it opens connections; recorded one by one, its attempts
// would fill the log and the disk. Failures the throttle did not refuse
// are always recorded whole: the throttle's delays bound them.
type RefusalLogConfig struct {
	// Interval: an address's first refused attempt is recorded whole
	// (session.auth_failed, throttle "refused"); its further refusals
	// within Interval of its last record are only counted, and recorded
	// as one session.auth_refusals_summarised once Interval has passed,
	// and at shutdown. So an address writes at most one event per
	// Interval, however fast it tries.
	Interval time.Duration
	// MaxAddresses bounds how many addresses are counted apart at once.
	// Past it, addresses with nothing left to record are forgotten; while
	// every counted address still has refusals to record, a new
	// address's refusals are counted together with the other such, and
	// summarised under no address: the count stays exact, the memory
	// bounded.
	MaxAddresses int
}

func (c *RefusalLogConfig) setDefaults() {
	if c.Interval == 0 {
		c.Interval = DefaultRefusalInterval
	}
	if c.MaxAddresses == 0 {
		c.MaxAddresses = DefaultRefusalMaxAddresses
	}
}

// Validate reports every problem at once; zero fields are the defaults.
func (c RefusalLogConfig) Validate() error {
	var errs []error
	if c.Interval < 0 {
		errs = append(errs, fmt.Errorf("im: refusal log: interval %s is negative", c.Interval))
	}
	if c.MaxAddresses < 0 {
		errs = append(errs, fmt.Errorf("im: refusal log: max addresses %d is negative", c.MaxAddresses))
	}
	return errors.Join(errs...)
}

// refusalBook counts refused logins per address between their records.
// It decides only; the Server appends. Safe for concurrent use: one mutex
// guards the counts and is never held while anything is appended.
type refusalBook struct {
	cfg RefusalLogConfig

	mu        sync.Mutex
	addrs     map[string]*refusals // by throttle address key
	other     refusals             // addresses not counted apart: the table was full
	lastSweep time.Time
}

// refusals are one address's refused attempts since its last record.
type refusals struct {
	recorded    time.Time // when its last event (whole or summary) was decided
	n           int64     // refusals since, recorded nowhere yet
	first, last time.Time // of those n
}

func (r *refusals) add(n int64, first, last time.Time) {
	if r.n == 0 || first.Before(r.first) {
		r.first = first
	}
	if r.n == 0 || last.After(r.last) {
		r.last = last
	}
	r.n += n
}

// take returns the summary of r's pending refusals and clears them.
func (r *refusals) take(addr string, now time.Time) events.AuthRefusalsSummarised {
	s := events.AuthRefusalsSummarised{ClientAddr: addr, Count: r.n, First: r.first.UTC(), Last: r.last.UTC()}
	r.n, r.first, r.last, r.recorded = 0, time.Time{}, time.Time{}, now
	return s
}

func newRefusalBook(cfg RefusalLogConfig) *refusalBook {
	cfg.setDefaults()
	return &refusalBook{cfg: cfg, addrs: map[string]*refusals{}}
}

// refused decides about one refused attempt from addr (a throttle address
// key) at now: whole says record it as session.auth_failed; a non-nil sum
// is to be recorded instead, and counts this attempt. Neither: it is
// counted, for a later summary.
func (b *refusalBook) refused(addr string, now time.Time) (whole bool, sum *events.AuthRefusalsSummarised) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.addrs[addr]
	if r == nil {
		if len(b.addrs) >= b.cfg.MaxAddresses {
			b.sweep(now)
		}
		if len(b.addrs) >= b.cfg.MaxAddresses {
			if b.other.n == 0 && b.other.recorded.IsZero() {
				b.other.recorded = now
			}
			b.other.add(1, now, now)
			return false, nil
		}
		b.addrs[addr] = &refusals{recorded: now}
		return true, nil
	}
	if now.Sub(r.recorded) < b.cfg.Interval {
		r.add(1, now, now)
		return false, nil
	}
	if r.n == 0 {
		r.recorded = now
		return true, nil
	}
	r.add(1, now, now)
	s := r.take(addr, now)
	return false, &s
}

// due takes the summaries whose Interval has passed since their
// address's last record (all pending ones, with all: at shutdown), sorted
// by address, and forgets the addresses with nothing left to record.
func (b *refusalBook) due(now time.Time, all bool) []events.AuthRefusalsSummarised {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []events.AuthRefusalsSummarised
	for k, r := range b.addrs {
		quiet := now.Sub(r.recorded) >= b.cfg.Interval
		switch {
		case r.n > 0 && (all || quiet):
			out = append(out, r.take(k, now))
		case r.n == 0 && quiet:
			delete(b.addrs, k)
		}
	}
	if b.other.n > 0 && (all || now.Sub(b.other.recorded) >= b.cfg.Interval) {
		out = append(out, b.other.take("", now))
	}
	slices.SortFunc(out, func(x, y events.AuthRefusalsSummarised) int { return strings.Compare(x.ClientAddr, y.ClientAddr) })
	return out
}

// restore gives back the refusals of a summary the log did not take, so
// the next summary counts them.
func (b *refusalBook) restore(s events.AuthRefusalsSummarised) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := &b.other
	if s.ClientAddr != "" {
		if r = b.addrs[s.ClientAddr]; r == nil {
			if len(b.addrs) >= b.cfg.MaxAddresses {
				r = &b.other
			} else {
				r = &refusals{recorded: s.Last}
				b.addrs[s.ClientAddr] = r
			}
		}
	}
	r.add(s.Count, s.First, s.Last)
}

// sweep forgets the addresses with nothing left to record whose Interval
// has passed, at most once a second: while the table is full of live
// addresses, a flood costs one scan a second, not one per refusal.
func (b *refusalBook) sweep(now time.Time) {
	if now.Sub(b.lastSweep) < time.Second {
		return
	}
	b.lastSweep = now
	for k, r := range b.addrs {
		if r.n == 0 && now.Sub(r.recorded) >= b.cfg.Interval {
			delete(b.addrs, k)
		}
	}
}

// size is how many addresses are counted apart (for tests).
func (b *refusalBook) size() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.addrs)
}
