package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Status is the server's state at one instant, as a StatusFunc reports
// it at each scrape and health check.
type Status struct {
	Running        bool   // serving clients, not shutting down
	ViewsAlive     bool   // the views' consumer follows the log
	Applied        uint64 // log position the views have applied
	Sessions       int    // bound client streams
	QueuedStanzas  int    // stanzas waiting in the sessions' output queues
	QueuedCommands int    // commands waiting on account actors
	// XEP-0198: sessions waiting to be resumed, stanzas not yet
	// acknowledged, and resumptions, refused resumptions and suspensions
	// that ran out, since start.
	Suspended, Unacked             int
	Resumed, ResumeFailed, Expired uint64

	// Store is the event store's write health; nil when the store does
	// not report it.
	Store *StoreHealth
}

// StoreHealth says whether the event store commits writes.
type StoreHealth struct {
	Writable bool      // its last write transaction committed
	Reason   string    // why not, in the store's words ("database or disk is full")
	Since    time.Time // when the current state began
}

// StatusFunc samples the server. It is called from HTTP handlers, so it
// must be safe from any goroutine and quick.
type StatusFunc func() Status

// HeadFunc returns the position of the last event committed to the log.
type HeadFunc func(ctx context.Context) (uint64, error)

// The stanza kinds and SASL mechanisms counted; anything else is not a
// label value (c2s reports unknown mechanisms as "other").
var (
	kinds      = []string{"message", "presence", "iq"}
	mechanisms = []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "other"}
	// throttleDecisions are the failed-login throttle's decisions that
	// change an answer (events.ThrottleDelayed, events.ThrottleRefused).
	throttleDecisions = []string{"delayed", "refused"}
)

// Metrics holds xmppd's metrics in its own registry. Its counting methods
// are safe for concurrent use and cost one atomic operation each; create
// it with New, hand it to c2s (as c2s.Metrics) and to the SQLite store
// (as sqlite.Observer), then call Watch once the server exists.
type Metrics struct {
	reg *prometheus.Registry

	stanzasIn, stanzasOut [3]prometheus.Counter // by kinds' index
	authFailures          *prometheus.CounterVec
	authThrottled         *prometheus.CounterVec
	delayed, flooders     prometheus.Counter
	delaySeconds          prometheus.Counter
	appendSeconds         prometheus.Histogram
	commitEvents          prometheus.Histogram
	commitSeconds         prometheus.Histogram
	writeFailures         prometheus.Counter
}

// New returns Metrics with the counters and histograms registered, and
// Go's runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	in := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "xmppd_c2s_stanzas_in_total",
		Help: "Stanzas received from bound clients, by kind (message, presence, iq).",
	}, []string{"kind"})
	out := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "xmppd_c2s_stanzas_out_total",
		Help: "Stanzas queued for bound clients, by kind (message, presence, iq).",
	}, []string{"kind"})
	for i, k := range kinds {
		m.stanzasIn[i] = in.WithLabelValues(k)
		m.stanzasOut[i] = out.WithLabelValues(k)
	}
	m.authFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "xmppd_c2s_auth_failures_total",
		Help: "Failed SASL exchanges, by mechanism (unknown mechanisms as other).",
	}, []string{"mechanism"})
	for _, mech := range mechanisms {
		m.authFailures.WithLabelValues(mech)
	}
	m.authThrottled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "xmppd_auth_throttled_total",
		Help: "Login attempts the failed-login throttle answered late (decision delayed) or refused without checking the password (decision refused).",
	}, []string{"decision"})
	for _, d := range throttleDecisions {
		m.authThrottled.WithLabelValues(d)
	}
	m.delayed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "xmppd_c2s_stanzas_delayed_total",
		Help: "Stanzas whose reading was delayed because their session was over the stanza rate (limits.stanza_rate).",
	})
	m.delaySeconds = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "xmppd_c2s_stanza_delay_seconds_total",
		Help: "Time sessions over the stanza rate were held back, summed.",
	})
	m.flooders = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "xmppd_c2s_flood_disconnects_total",
		Help: "Sessions closed with policy-violation for staying over the stanza rate longer than limits.flood_timeout.",
	})
	latency := prometheus.ExponentialBuckets(0.0005, 2, 14) // 0.5ms to ~4s
	m.appendSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "xmppd_store_append_seconds",
		Help:    "Time an append waited until its events were durable (queueing and group commit).",
		Buckets: latency,
	})
	m.commitEvents = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "xmppd_store_commit_events",
		Help:    "Events written per group commit.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 13), // 1 to 4096, the default batch cap
	})
	m.commitSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "xmppd_store_commit_seconds",
		Help:    "Duration of one group commit, BEGIN to durable COMMIT.",
		Buckets: latency,
	})
	m.writeFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "xmppd_store_write_failures_total",
		Help: "Write transactions the store failed to commit (a batch of appends, or indexing the log's tail; not its health probes).",
	})
	m.reg.MustRegister(in, out, m.authFailures, m.authThrottled, m.appendSeconds, m.commitEvents, m.commitSeconds, m.writeFailures, m.delayed, m.delaySeconds, m.flooders,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry is where the metrics are registered, for tests and for callers
// that add their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Watch registers the gauges sampled from status at each scrape and, if
// head is not nil, the views' lag behind the log. Call it once.
func (m *Metrics) Watch(status StatusFunc, head HeadFunc) {
	m.reg.MustRegister(&statusCollector{status: status, head: head})
}

// StanzaIn counts a stanza from a client (c2s.Metrics).
func (m *Metrics) StanzaIn(kind string) {
	if i := kindIndex(kind); i >= 0 {
		m.stanzasIn[i].Inc()
	}
}

// StanzaOut counts a stanza queued for a client (c2s.Metrics).
func (m *Metrics) StanzaOut(kind string) {
	if i := kindIndex(kind); i >= 0 {
		m.stanzasOut[i].Inc()
	}
}

// AuthFailed counts a failed SASL exchange (c2s.Metrics).
func (m *Metrics) AuthFailed(mechanism string) {
	for _, known := range mechanisms {
		if mechanism == known {
			m.authFailures.WithLabelValues(mechanism).Inc()
			return
		}
	}
	m.authFailures.WithLabelValues("other").Inc()
}

// AuthThrottled counts a decision of the failed-login throttle
// (c2s.ThrottleMetrics); an unknown decision is not a label value.
func (m *Metrics) AuthThrottled(decision string) {
	for _, known := range throttleDecisions {
		if decision == known {
			m.authThrottled.WithLabelValues(decision).Inc()
			return
		}
	}
}

// StanzaDelayed counts a stanza held back by the stanza rate
// (c2s.RateMetrics).
func (m *Metrics) StanzaDelayed(wait time.Duration) {
	m.delayed.Inc()
	m.delaySeconds.Add(wait.Seconds())
}

// FloodCut counts a session closed for flooding (c2s.RateMetrics).
func (m *Metrics) FloodCut() { m.flooders.Inc() }

// Appended observes one durable append's wait (sqlite.Observer).
func (m *Metrics) Appended(waited time.Duration) {
	m.appendSeconds.Observe(waited.Seconds())
}

// Committed observes one group commit (sqlite.Observer).
func (m *Metrics) Committed(events int, took time.Duration) {
	m.commitEvents.Observe(float64(events))
	m.commitSeconds.Observe(took.Seconds())
}

// CommitFailed counts one write transaction the store failed to commit
// (sqlite.FailureObserver).
func (m *Metrics) CommitFailed() { m.writeFailures.Inc() }

func kindIndex(kind string) int {
	switch kind {
	case "message":
		return 0
	case "presence":
		return 1
	case "iq":
		return 2
	}
	return -1
}
