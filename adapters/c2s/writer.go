package c2s

import (
	"bufio"
	"crypto/tls"
	"time"
)

// closeGrace is how long, after our </stream:stream>, the client has to
// close its side before the connection is cut (RFC 6120 section 4.4).
const closeGrace = 2 * time.Second

// writeLoop is the session's only writer after binding. It batches what
// is queued into as few TLS records as possible, sends a space when the
// stream has been idle for Config.Keepalive (RFC 6120 section 4.6.1), and
// on closing drains the queue, writes the final bytes and gives the
// client closeGrace to answer.
func (s *Session) writeLoop() {
	defer close(s.writerDone)
	cfg := s.srv.cfg
	w := bufio.NewWriterSize(s.nc, 8192)

	var idle <-chan time.Time
	var timer *time.Timer
	if cfg.Keepalive > 0 {
		timer = time.NewTimer(cfg.Keepalive)
		defer timer.Stop()
		idle = timer.C
	}
	fail := func(err error) {
		s.srv.log.Debug("c2s: write failed", "session", s.id, "err", err)
		s.beginClose(nil, "write failed")
		s.nc.Close() // wakes the reader
	}
	for {
		select {
		case b := <-s.queue:
			s.nc.SetWriteDeadline(s.srv.now().Add(cfg.WriteTimeout))
			if _, err := w.Write(b); err != nil {
				fail(err)
				return
			}
			if len(s.queue) == 0 {
				if err := w.Flush(); err != nil {
					fail(err)
					return
				}
			}
		case <-idle:
			s.nc.SetWriteDeadline(s.srv.now().Add(cfg.WriteTimeout))
			w.WriteByte(' ')
			if err := w.Flush(); err != nil {
				fail(err)
				return
			}
		case <-s.closingCh:
			s.finish(w)
			return
		}
		if timer != nil {
			timer.Reset(cfg.Keepalive)
		}
	}
}

// finish writes what is queued and the final bytes, all under one write
// deadline so a client that does not read cannot hold the goroutine.
func (s *Session) finish(w *bufio.Writer) {
	s.nc.SetWriteDeadline(s.srv.now().Add(s.srv.cfg.WriteTimeout))
	for n := len(s.queue); n > 0; n-- {
		w.Write(<-s.queue)
	}
	s.mu.Lock()
	final := s.final
	s.mu.Unlock()
	w.Write(final)
	if err := w.Flush(); err != nil || final == nil {
		s.nc.Close()
		return
	}
	if tc, ok := s.nc.(*tls.Conn); ok {
		// close_notify: nothing more comes from us.
		tc.CloseWrite()
	}
	s.mu.Lock()
	s.nc.SetReadDeadline(s.srv.now().Add(closeGrace))
	s.mu.Unlock()
}
