package c2s

import (
	"context"
	"fmt"
	"time"

	"mellium.im/xmpp/stream"
)

// Shutdown stops accepting, lets the Core hear every session end (so it
// can still broadcast unavailable presence to the others), then closes
// every session with <system-shutdown/> (RFC 6120 section 4.9.3.19) and
// waits for them until ctx is done, after which connections are cut.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.shutting {
		s.shutting = true
		close(s.stopped)
		for _, l := range s.listeners {
			l.Close()
		}
	}
	var sessions []*Session
	var negotiating []*conn
	for c, sess := range s.conns {
		if sess != nil {
			sessions = append(sessions, sess)
		} else {
			negotiating = append(negotiating, c)
		}
	}
	s.mu.Unlock()

	bye := withText(stream.SystemShutdown, "server shutting down")
	for _, sess := range sessions {
		sess.end(sentEnd(bye))
	}
	// Suspended sessions (XEP-0198) end too, and what waited for them is
	// handed back (offline storage, most likely).
	for _, sess := range s.sm.all() {
		if why := sentEnd(bye); sess.beginExpire(why) {
			sess.finishExpire(why)
		}
	}
	for _, sess := range sessions {
		sess.CloseWithError(bye)
	}
	for _, c := range negotiating {
		// Wakes the negotiating goroutine, which sees the shutdown and
		// sends <system-shutdown/> itself (it is the only writer).
		c.raw.SetReadDeadline(time.Unix(1, 0))
	}

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("c2s: shutdown: %w", ctx.Err())
		s.mu.Lock()
		for c := range s.conns {
			c.raw.Close()
		}
		s.mu.Unlock()
		<-done
	}
	s.cancel()
	return err
}

// Close shuts down at once: as Shutdown with no time to drain.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Shutdown(ctx)
	return nil
}

func (s *Server) isShuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutting
}

// register records a bound session; refused once shutdown began, so a
// session never escapes Shutdown.
func (s *Server) register(c *conn, sess *Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting {
		return stream.SystemShutdown
	}
	s.conns[c] = sess
	return nil
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[c]; ok {
		s.conns[c] = nil
	}
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}
