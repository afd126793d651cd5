package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"time"

	"github.com/spf13/cobra"

	"xmppd/adapters/c2s"
	"xmppd/adapters/metrics"
	"xmppd/adapters/store/sqlite"
	"xmppd/domain"
	"xmppd/events"
	"xmppd/im"
	"xmppd/stanza"
)

// version is the software version recorded in server.started events; the
// build may override it with -ldflags "-X main.version=...".
var version = "dev"

func (a *app) serveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the XMPP server",
		Long: `serve runs the XMPP server: client connections on the STARTTLS and direct
TLS ports, every roster, subscription, session and presence change recorded
in the event log. SIGINT or SIGTERM stops it cleanly: every contact is told
its peers went offline, and the log records it.

Before serving it checks its log: one server per log (the embedded store
is locked in <store path>.lock; a second serve exits naming the holder's
pid), a file that is not an xmppd log (empty, not SQLite, another
program's database) is refused, and so is a log whose streams do not end
where the store recorded (an edited last event, a removed tail) unless
--accept-altered-log is given, which records that decision in the log.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context())
		},
	}
	a.cfg.bindServeFlags(cmd.Flags())
	return cmd
}

func (a *app) serve(ctx context.Context) error {
	c, err := a.cfg.load()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if f := a.cfg.ConfigFile(); f != "" {
		log.Info("configuration", "file", f)
	}
	lock, err := lockLog(c)
	if err != nil {
		return err
	}
	defer lock.Release()
	tuneGC(ctx, log)
	cert, err := a.certificate(c, log)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, c, false)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := checkHeads(ctx, c, store, log); err != nil {
		return err
	}
	keys, err := openKeys(c, false)
	if err != nil {
		return err
	}
	defer keys.Close()
	retention, _ := c.Archive.policy(c.Domain) // validated by load
	var m *metrics.Metrics
	var counts c2s.Metrics // stays a nil interface without metrics
	if c.Metrics.Addr != "" {
		m = metrics.New()
		counts = m
		if s, ok := store.(*sqlite.Store); ok {
			s.Observe(m)
		}
	}
	c2sCfg := c2s.Config{
		Domain:               c.Domain,
		StartTLSAddr:         c.C2S.StartTLSAddr,
		DirectTLSAddr:        c.C2S.DirectTLSAddr,
		TLS:                  &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		Features:             streamFeatures(c.Limits.policy()),
		MaxStanzaBytes:       c.C2S.MaxStanzaBytes,
		QueueLen:             c.C2S.QueueLen,
		QueueBytes:           c.C2S.QueueBytes,
		WriteTimeout:         c.C2S.WriteTimeout,
		SendBuffer:           c.C2S.SendBuffer,
		Throttle:             c.Auth.Throttle.c2s(),
		StanzaTimeout:        c2sTimeout(c.C2S.StanzaTimeout),
		ReadTimeout:          c.C2S.IdleTimeout,
		ResumeTimeout:        offIfZero(c.C2S.ResumeTimeout),
		AckTimeout:           offIfZero(c.C2S.AckTimeout),
		RegistrationInterval: offIfZero(c.C2S.RegistrationInterval),
		StanzaRate:           c.Limits.stanzaRate(),
		StanzaBurst:          c.Limits.StanzaBurst,
		FloodTimeout:         c.Limits.floodTimeout(),
	}
	if err := c2sCfg.Validate(); err != nil {
		return usageError{err}
	}
	queue := c2sCfg.WithDefaults()
	addrs := new(stanza.Addresses) // one address cache for the transport and the core
	core, err := im.New(im.Config{
		Domain: c.Domain,
		Node:   c.Node,
		Store:  store,
		Keys:   keys,
		Follow: followLog,
		// The server lock (lockLog) proves no other server uses an
		// embedded log: whatever it shows open is a dead process's.
		SoleServer: lock != nil,
		Addresses:  addrs,
		SendQueue:  im.SendQueue{Bytes: queue.QueueBytes, Len: queue.QueueLen, WriteTimeout: queue.WriteTimeout},
		// server.started's config digest covers the listeners, as before
		// the core and its transport were apart.
		TransportSettings: fmt.Sprintf("starttls=%s\ndirecttls=%s\n", c.C2S.StartTLSAddr, c.C2S.DirectTLSAddr),
		Offline:           offlineLimit(c.Offline),
		Logger:            log,
		Version:           version,
		ScramIterations:   c.Auth.ScramIterations,
		ReportOS:          c.IM.ReportOS,
		MaxStoredXML:      c.IM.MaxStoredXMLBytes,
		PEPMaxNodes:       c.IM.PEPMaxNodes,
		PEPMaxItems:       c.IM.PEPMaxItems,

		AllowAccountRemoval: c.IM.AllowAccountRemoval,
		AllowRegistration:   c.IM.AllowRegistration,
		ArchiveOff:          !c.Archive.Enabled,
		ArchivePolicy:       domain.ArchivePolicy(c.Archive.Policy),

		Policy:       c.Limits.policy(),
		MaxResources: c.Limits.maxResources(),
		Refusals:     c.Auth.RefusalLog.server(),
		Retention:    retention,
	})
	if err != nil {
		return usageError{err}
	}
	clients, err := newC2S(c2sCfg, core, c2s.Deps{Metrics: counts, Logger: log, Addresses: addrs})
	if err != nil {
		return usageError{err}
	}
	if err := clients.Listen(); err != nil {
		return err
	}
	if m != nil {
		stop, err := serveMetrics(c, m, core, clients, store, healthOf(store, keys), log)
		if err != nil {
			return err
		}
		defer stop()
	}
	logStoreHealth(ctx, healthOf(store, keys), log)
	err = runServer(ctx, core, clients, func() {
		log.Info("xmppd ready", "domain", c.Domain, "starttls", clients.StartTLSAddr(), "tls", clients.DirectTLSAddr(), "store", storeName(c))
	})
	if err != nil {
		log.Error("xmppd stopped", "err", err)
		return err
	}
	log.Info("xmppd stopped", "reason", context.Cause(ctx))
	return nil
}

// streamFeatures are the c2s stream features for policy: RFC 6121 3.4.1,
// pre-approval is advertised only if it is supported.
func streamFeatures(policy domain.Policy) []*stanza.Element {
	if policy.Preapproval {
		return nil // c2s's defaults
	}
	var out []*stanza.Element
	for _, f := range c2s.DefaultFeatures() {
		if f.Name.Space != stanza.NSPreApproval {
			out = append(out, f)
		}
	}
	return out
}

// writeHealthReporter is a store that knows whether its commits succeed
// (the SQLite store does).
type writeHealthReporter interface {
	WriteHealth() (ok bool, reason string, since time.Time)
}

// writeHealth is the write health of the log and the key store together:
// a message whose content cannot be sealed is refused as surely as one
// the log cannot take (a full disk reaches the key file first: a month's
// first message for an account makes its key), so the operator hears of
// either as "the store refuses writes".
type writeHealth []writeHealthReporter

// healthOf returns the write health of whichever of parts report it (the
// SQLite store and the key store do), nil if none does.
func healthOf(parts ...any) writeHealth {
	var h writeHealth
	for _, p := range parts {
		if r, ok := p.(writeHealthReporter); ok {
			h = append(h, r)
		}
	}
	return h
}

// WriteHealth is the first failing part's, else ok since the latest
// change of any part.
func (h writeHealth) WriteHealth() (ok bool, reason string, since time.Time) {
	ok = true
	for _, r := range h {
		pok, preason, psince := r.WriteHealth()
		if !pok {
			return false, preason, psince
		}
		if psince.After(since) {
			since = psince
		}
	}
	return ok, "", since
}

// storeHealth samples h for /healthz and the metrics; nil when nothing
// reports it.
func storeHealth(h writeHealth) *metrics.StoreHealth {
	if len(h) == 0 {
		return nil
	}
	writable, reason, since := h.WriteHealth()
	return &metrics.StoreHealth{Writable: writable, Reason: reason, Since: since}
}

// logStoreHealth logs each change of the store's write health (a full
// disk and its end), checking every second until ctx ends, so that the
// server's log says when writes stopped and resumed even with no metrics
// listener.
func logStoreHealth(ctx context.Context, r writeHealth, log *slog.Logger) {
	if len(r) == 0 {
		return
	}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		was, _, last := r.WriteHealth()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			ok, reason, since := r.WriteHealth()
			switch {
			case !ok && (was || !since.Equal(last)):
				log.Error("store refuses writes: messages for offline users are bounced, other changes refused, /healthz is 503", "since", since, "reason", reason)
			case ok && !was:
				log.Info("store takes writes again", "since", since)
			case ok && !since.Equal(last):
				// Failed and recovered between two looks.
				log.Warn("store refused writes for less than a second; it takes writes again", "since", since)
			}
			was, last = ok, since
		}
	}()
}

// serveMetrics starts /metrics, /healthz and (if configured) the
// profiles on metrics.addr, before Run, so that /healthz answers 503
// while the views are rebuilt. stop shuts the listener down once Run has
// returned.
func serveMetrics(c *Config, m *metrics.Metrics, core *im.Core, clients *c2s.Server, store events.Store, health writeHealth, log *slog.Logger) (stop func(), err error) {
	status := func() metrics.Status {
		st, cs := core.Status(), clients.Stats()
		return metrics.Status{
			Running: st.Running, ViewsAlive: st.ViewsAlive, Applied: st.Applied, Sessions: cs.Sessions,
			QueuedStanzas: cs.Queued, QueuedCommands: st.QueuedCommands,
			Suspended: cs.Suspended, Unacked: cs.Unacked, Resumed: cs.Resumed, ResumeFailed: cs.ResumeFailed, Expired: cs.Expired,
			Store: storeHealth(health),
		}
	}
	var head metrics.HeadFunc
	if h, ok := store.(events.HeadReader); ok {
		head = h.Head
	}
	m.Watch(status, head)
	ms, err := metrics.Listen(c.Metrics.Addr, m.Handler(status, metrics.Options{Pprof: c.Metrics.Pprof}))
	if err != nil {
		return nil, err
	}
	log.Info("metrics listening", "addr", ms.Addr().String(), "pprof", c.Metrics.Pprof)
	return func() {
		// The server has stopped: a scrape in flight gets a moment, an
		// idle scraper's connection none.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := ms.Shutdown(ctx); err != nil {
			log.Warn("metrics: shutdown", "err", err)
		}
	}, nil
}

// certificate loads the configured certificate, or the self-signed one
// kept in the data directory (made on first start, with a warning).
func (a *app) certificate(c *Config, log *slog.Logger) (tls.Certificate, error) {
	if c.TLS.Cert != "" {
		cert, err := tls.LoadX509KeyPair(c.TLS.Cert, c.TLS.Key)
		if err != nil {
			return cert, usagef("tls: %v", err)
		}
		return cert, nil
	}
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return tls.Certificate{}, fmt.Errorf("create data directory: %w", err)
	}
	cert, created, err := c2s.LoadOrCreateCert(c.DataDir, c.Domain)
	if err != nil {
		return cert, err
	}
	if created {
		log.Warn("made a self-signed certificate; clients will not trust it until you configure tls.cert and tls.key", "dir", c.DataDir, "domain", c.Domain)
	}
	return cert, nil
}

// offlineLimit turns the configuration's 0 (no limit) into the domain's
// negative, since the server takes a zero OfflineLimit as its default.
func offlineLimit(c OfflineConf) domain.OfflineLimit {
	l := domain.OfflineLimit{Messages: c.MaxMessages, Bytes: c.MaxBytes}
	if l.Messages == 0 {
		l.Messages = -1
	}
	if l.Bytes == 0 {
		l.Bytes = -1
	}
	return l
}

func storeName(c *Config) string {
	if c.Store.Kind == "esdb" {
		return c.Store.URL
	}
	return c.Store.Path
}

// The garbage collector's target for the server. While the live heap is
// small (a busy server with few sessions: each idle session holds no
// buffers) the collector would run constantly at Go's default of 100; on
// 2 cores 200 measured 913 against 740 logins/s and 124k against 104k chat
// messages/s. Once the live heap is large (many sessions held open) the
// extra headroom would only cost memory (53 KiB per idle TLS session at
// 200, 36 at 100), so the target goes back to 100. GOGC, when set, wins.
const (
	gcPercentSmallHeap = 200
	gcPercentLargeHeap = 100
	gcLargeHeap        = 64 << 20 // live heap bytes
)

// gcPercentBatch is the collector's target for the commands that read the
// log and exit (verify, replay, audit, export). Their live heap is the
// views they rebuild, which the collector would otherwise trace each time
// the heap doubled: on the million-event benchmark log `verify` took
// 1.47-1.83 s at 400 against 1.87-2.25 s at 100, for 1-6% more resident
// memory. GOGC, when set, wins.
const gcPercentBatch = 400

// batchGC sets the collector's target for a command that reads the log.
func batchGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercentBatch)
	}
}

// tuneGC sets the collector's target from the live heap every second
// until ctx ends.
func tuneGC(ctx context.Context, log *slog.Logger) {
	if os.Getenv("GOGC") != "" {
		return
	}
	cur := gcPercentSmallHeap
	debug.SetGCPercent(cur)
	sample := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			rtmetrics.Read(sample)
			want := gcPercentSmallHeap
			if sample[0].Value.Kind() == rtmetrics.KindUint64 && sample[0].Value.Uint64() > gcLargeHeap {
				want = gcPercentLargeHeap
			}
			if want != cur {
				debug.SetGCPercent(want)
				cur = want
				log.Debug("garbage collector", "gogc", want)
			}
		}
	}()
}

// c2sTimeout maps a configured timeout, where 0 means off, to c2s's
// convention, where 0 means the default and a negative value off.
func c2sTimeout(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// offIfZero is a c2s.* duration where 0 means off as c2s.Config takes
// it (negative there; zero is its default).
func offIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
