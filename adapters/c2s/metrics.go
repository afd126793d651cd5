package c2s

import "sync/atomic"

// Metrics hears what the client streams count. Its methods are called on
// every stanza, from the sessions' goroutines: they must be cheap, safe
// for concurrent use and never block. Kinds are "message", "presence" and
// "iq"; mechanisms are the advertised SASL names or "other", so neither
// can grow without bound.
type Metrics interface {
	// StanzaIn counts a stanza received from a bound client.
	StanzaIn(kind string)
	// StanzaOut counts a stanza queued for a bound client.
	StanzaOut(kind string)
	// AuthFailed counts a failed SASL exchange.
	AuthFailed(mechanism string)
}

// ThrottleMetrics is what a Metrics may also count: each decision of the
// failed-login throttle that changed how an attempt was answered,
// "delayed" or "refused". Found by type assertion; same rules as Metrics.
type ThrottleMetrics interface {
	AuthThrottled(decision string)
}

type nopMetrics struct{}

func (nopMetrics) AuthThrottled(string) {}

func (nopMetrics) StanzaIn(string)   {}
func (nopMetrics) StanzaOut(string)  {}
func (nopMetrics) AuthFailed(string) {}

// mechanismLabel is name if the server offers it, else "other": a client
// chooses the name, and must not choose the metric's label values.
func mechanismLabel(name string) string {
	for _, m := range mechanisms {
		if name == m {
			return m
		}
	}
	return "other"
}

// Stats are the client streams' gauges at one instant.
type Stats struct {
	// Sessions is how many streams are bound (including those closing).
	Sessions int
	// Queued is how many stanzas wait in the sessions' output queues.
	Queued int
	// Suspended is how many sessions lost their connection and wait to
	// be resumed (XEP-0198); they are not in Sessions. Unacked is how
	// many stanzas all sessions together hold until their clients
	// acknowledge them.
	Suspended, Unacked int
	// Resumed and ResumeFailed count resumptions since start, and those
	// refused (unknown or expired id, another user's); Expired counts
	// suspended sessions that ended without being resumed.
	Resumed, ResumeFailed, Expired uint64
}

// Stats counts the bound sessions and their queued output, and the
// suspended ones. It is meant for a metrics scrape: it takes the
// server's lock once, and each resumable session's once.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	var st Stats
	for _, sess := range s.conns {
		if sess != nil {
			st.Sessions++
			st.Queued += int(sess.queued.Load())
		}
	}
	s.mu.Unlock()
	for _, sess := range s.sm.all() {
		sess.mu.Lock()
		if sess.detached && !sess.closing {
			st.Suspended++
			st.Queued += len(sess.queue)
		}
		if sess.sm != nil {
			st.Unacked += len(sess.sm.unacked)
		}
		sess.mu.Unlock()
	}
	st.Resumed, st.ResumeFailed, st.Expired = s.smCounts.resumed.Load(), s.smCounts.failed.Load(), s.smCounts.expired.Load()
	return st
}

// smCounters count XEP-0198 outcomes for Stats.
type smCounters struct {
	resumed, failed, expired atomic.Uint64
}
