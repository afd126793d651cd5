package c2s

import (
	"errors"
	"time"
)

// Defaults of the per-session stanza rate (Config.StanzaRate,
// StanzaBurst, FloodTimeout).
//
// A person's client sends a few stanzas a second at most, and a few
// hundred to a couple of thousand at login (roster, presence, a disco or
// vCard query per contact): the burst takes those at full speed. 500 a
// second is far above any person and most bots, yet holds one flooding
// session to about 1% of what this server routes on two cores (some
// 45,000 messages a second, im BenchmarkChatMessage). Prosody
// and ejabberd limit bytes rather than stanzas (Prosody's mod_limits, an
// ejabberd shaper); xmppd already bounds a stanza's size (MaxStanzaBytes),
// so counting stanzas bounds the bytes too, and is what costs the server
// work (an append, a routing decision) whatever the size.
const (
	DefaultStanzaRate   = 500
	DefaultStanzaBurst  = 2000
	DefaultFloodTimeout = 10 * time.Minute
)

// errFlood ends a session that kept the stanza rate's bucket empty for
// longer than Config.FloodTimeout (RFC 6120 4.9.3.14 policy-violation).
var errFlood = errors.New("c2s: client kept sending over the stanza rate")

// RateMetrics is an optional ability of Metrics: a Metrics that also
// implements it hears when the stanza rate holds a client back. Like
// Metrics, its methods are called from the sessions' goroutines and must
// be cheap, safe for concurrent use and never block.
type RateMetrics interface {
	// StanzaDelayed counts one stanza whose reading was delayed by wait
	// because its session was over the stanza rate.
	StanzaDelayed(wait time.Duration)
	// FloodCut counts a session closed with <policy-violation/> for
	// sending over the rate for longer than FloodTimeout.
	FloodCut()
}

// stanzaBucket is a session's token bucket: burst stanzas at once, then
// one every 'every'. Only the session's reader goroutine touches it, so it
// has no lock; a stanza that finds a token costs a decrement and no clock
// read (tokens are refilled lazily, when they run out).
//
// It delays rather than refuses: the reader waits before handling the
// stanza, so it reads nothing more from the client, and TCP pushes back
// on a client that sends faster than the rate. Nothing the client sent is
// dropped, which keeps a XEP-0198 client's counts right.
type stanzaBucket struct {
	every  time.Duration // time per token; 0: no limit
	burst  int
	tokens int
	last   time.Time // tokens are counted up to here
	// floodSince is when the bucket last ran dry with the client still
	// sending; it is cleared once the client leaves the bucket to refill
	// by half the burst (at least two tokens) at once, so only a client
	// that stays at or over the rate keeps it. Zero: not flooding.
	floodSince   time.Time
	floodTimeout time.Duration // <= 0: never cut
	metrics      RateMetrics   // nil: not counted
}

// newStanzaBucket returns the bucket of cfg (with defaults applied); a
// negative rate means no limit.
func newStanzaBucket(cfg *Config, m Metrics, now time.Time) stanzaBucket {
	b := stanzaBucket{burst: cfg.StanzaBurst, tokens: cfg.StanzaBurst, last: now, floodTimeout: cfg.FloodTimeout}
	if cfg.StanzaRate > 0 {
		b.every = time.Duration(float64(time.Second) / cfg.StanzaRate)
	}
	b.metrics, _ = m.(RateMetrics)
	return b
}

// take takes a token for one stanza, or returns how long to wait before
// calling take again (the wait is never more than one token's time).
func (b *stanzaBucket) take(now time.Time) time.Duration {
	if b.tokens > 0 {
		b.tokens--
		return 0
	}
	if b.every <= 0 {
		return 0
	}
	if n := now.Sub(b.last) / b.every; n > 0 {
		if n >= time.Duration(b.burst) {
			b.tokens, b.last = b.burst, now
		} else {
			b.tokens += int(n)
			b.last = b.last.Add(n * b.every)
		}
		if n >= max(2, time.Duration(b.burst/2)) {
			b.floodSince = time.Time{}
		}
	}
	if b.tokens > 0 {
		b.tokens--
		return 0
	}
	if b.floodSince.IsZero() {
		b.floodSince = now
	}
	return b.last.Add(b.every).Sub(now)
}

// flooding reports whether the client has kept the bucket from refilling
// for longer than the flood timeout.
func (b *stanzaBucket) flooding(now time.Time) bool {
	return b.floodTimeout > 0 && !b.floodSince.IsZero() && now.Sub(b.floodSince) > b.floodTimeout
}

// throttle holds the reader back until the session may handle one more
// stanza. It returns errFlood, after the wait, if the client has been over
// the rate for longer than the flood timeout: the caller handles the
// stanza it holds and then ends the stream, so nothing read is lost. The
// wait ends early if the server shuts down.
func (s *Session) throttle(c *conn) error {
	b := &s.bucket
	if b.tokens > 0 {
		b.tokens--
		return nil
	}
	now := time.Now()
	wait := b.take(now)
	if wait <= 0 {
		return nil
	}
	var t *time.Timer
	start := now
	for wait > 0 {
		if t == nil {
			t = time.NewTimer(wait)
		} else {
			t.Reset(wait)
		}
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return nil
		}
		now = time.Now()
		wait = b.take(now)
	}
	if b.metrics != nil {
		b.metrics.StanzaDelayed(now.Sub(start))
	}
	if b.flooding(now) {
		if b.metrics != nil {
			b.metrics.FloodCut()
		}
		return errFlood
	}
	return nil
}
