package im

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"xmppd/events"
	"xmppd/projections"
)

// lifetime is what Start began and Stop ends.
type lifetime struct {
	ctx     context.Context // outlives Start's ctx: shutdown still records and broadcasts
	stop    context.CancelFunc
	sumStop context.CancelFunc
	sumDone chan struct{}
	// retainStop ends the retention sweeps and retainDone is closed when
	// the last has returned (nil: retention is off).
	retainStop context.CancelFunc
	retainDone chan struct{}
	// warmStop ends the loading of archive indexes left lazy by the
	// rebuild, and warmDone is closed when it returned.
	warmStop context.CancelFunc
	warmDone chan struct{}
}

// Start readies the core to take sessions. In order it: rebuilds the
// views from the log; follows the log on the bus (which also carries
// other processes' appends, such as `xmppd user add`) with the views'
// consumer; records server.started (and server.stopped for a previous
// process of this node that did not stop cleanly); ends the sessions such
// a process left open (cause restart) and delivers again what it recorded
// on one side only (resumeDeliveries). Then Ready is closed. Start may be
// called once; after it returned nil, Stop must be called.
//
// The lifecycle around it (transports listening before Start, serving
// after it, BeginStop and Stop at shutdown) is wired in cmd/xmppd.
func (s *Core) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("im: Start called twice")
	}
	s.started = true
	s.mu.Unlock()

	// Commands, the feed and the consumer outlive ctx: shutdown still
	// records and broadcasts. The lifetime ends with Stop.
	life, stopLife := context.WithCancel(context.WithoutCancel(ctx))
	s.life = lifetime{ctx: life, stop: stopLife}
	s.actors.ctx, s.actors.timeout = life, s.cfg.CommandTimeout

	if _, err := projections.Rebuild(ctx, s.cfg.Store, s.views, 0, nil); err != nil {
		stopLife()
		return fmt.Errorf("im: rebuild views: %w", err)
	}
	if n := s.views.MissingKeys(); n > 0 {
		if err := s.tagNewKeys(n); err != nil {
			stopLife()
			return err
		}
	}
	from := s.views.Position()
	f, err := s.cfg.Follow(life, s.cfg.Store, "server-views", from, s.applyEvent)
	if err != nil {
		stopLife()
		return fmt.Errorf("im: follow the log: %w", err)
	}
	s.consumer = f

	if err := s.vers.preload(life); err != nil {
		return errors.Join(err, s.stopFeed())
	}
	unclean, err := s.recordStart(life)
	if err != nil {
		return errors.Join(err, s.stopFeed())
	}
	if err := s.recoverSessions(life); err != nil {
		return errors.Join(err, s.stopFeed())
	}
	if unclean > 0 {
		if err := s.resumeDeliveries(life, unclean); err != nil {
			return errors.Join(err, s.stopFeed())
		}
	}
	go s.retryEnds(life)
	sumCtx, stopSum := context.WithCancel(life)
	s.life.sumStop, s.life.sumDone = stopSum, make(chan struct{})
	go func() { defer close(s.life.sumDone); s.summariseRefusals(sumCtx) }()
	if keys, ok := s.cfg.Keys.(KeyExpirer); ok && s.cfg.Retention.shortest() > 0 {
		retainCtx, stopRetain := context.WithCancel(life)
		s.life.retainStop, s.life.retainDone = stopRetain, make(chan struct{})
		go func() { defer close(s.life.retainDone); s.retain(retainCtx, keys) }()
	}
	// The archive indexes the rebuild skipped load now, in the
	// background: start-up does not wait for the archive (issue 13), and
	// a MAM query that comes first loads its own.
	warmCtx, stopWarm := context.WithCancel(life)
	s.life.warmStop, s.life.warmDone = stopWarm, make(chan struct{})
	go func() {
		defer close(s.life.warmDone)
		if err := s.views.WarmArchives(warmCtx); err != nil && warmCtx.Err() == nil {
			s.log.Warn("im: load archive indexes", "err", err)
		}
	}()
	close(s.ready)
	return nil
}

// stopFeed stops following the log and waits for the views' consumer and
// the feed.
func (s *Core) stopFeed() error {
	s.life.stop()
	return s.consumer.Stop()
}

// Failed is closed if the views stop following the log (an event they
// cannot apply): every command would then wait for them in vain, so the
// process should stop serving; Err says why.
func (s *Core) Failed() <-chan struct{} { return s.consumer.Done() }

// Err is why the views stopped following the log (see Failed); nil while
// they follow it.
func (s *Core) Err() error {
	if err := s.consumer.Err(); err != nil {
		return fmt.Errorf("im: views stopped following the log: %w", err)
	}
	return nil
}

// BeginStop tells the core that shutdown has begun: from now on Ended
// (from the transports' shutdown) records cause shutdown and waits for
// the unavailable broadcasts, and no new session binds. Call it before
// the transports stop serving.
func (s *Core) BeginStop() { s.stopping.Store(true) }

// Stop finishes what Start began, once the transports have stopped
// serving (every session's Ended has been called): it lets the account
// queues drain, tries the session ends the store refused once more,
// records the refused logins still counted and server.stopped, and stops
// following the log.
func (s *Core) Stop() error {
	s.stopping.Store(true)
	if s.life.warmStop != nil {
		s.life.warmStop()
		<-s.life.warmDone
	}
	if s.life.retainStop != nil {
		// No key is destroyed after the stop is recorded.
		s.life.retainStop()
		<-s.life.retainDone
	}
	dctx, cancel := context.WithTimeout(s.life.ctx, s.cfg.CommandTimeout)
	defer cancel()
	drainErr := s.actors.drain(dctx)
	if s.ends.len() > 0 {
		// A last try; what still fails is ended by the next start.
		if err := s.retryAllEnds(dctx); err != nil {
			s.log.Error("im: session ends still not recorded; the next start records them", "sessions", s.ends.len(), "err", err)
		}
	}
	// No client can fail a login now: the refusals still counted are
	// recorded before the stop.
	s.life.sumStop()
	<-s.life.sumDone
	s.flushRefusals(dctx)
	stopErr := s.recordStop(dctx, "shutdown")
	return errors.Join(drainErr, stopErr, s.stopFeed())
}

// applyEvent is the views' consumer: it folds each committed event into
// the views and tells the core what it needs to know (stream versions,
// deleted accounts).
func (s *Core) applyEvent(e events.Envelope) error {
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
func (s *Core) recordStart(ctx context.Context) (unclean uint64, err error) {
	stream := events.ServerStream(s.cfg.Domain)
	var version uint64
	running := false
	node := s.cfg.Node // the node of the process found running
	for e, err := range s.cfg.Store.ReadStream(ctx, stream, 1) {
		if err != nil {
			return 0, fmt.Errorf("im: read %s: %w", stream, err)
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

func (s *Core) recordStop(ctx context.Context, reason string) error {
	stream := events.ServerStream(s.cfg.Domain)
	_, err := s.append(ctx, stream, events.Any, s.serverMeta(), []events.Payload{events.ServerStopped{Node: s.cfg.Node, Reason: reason}})
	return err
}

// configDigest fingerprints the settings that change what clients see.
func (s *Core) configDigest() string {
	h := sha256.New()
	fmt.Fprintf(h, "domain=%s\nnode=%s\n%spolicy=%+v\n",
		s.cfg.Domain, s.cfg.Node, s.cfg.TransportSettings, s.cfg.Policy)
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
func (s *Core) recoverSessions(ctx context.Context) error {
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
			errs = append(errs, fmt.Errorf("im: end %s/%s after restart: %w", sess.JID, sess.Resource, err))
		}
	}
	return errors.Join(errs...)
}

// keyTagger is a key store that can name the keys it makes apart from
// any other key file's (adapters/keystore's TagNewKeys).
type keyTagger interface{ TagNewKeys() error }

// tagNewKeys is for a log that holds n sealed items whose keys the key
// store lacks: its key file is not the one that sealed them (lost,
// replaced). The keys it makes from now on get names no other key file
// makes, so that restoring the old file later opens the old content and
// the new content both, rather than two keys sharing one id.
func (s *Core) tagNewKeys(n uint64) error {
	t, ok := s.cfg.Keys.(keyTagger)
	if !ok {
		return nil
	}
	s.log.Error("im: the log holds personal content sealed under keys the key store does not have; it reads as missing until the key file that sealed it is restored (keys.path); new keys are named apart from that file's", "items", n)
	if err := t.TagNewKeys(); err != nil {
		return fmt.Errorf("im: name new keys apart: %w", err)
	}
	return nil
}
