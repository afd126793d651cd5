package c2s

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"
	"xmppd/router"
	"xmppd/stanza"

	"xmppd/domain"
	"xmppd/events"
)

// Deps are what a Server consumes. Core and Credentials are required.
type Deps struct {
	Core        router.Core
	Credentials Credentials
	// Observer hears failed logins; nil: none.
	Observer router.AuthObserver
	// Metrics counts stanzas and failed logins; nil: none.
	Metrics Metrics
	// Throttle; nil: a MemoryThrottle with Config.Throttle.
	Throttle Throttle
	// Logger; nil: discard.
	Logger *slog.Logger
	// Now is the clock for deadlines; nil: time.Now.
	Now func() time.Time
	// Registrar, if not nil, creates accounts by XEP-0077 in-band
	// registration (register.go); nil: not offered.
	Registrar router.Registrar
	// Addresses parses the 'to' of every stanza; nil: a cache of its own.
	// Give the core the same one, so an address is normalised once.
	Addresses *stanza.Addresses
}

// Server accepts client connections on the configured addresses.
type Server struct {
	cfg      Config
	tls      *tls.Config
	core     router.Core
	creds    Credentials
	observer router.AuthObserver
	metrics  Metrics
	tmetrics ThrottleMetrics
	throttle Throttle
	log      *slog.Logger
	now      func() time.Time
	addrs    *stanza.Addresses
	// spareWriters hands a session that needs a writer to a writer
	// goroutine that lingers after its own session's output ran out.
	spareWriters  chan *Session
	secret        []byte     // keys the made-up SCRAM salts of unknown accounts
	sm            smRegistry // resumable sessions (XEP-0198, sm.go)
	smCounts      smCounters
	registrar     router.Registrar
	registrations registrationGate
	features      [numFeatureStages][]byte
	disco         *stanza.Element // the server's disco#info <query/> (disco.go)
	capsNodeVer   string          // XEP-0115 node#ver of disco

	baseCtx context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu         sync.Mutex // guards everything below
	listeners  []net.Listener
	startAddr  net.Addr
	directAddr net.Addr
	conns      map[*conn]*Session // nil value: still negotiating
	shutting   bool
	stopped    chan struct{} // closed by Shutdown
}

// New checks cfg and returns a Server that has not started listening.
func New(cfg Config, deps Deps) (*Server, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if deps.Core == nil {
		errs = append(errs, errors.New("c2s: no Core"))
	}
	if deps.Credentials == nil {
		errs = append(errs, errors.New("c2s: no Credentials"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	s := &Server{
		cfg:       cfg,
		core:      deps.Core,
		creds:     deps.Credentials,
		observer:  deps.Observer,
		metrics:   deps.Metrics,
		throttle:  deps.Throttle,
		log:       deps.Logger,
		now:       deps.Now,
		addrs:     deps.Addresses,
		registrar: deps.Registrar,

		spareWriters: make(chan *Session),
		conns:        make(map[*conn]*Session),
		stopped:      make(chan struct{}),
	}
	if s.addrs == nil {
		s.addrs = new(stanza.Addresses)
	}
	if s.observer == nil {
		s.observer = nopObserver{}
	}
	if s.metrics == nil {
		s.metrics = nopMetrics{}
	}
	s.tmetrics, _ = s.metrics.(ThrottleMetrics)
	if s.tmetrics == nil {
		s.tmetrics = nopMetrics{}
	}
	if s.throttle == nil {
		th := cfg.Throttle
		if th.Now == nil {
			th.Now = deps.Now
		}
		s.throttle = NewMemoryThrottle(th)
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.tls = cfg.TLS.Clone()
	if s.tls.MinVersion < tls.VersionTLS12 {
		// RFC 9325 section 3.1.1: nothing older than TLS 1.2.
		s.tls.MinVersion = tls.VersionTLS12
	}
	s.disco = discoQuery(&s.cfg)
	caps, nodeVer := capsFeature(s.disco)
	s.capsNodeVer = nodeVer
	s.features = encodeFeatures(append(slices.Clip(s.cfg.Features), caps), s.registrar != nil)
	s.secret = make([]byte, 32)
	rand.Read(s.secret)
	s.baseCtx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// scramKeys returns the stored keys of user for mech; for an unknown user
// (or one without that mechanism) made-up keys that no proof matches,
// derived from the server secret so they are the same on each attempt.
func (s *Server) scramKeys(ctx context.Context, user, mech string) (events.ScramKeys, bool, error) {
	set, ok, err := s.creds.Credentials(ctx, user)
	if err != nil {
		return events.ScramKeys{}, false, fmt.Errorf("c2s: credentials of %q: %w", user, err)
	}
	if ok {
		if k, found := domain.FindScram(set, mech); found {
			return k, true, nil
		}
	}
	h := domain.ScramHash(mech)
	salt := domain.HMAC(sha256.New, s.secret, []byte("salt\x00"+mech+"\x00"+user))[:16]
	return events.ScramKeys{
		Mechanism:  mech,
		Salt:       salt,
		Iterations: domain.MinScramIterations,
		StoredKey:  domain.HMAC(h, s.secret, []byte("stored\x00"+mech+"\x00"+user)),
		ServerKey:  domain.HMAC(h, s.secret, []byte("server\x00"+mech+"\x00"+user)),
	}, false, nil
}

type nopObserver struct{}

func (nopObserver) AuthFailed(context.Context, router.AuthFailure) {}
