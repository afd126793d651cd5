package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"xmppd/adapters/bus"
	"xmppd/events"
	"xmppd/projections"
)

// Run serves until ctx is done, then shuts down cleanly. In order it:
// rebuilds the views from the log; follows the log on the bus (which also
// carries other processes' appends, such as `xmppd user add`) with the
// views' consumer; records server.started (and server.stopped for a
// previous process of this node that did not stop cleanly); ends the
// sessions such a process left open (cause restart) and delivers again
// what it recorded on one side only (resumeDeliveries); and serves
// clients. On shutdown every session's unavailable presence and
// session.ended (cause shutdown) are recorded and broadcast before the
// streams are closed with <system-shutdown/> (RFC 6120 4.9.3.19), then
// server.stopped is recorded. Run may be called once.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("server: Run called twice")
	}
	s.started = true
	s.mu.Unlock()

	// Commands, the feed and the consumer outlive ctx: shutdown still
	// records and broadcasts. life ends when Run returns.
	life, stopLife := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLife()
	s.actors.ctx, s.actors.timeout = life, s.cfg.CommandTimeout

	if _, err := projections.Rebuild(ctx, s.cfg.Store, s.views, 0, nil); err != nil {
		return fmt.Errorf("server: rebuild views: %w", err)
	}
	s.bus = bus.NewGoChannel(nil)
	defer s.bus.Close()
	from := s.views.Position()
	cons, err := s.bus.Subscribe(life, "server-views", from, s.applyEvent)
	if err != nil {
		return fmt.Errorf("server: follow the log: %w", err)
	}
	s.consumer = cons
	feedDone := make(chan error, 1)
	go func() { feedDone <- s.bus.Feed(life, s.cfg.Store, from+1) }()
	stopFeed := func() error {
		stopLife()
		<-cons.Done()
		return <-feedDone
	}

	if err := s.vers.preload(life); err != nil {
		return errors.Join(err, stopFeed())
	}
	unclean, err := s.recordStart(life)
	if err != nil {
		return errors.Join(err, stopFeed())
	}
	if err := s.recoverSessions(life); err != nil {
		return errors.Join(err, stopFeed())
	}
	if unclean > 0 {
		if err := s.resumeDeliveries(life, unclean); err != nil {
			return errors.Join(err, stopFeed())
		}
	}
	if err := s.c2s.Listen(); err != nil {
		return errors.Join(fmt.Errorf("server: %w", err), stopFeed())
	}

	go s.retryEnds(life)
	sumCtx, stopSum := context.WithCancel(life)
	sumDone := make(chan struct{})
	go func() { defer close(sumDone); s.summariseRefusals(sumCtx) }()
	close(s.ready)
	serveCtx, stopServe := context.WithCancel(life)
	defer stopServe()
	served := make(chan error, 1)
	go func() { served <- s.c2s.Serve(serveCtx) }()
	var serveErr error
	select {
	case <-ctx.Done():
		// Ended (from c2s's shutdown) now records cause shutdown and
		// waits for the broadcasts, and no new session binds.
		s.stopping.Store(true)
		stopServe()
		serveErr = <-served
	case serveErr = <-served:
		s.stopping.Store(true)
	case <-cons.Done():
		// The views stopped (an event they cannot apply): every command
		// would wait for them in vain. Stop serving and say why.
		serveErr = fmt.Errorf("server: views stopped following the log: %w", cons.Err())
		s.stopping.Store(true)
		stopServe()
		serveErr = errors.Join(serveErr, <-served)
	}

	dctx, cancel := context.WithTimeout(life, s.cfg.CommandTimeout)
	defer cancel()
	drainErr := s.actors.drain(dctx)
	if s.ends.len() > 0 {
		// A last try; what still fails is ended by the next start.
		if err := s.retryAllEnds(dctx); err != nil {
			s.log.Error("server: session ends still not recorded; the next start records them", "sessions", s.ends.len(), "err", err)
		}
	}
	// No client can fail a login now: the refusals still counted are
	// recorded before the stop.
	stopSum()
	<-sumDone
	s.flushRefusals(dctx)
	stopErr := s.recordStop(dctx, "shutdown")
	return errors.Join(serveErr, drainErr, stopErr, stopFeed())
}

// applyEvent is the views' consumer: it folds each committed event into
// the views and tells the core what it needs to know (stream versions,
// deleted accounts).
func (s *Server) applyEvent(e events.Envelope) error {
	var gone *deletedAccount
	if e.Type == events.TypeAccountDeleted {
		gone = s.beforeDeletion(e.Stream)
	}
	if err := s.views.Apply(&e); err != nil {
		return err
	}
	s.vers.note(e.Stream, e.Version)
	if gone != nil {
		s.accountDeleted(gone)
	}
	return nil
}

// recordStart appends server.started to server-<domain>, first recording
// server.stopped for a previous process of this node that never did
// (DESIGN.md: "a stop found at the next start"). It returns the log
// position of that process's server.started, or 0 if the last one
// stopped cleanly.
func (s *Server) recordStart(ctx context.Context) (unclean uint64, err error) {
	stream := events.ServerStream(s.cfg.Domain)
	var version uint64
	running := false
	node := s.cfg.Node // the node of the process found running
	for e, err := range s.cfg.Store.ReadStream(ctx, stream, 1) {
		if err != nil {
			return 0, fmt.Errorf("server: read %s: %w", stream, err)
		}
		version = e.Version
		if e.Node != s.cfg.Node && !s.cfg.SoleServer {
			continue
		}
		switch e.Type {
		case events.TypeServerStarted:
			running, unclean, node = true, e.Position, e.Node
		case events.TypeServerStopped:
			running, unclean = false, 0
		}
	}
	var ps []events.Payload
	if running {
		ps = append(ps, events.ServerStopped{Node: node, Reason: "not stopped cleanly (found at start)"})
	}
	ps = append(ps, events.ServerStarted{Node: s.cfg.Node, Version: s.cfg.Version, ConfigDigest: s.configDigest()})
	_, err = s.append(ctx, stream, events.Exactly(version), s.serverMeta(), ps)
	return unclean, err
}

func (s *Server) recordStop(ctx context.Context, reason string) error {
	stream := events.ServerStream(s.cfg.Domain)
	_, err := s.append(ctx, stream, events.Any, s.serverMeta(), []events.Payload{events.ServerStopped{Node: s.cfg.Node, Reason: reason}})
	return err
}

// configDigest fingerprints the settings that change what clients see.
func (s *Server) configDigest() string {
	h := sha256.New()
	fmt.Fprintf(h, "domain=%s\nnode=%s\nstarttls=%s\ndirecttls=%s\npolicy=%+v\n",
		s.cfg.Domain, s.cfg.Node, s.cfg.C2S.StartTLSAddr, s.cfg.C2S.DirectTLSAddr, s.cfg.Policy)
	return hex.EncodeToString(h.Sum(nil))
}

// recoverSessions ends the sessions the views show open on this node: a
// process of this node that was killed left them open, and nobody else
// will ever end them. Each gets unavailable presence if it was available
// (RFC 6121 4.5.2: the server "MUST generate the unavailable presence
// broadcast on the user's behalf") and session.ended with cause
// restart, so no one appears online forever.
//
// With SoleServer every open session is such a leftover, whatever node
// recorded it: one left by a process under another node name would
// otherwise stay open, and be routed to, for ever.
func (s *Server) recoverSessions(ctx context.Context) error {
	var errs []error
	open := s.views.OpenSessionsOnNode(s.cfg.Node)
	if s.cfg.SoleServer {
		open = s.views.OpenSessions()
	}
	for _, sess := range open {
		meta := s.serverMeta()
		meta.SessionID, meta.ClientAddr = sess.SessionID, sess.ClientAddr
		err := s.actors.do(ctx, sess.JID, func(ctx context.Context) error {
			return s.recordEnd(ctx, sess.JID, events.SessionEnded{Resource: sess.Resource, Cause: events.EndRestart}, meta)
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("server: end %s/%s after restart: %w", sess.JID, sess.Resource, err))
		}
	}
	return errors.Join(errs...)
}
