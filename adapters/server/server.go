package server

import (
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"xmppd/adapters/bus"
	"xmppd/adapters/c2s"
	"xmppd/projections"
)

// Server is the IM core and the client listeners it serves. Create it with
// New and run it once with Run.
type Server struct {
	cfg Config
	log *slog.Logger
	now func() time.Time

	views    *projections.Views
	bus      *bus.Bus
	consumer *bus.Consumer // the views' consumer; WaitFor gives read-your-writes
	vers     *versions
	heads    *logHead // nil if the store cannot say where its log ends (credentials.go)
	actors   *actors
	reg      *registry
	ends     *pendingEnds // session ends the store refused (ends.go)
	refusals *refusalBook // refused logins not yet recorded (authrefusals.go)
	c2s      *c2s.Server

	stopping atomic.Bool // set when shutdown begins: Ended waits for the broadcasts

	mu      sync.Mutex // guards started
	started bool
	ready   chan struct{} // closed once Run listens for clients
}

// Compile-time checks: Server is the c2s core and hears failed logins.
var (
	_ c2s.Core         = (*Server)(nil)
	_ c2s.AuthObserver = (*Server)(nil)
)

// New checks cfg and returns a Server that is not yet listening.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:   cfg,
		log:   cfg.Logger,
		now:   cfg.Clock,
		views: projections.NewViews(cfg.Policy),
		vers:  newVersions(cfg.Store),
		heads: newLogHead(cfg.Store, loginCatchUp),
		reg:   newRegistry(),
		ends:  newPendingEnds(),
		ready: make(chan struct{}),

		refusals: newRefusalBook(cfg.Refusals),
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.actors = newActors(s.log)
	// XEP-0160 section 5: a server that stores messages for offline users
	// advertises "msgoffline" (offline.go); disco#items to the domain is
	// answered by clientIQ.
	cfg.C2S.ServerFeatures = append(slices.Clip(cfg.C2S.ServerFeatures), nsMsgOffline, nsDiscoItems)
	srv, err := c2s.New(cfg.C2S, c2s.Deps{Core: s, Credentials: credentials{s}, Observer: s, Metrics: cfg.Metrics, Logger: s.log, Now: cfg.Clock})
	if err != nil {
		return nil, err
	}
	s.c2s = srv
	return s, nil
}

// Views returns the views the server routes from (for tests and tools).
func (s *Server) Views() *projections.Views { return s.views }

// Addrs returns the bound client listener addresses: STARTTLS first, then
// direct TLS, each only if configured. Valid once Run has started
// listening (see Ready).
func (s *Server) Addrs() []net.Addr {
	var out []net.Addr
	if a := s.c2s.StartTLSAddr(); a != nil {
		out = append(out, a)
	}
	if a := s.c2s.DirectTLSAddr(); a != nil {
		out = append(out, a)
	}
	return out
}

// StartTLSAddr and DirectTLSAddr are the bound addresses, or nil.
func (s *Server) StartTLSAddr() net.Addr  { return s.c2s.StartTLSAddr() }
func (s *Server) DirectTLSAddr() net.Addr { return s.c2s.DirectTLSAddr() }

// Ready is closed once Run has recovered and listens for clients.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Listen binds the client listeners, so that Addrs is known before Run
// (tests on port 0). Run calls it if needed.
func (s *Server) Listen() error { return s.c2s.Listen() }
