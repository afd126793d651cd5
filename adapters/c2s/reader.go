package c2s

// run is the session's life after binding, on the connection's goroutine,
// which from now on is the session's only reader.
func (s *Session) run(c *conn) {
	go s.writeLoop()
	err := s.readLoop(c)

	reason := "client closed the stream"
	if se, ok := streamErrorFor(err); ok {
		// A protocol error of the client's, or an idle timeout: say why.
		s.CloseWithError(se)
		reason = se.Err
	} else {
		// The client closed its stream (we answer with ours, RFC 6120
		// section 4.4) or the connection is gone.
		s.beginClose([]byte(closeTag), reason)
	}
	if r := s.closeReason(); r != "" {
		reason = r
	}
	s.srv.log.Debug("c2s: session ending", "session", s.id, "jid", s.jid.String(), "reason", reason, "err", err)
	s.end(reason)
	<-s.writerDone
	s.nc.Close()
	s.srv.unregister(c)
	close(s.done)
}

// readLoop hands stanzas to the core until the stream ends. Once closing
// has begun (a stream error, a conflict, shutdown) it only waits for the
// client's </stream:stream>, and passes nothing on.
func (s *Session) readLoop(c *conn) error {
	for {
		s.armReadDeadline()
		el, err := c.next()
		if err != nil {
			return err
		}
		if s.isClosing() {
			continue
		}
		if err := s.handle(el); err != nil {
			return err
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
