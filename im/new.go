package im

import (
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"xmppd/projections"
	"xmppd/router"
	"xmppd/stanza"
)

// Core is the IM core: the use cases of RFC 6121 over the event log, and
// the routing of their stanzas to the sessions transports bind. Create it
// with New; cmd/xmppd runs its lifecycle (Start, the transports, Stop).
type Core struct {
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	addrs *stanza.Addresses
	// carbonsOn counts the sessions with XEP-0280 carbons on (carbons.go).
	carbonsOn atomic.Int64

	views    *projections.Views
	consumer Follower // the views' reader of the log; WaitFor gives read-your-writes
	vers     *versions
	heads    *logHead // nil if the store cannot say where its log ends (credentials.go)
	actors   *actors
	reg      *router.Registry[*session]
	ends     *pendingEnds // session ends the store refused (ends.go)
	refusals *refusalBook // refused logins not yet recorded (authrefusals.go)
	rosters  rosterCache  // complete rosters as rendered, by version (roster_cache.go)
	caps     capsCache    // XEP-0115 features by caps hash (pep_caps.go)
	// archived is the highest log position of an archived message
	// (archive.go): a MAM query waits for the views to reach it.
	archived atomic.Uint64
	pipes    *pipes         // stanzas waiting behind a message being archived (archive_order.go)
	archives *archiveWriter // appends to archive streams, in order (archive_writer.go)

	stopping atomic.Bool // set when shutdown begins: Ended waits for the broadcasts

	mu      sync.Mutex // guards started
	started bool
	upSince time.Time     // when New made the core: XEP-0012 server uptime (serverinfo.go)
	ready   chan struct{} // closed once Start has recovered
	life    lifetime      // what Start started, for Stop
}

// Compile-time checks: Core is what transports hand sessions and failed
// logins to.
var (
	_ router.Core         = (*Core)(nil)
	_ router.AuthObserver = (*Core)(nil)
)

// New checks cfg and returns a Core that has not started.
func New(cfg Config) (*Core, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Core{
		cfg:   cfg,
		log:   cfg.Logger,
		now:   cfg.Clock,
		addrs: cfg.Addresses,
		views: projections.NewViews(cfg.Policy),
		vers:  newVersions(cfg.Store),
		heads: newLogHead(cfg.Store, loginCatchUp),
		reg:   router.NewRegistry[*session](),
		ends:  newPendingEnds(),
		ready: make(chan struct{}),

		upSince: cfg.Clock(),

		refusals: newRefusalBook(cfg.Refusals),
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Keys != nil {
		s.views.OpenWith(cfg.Keys)
	}
	s.views.LoadArchivesLazily(cfg.Store)
	if s.addrs == nil {
		s.addrs = new(stanza.Addresses)
	}
	s.actors = newActors(s.log)
	s.pipes = newPipes(s.actors)
	s.archives = newArchiveWriter(s)
	return s, nil
}

// Views returns the views the core routes from (for tests and tools).
func (s *Core) Views() *projections.Views { return s.views }

// Ready is closed once Start has recovered: the core takes sessions.
func (s *Core) Ready() <-chan struct{} { return s.ready }

// ServerFeatures are the disco#info features of the server itself that
// the core provides, for the transport that answers disco#info to the
// domain: XEP-0160 section 5's "msgoffline" (offline.go), XEP-0030's
// items (answered by clientIQ), XEP-0280 carbons (carbons.go), XEP-0191
// blocking (blocking.go), and the server information and storage IQs
// (serverinfo.go, storage.go, register.go, lastactivity.go), and the
// XEP-0060 features of every account's PEP service (pep.go).
func ServerFeatures() []string {
	fs := append([]string{stanza.NSMsgOffline, stanza.NSDiscoItems, stanza.NSCarbons, stanza.NSBlocking}, append(serverInfoFeatures, storageFeatures...)...)
	return append(fs, pepFeatures...)
}
