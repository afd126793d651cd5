package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// headTimeout bounds the log head query of one scrape.
const headTimeout = 2 * time.Second

var (
	descUp = prometheus.NewDesc("xmppd_up",
		"1 while the server serves clients, its views follow the log and its store commits writes (as /healthz), else 0.", nil, nil)
	descSessions = prometheus.NewDesc("xmppd_c2s_sessions",
		"Bound client sessions.", nil, nil)
	descQueuedStanzas = prometheus.NewDesc("xmppd_c2s_queued_stanzas",
		"Stanzas waiting in the sessions' output queues, all sessions together.", nil, nil)
	descQueuedCommands = prometheus.NewDesc("xmppd_actor_queued_commands",
		"Commands waiting on account actors, all accounts together.", nil, nil)
	descSuspended = prometheus.NewDesc("xmppd_c2s_sessions_suspended",
		"Sessions whose connection was lost and that wait to be resumed (XEP-0198); not counted in xmppd_c2s_sessions.", nil, nil)
	descUnacked = prometheus.NewDesc("xmppd_c2s_unacked_stanzas",
		"Stanzas written to clients with stream management and not yet acknowledged, all sessions together.", nil, nil)
	descResumptions = prometheus.NewDesc("xmppd_c2s_resumptions_total",
		"XEP-0198 resumptions by outcome: resumed, failed (unknown, expired or another user's id), expired (a suspended session not resumed in time).", []string{"outcome"}, nil)
	descApplied = prometheus.NewDesc("xmppd_views_applied_position",
		"Log position the views have applied.", nil, nil)
	descWritable = prometheus.NewDesc("xmppd_store_writable",
		"1 while the event store commits writes, 0 from a failed write transaction until one succeeds (an append or the store's probe); absent when the store does not report it.", nil, nil)
	descLag = prometheus.NewDesc("xmppd_views_lag_events",
		"Events committed to the log that the views have not applied yet (log head minus applied position).", nil, nil)
)

// statusCollector samples the server once per scrape.
type statusCollector struct {
	status StatusFunc
	head   HeadFunc
}

func (c *statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descSessions, descQueuedStanzas, descQueuedCommands, descApplied, descSuspended, descUnacked, descResumptions} {
		ch <- d
	}
	ch <- descWritable
	if c.head != nil {
		ch <- descLag
	}
}

func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.status()
	up := 0.0
	if healthy(st) {
		up = 1
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	gauge(descUp, up)
	gauge(descSessions, float64(st.Sessions))
	gauge(descQueuedStanzas, float64(st.QueuedStanzas))
	gauge(descQueuedCommands, float64(st.QueuedCommands))
	gauge(descApplied, float64(st.Applied))
	gauge(descSuspended, float64(st.Suspended))
	gauge(descUnacked, float64(st.Unacked))
	for outcome, n := range map[string]uint64{"resumed": st.Resumed, "failed": st.ResumeFailed, "expired": st.Expired} {
		ch <- prometheus.MustNewConstMetric(descResumptions, prometheus.CounterValue, float64(n), outcome)
	}
	if st.Store != nil {
		writable := 0.0
		if st.Store.Writable {
			writable = 1
		}
		gauge(descWritable, writable)
	}
	if c.head == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), headTimeout)
	defer cancel()
	// Applied was read first, so a commit in between only overstates
	// the lag by what it added; never below zero.
	head, err := c.head(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descLag, err)
		return
	}
	lag := 0.0
	if head > st.Applied {
		lag = float64(head - st.Applied)
	}
	gauge(descLag, lag)
}

func healthy(st Status) bool {
	return st.Running && st.ViewsAlive && (st.Store == nil || st.Store.Writable)
}
