package c2s

import "time"

// run is the session's life after binding, on the goroutine that is from
// now on the session's only reader. The write side needs no goroutine of
// its own until something is queued.
func (s *Session) run(c *conn) {
	s.startWriting()
	err := s.readLoop(c)

	var why End
	if se, ok := streamErrorFor(err); ok {
		// A protocol error of the client's, or an idle timeout: say why.
		s.CloseWithError(se)
		why = sentEnd(se)
	} else {
		// The client closed its stream (we answer with ours, RFC 6120
		// section 4.4) or the connection is gone.
		why = readEnd(err)
		s.beginClose([]byte(closeTag), why)
	}
	if w, ok := s.closeWhy(); ok {
		why = w // if closing began earlier (conflict, shutdown...), that is why
	}
	s.srv.log.Debug("c2s: session ending", "session", s.id, "jid", s.jid.String(), "cause", why.Cause, "condition", why.Condition, "err", err)
	s.end(why)
	<-s.writerDone
	if s.keepalive != nil {
		s.keepalive.Stop()
	}
	s.nc.Close()
	s.srv.unregister(c)
	close(s.done)
}

// readLoop hands stanzas to the core until the stream ends. Once closing
// has begun (a stream error, a conflict, shutdown) it only waits for the
// client's </stream:stream>, and passes nothing on.
func (s *Session) readLoop(c *conn) error {
	s.bucket = newStanzaBucket(&s.srv.cfg, s.srv.metrics, time.Now())
	for {
		s.armReadDeadline()
		c.awaitStanza()
		el, err := c.next()
		if err != nil {
			if c.cc.readErr != nil {
				// The connection ended or failed, perhaps inside a stanza:
				// that, not the decoder's view of the truncated XML
				// (not-well-formed), is why the session ends.
				return c.cc.readErr
			}
			return err
		}
		if s.isClosing() {
			continue
		}
		flood := s.throttle(c)
		if s.isClosing() {
			continue
		}
		if err := s.handle(el); err != nil {
			return err
		}
		if flood != nil {
			return flood
		}
	}
}

// armReadDeadline applies Config.ReadTimeout to the next stanza, unless
// closing began, in which case the writer has set the grace deadline and
// it must stand.
func (s *Session) armReadDeadline() {
	rt := s.srv.cfg.ReadTimeout
	if rt <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closing {
		s.nc.SetReadDeadline(s.srv.now().Add(rt))
	}
}

// awaitStanza waits for the first byte of the next stanza, consuming
// whitespace keepalives (RFC 6120 section 4.6.1), so that an idle session
// is parked here, a few frames deep, rather than inside the XML decoder:
// a goroutine's stack can only shrink to a size it uses less than a
// quarter of. A read error is left for the decoder to meet again (the
// connection repeats it), so errors are reported as before.
//
// It is called between stanzas only, when the decoder has consumed
// everything up to the end of the last element and looks at no byte
// ahead, so bytes taken from under it are never missed.
func (c *conn) awaitStanza() {
	for !c.cc.skipSpace() {
		if err := c.cc.fill(); err != nil {
			return
		}
	}
	if c.cc.max == 0 || c.cc.n < c.cc.max {
		// What the decoder would have returned as a whitespace token.
		c.cc.reset()
	}
}
