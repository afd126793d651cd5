package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Namespaces the client writes.
const (
	nsTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSession = "urn:ietf:params:xml:ns:xmpp-session"
	nsRoster  = "jabber:iq:roster"
)

// clientConfig is what every virtual user shares. It is read-only once a
// run starts, except used, which is atomic.
type clientConfig struct {
	addr, domain string
	mech         string // "auto", "SCRAM-SHA-256", "SCRAM-SHA-1" or "PLAIN"
	startTLS     bool   // negotiate STARTTLS (refuse a server that does not offer it)
	insecure     bool   // accept any certificate: test servers use self-signed ones
	timeout      time.Duration
	dialer       *net.Dialer
	used         atomic.Pointer[string] // the mechanism a login last negotiated, for the report
}

// loginSteps says how far a login goes past bind.
type loginSteps struct {
	roster   bool // fetch the roster
	presence bool // send initial presence
	// sync waits for the answer to a ping after the presence. Servers
	// handle one stream's stanzas in order, so once it arrives the
	// session is available: a message sent to it will not bounce.
	sync bool
	// phases, if not nil, receives when each step of the login ended,
	// for a breakdown of its latency.
	phases *loginPhases
	// sm enables XEP-0198 after the steps above, with resumption if
	// resume; carbons then enables XEP-0280 carbons.
	sm, resume, carbons bool
}

// loginPhases is when each step of one login ended. A step that did not
// run is zero.
type loginPhases struct {
	start, tls, auth, bind, roster time.Time
}

// session is one authenticated client stream. Its reader is owned by one
// goroutine (the login, then the scenario's read loop); writes may come
// from several goroutines and are serialized by wmu.
type session struct {
	conn net.Conn
	raw  net.Conn // the TCP connection under TLS, to cut it the way a network fails
	r    *elemReader
	jid  string // full JID the server bound
	// sm is the stream management state once enabled (see sm.go); set
	// before the scenario's goroutines start, never changed after.
	sm  *smState
	wmu sync.Mutex
	// closing is set when the benchmark ends the session, so the read
	// loop takes the failed read that follows for the end it is.
	closing atomic.Bool
}

// phaseError records which step of a login or scenario failed, so the
// report can count errors by kind.
type phaseError struct {
	phase string
	err   error
}

func (e *phaseError) Error() string { return "xmppbench: " + e.phase + ": " + e.err.Error() }
func (e *phaseError) Unwrap() error { return e.err }

func failed(phase string, err error) error { return &phaseError{phase: phase, err: err} }

// errorPhase returns the phase of err, or "other".
func errorPhase(err error) string {
	if pe, ok := errors.AsType[*phaseError](err); ok {
		return pe.phase
	}
	return "other"
}

// login connects and authenticates user, binds resource, and optionally
// fetches the roster and sends initial presence. The whole login must
// finish within cfg.timeout (or ctx's deadline, if sooner).
func login(ctx context.Context, cfg *clientConfig, user, password, resource string, steps loginSteps) (*session, error) {
	deadline := time.Now().Add(cfg.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if steps.phases != nil {
		steps.phases.start = time.Now()
	}
	conn, err := cfg.dialer.DialContext(dctx, "tcp", cfg.addr)
	if err != nil {
		return nil, failed("dial", err)
	}
	s := &session{conn: conn, raw: conn, r: newElemReader(conn)}
	if err := s.negotiate(dctx, cfg, deadline, user, password, resource, steps); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

func (s *session) negotiate(ctx context.Context, cfg *clientConfig, deadline time.Time, user, password, resource string, steps loginSteps) error {
	feats, err := s.authenticated(ctx, cfg, deadline, user, password, steps.phases)
	if err != nil {
		return err
	}
	ph := steps.phases
	// feats aliases the reader's buffer: what it says must be read before
	// the next element.
	smOffered := feats.hasChild("sm") && bytes.Contains(feats.raw, []byte(nsSM))
	if err := s.bind(feats, resource); err != nil {
		return err
	}
	if ph != nil {
		ph.bind = time.Now()
	}
	if steps.roster {
		if _, err := s.rosterGet("r0"); err != nil {
			return err
		}
		if ph != nil {
			ph.roster = time.Now()
		}
	}
	if steps.presence {
		if err := s.send("<presence/>"); err != nil {
			return failed("presence", err)
		}
	}
	if steps.sync {
		if err := s.send("<iq type='get' id='p0'><ping xmlns='urn:xmpp:ping'/></iq>"); err != nil {
			return failed("presence", err)
		}
		// An error reply (a server without XEP-0199) syncs just as well.
		if _, err := s.awaitIQ("p0"); err != nil && !errors.Is(err, errIQReply) {
			return failed("presence", err)
		}
	}
	if steps.sm {
		if err := s.enableSM(smOffered, steps.resume); err != nil {
			return err
		}
	}
	if steps.carbons {
		if err := s.enableCarbons(); err != nil {
			return err
		}
	}
	return s.conn.SetDeadline(time.Time{})
}

// authenticated takes a new connection through STARTTLS (if configured)
// and SASL to the restarted stream, and returns its features: what comes
// next is binding a resource, or resuming a session.
func (s *session) authenticated(ctx context.Context, cfg *clientConfig, deadline time.Time, user, password string, ph *loginPhases) (elem, error) {
	if err := s.conn.SetDeadline(deadline); err != nil {
		return elem{}, failed("dial", err)
	}
	feats, err := s.openStream(cfg.domain)
	if err != nil {
		return elem{}, err
	}
	if cfg.startTLS {
		if !feats.hasChild("starttls") {
			return elem{}, failed("tls", errors.New("server does not offer STARTTLS"))
		}
		if feats, err = s.startTLS(ctx, cfg); err != nil {
			return elem{}, err
		}
	}
	if ph != nil {
		ph.tls = time.Now()
	}
	if err := s.authenticate(cfg, feats, user, password); err != nil {
		return elem{}, err
	}
	s.r.restart(s.conn)
	if ph != nil {
		ph.auth = time.Now()
	}
	return s.openStream(cfg.domain)
}

// openStream sends a stream header and returns the server's features.
func (s *session) openStream(domain string) (elem, error) {
	hdr := "<?xml version='1.0'?><stream:stream to='" + escapeXML(domain) +
		"' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
	if err := s.send(hdr); err != nil {
		return elem{}, failed("stream", err)
	}
	e, err := s.r.next()
	if err != nil {
		return elem{}, failed("stream", err)
	}
	if !e.open {
		return elem{}, failed("stream", fmt.Errorf("expected stream header, got <%s>", e.name()))
	}
	e, err = s.r.next()
	if err != nil {
		return elem{}, failed("stream", err)
	}
	if !e.is("features") {
		return elem{}, failed("stream", fmt.Errorf("expected features, got %.200s", e.raw))
	}
	return e, nil
}

func (s *session) startTLS(ctx context.Context, cfg *clientConfig) (elem, error) {
	if err := s.send("<starttls xmlns='" + nsTLS + "'/>"); err != nil {
		return elem{}, failed("tls", err)
	}
	e, err := s.r.next()
	if err != nil {
		return elem{}, failed("tls", err)
	}
	if !e.is("proceed") {
		return elem{}, failed("tls", fmt.Errorf("server answered %.200s", e.raw))
	}
	tc := tls.Client(s.conn, &tls.Config{ServerName: cfg.domain, InsecureSkipVerify: cfg.insecure})
	if err := tc.HandshakeContext(ctx); err != nil {
		return elem{}, failed("tls", err)
	}
	s.conn = tc
	s.r.restart(tc)
	return s.openStream(cfg.domain)
}

// send writes one piece of XML. Safe for concurrent use.
func (s *session) send(x string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err := s.conn.Write([]byte(x))
	return err
}

// close ends the stream politely and waits briefly for the server to end
// its side, so the server sees a clean logout rather than a reset, then
// closes the connection.
func (s *session) close(wait time.Duration) {
	s.conn.SetDeadline(time.Now().Add(wait))
	if s.send("</stream:stream>") == nil {
		for {
			if _, err := s.r.next(); err != nil {
				break
			}
		}
	}
	s.conn.Close()
}
