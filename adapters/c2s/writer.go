package c2s

import (
	"crypto/tls"
	"sync"
	"time"
)

// closeGrace is how long, after our </stream:stream>, the client has to
// close its side before the connection is cut (RFC 6120 section 4.4).
const closeGrace = 2 * time.Second

// batchSize is how many bytes of queued stanzas are gathered into one
// write (and so into as few TLS records as possible).
const batchSize = 8192

// batchBufs lends the gather buffers: an idle session holds none.
var batchBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, batchSize)
	return &b
}}

// startWriterLocked starts a writer goroutine unless one is running (or
// the write side is finished). Called with s.mu held.
func (s *Session) startWriterLocked() {
	if s.writing {
		return
	}
	s.writing = true
	go s.writeLoop()
}

// startWriting hands the write side over from negotiation to the
// session, and starts the keepalive timer: from now on a writer runs
// only while there is something to write.
func (s *Session) startWriting() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.srv.cfg.Keepalive; k > 0 {
		s.keepalive = time.AfterFunc(k, s.sendKeepalive)
	}
	s.writing = false
	if len(s.queue) > 0 || s.closing {
		s.startWriterLocked()
	}
}

// sendKeepalive runs when the output has been idle for Config.Keepalive:
// it sends a single space (RFC 6120 section 4.6.1) on the timer's own
// goroutine, unless a writer is busy (it re-arms the timer when done) or
// the stream is closing.
func (s *Session) sendKeepalive() {
	s.mu.Lock()
	if s.writing || s.closing {
		s.mu.Unlock()
		return
	}
	s.writing = true
	s.queue = append(s.queue, []byte{' '})
	s.mu.Unlock()
	s.writeLoop()
}

// writeLoop is the session's only writer while it runs. It writes what
// is queued, gathered into as few TLS records as possible, until the
// queue is empty; it then re-arms the keepalive and exits, or, once
// closing began, writes the final bytes and gives the client closeGrace
// to answer.
func (s *Session) writeLoop() {
	for {
		s.mu.Lock()
		batch := s.queue
		s.queue, s.qbytes = nil, 0
		s.queued.Store(0)
		closing := s.closing
		if len(batch) == 0 && !closing {
			s.writing = false
			if s.keepalive != nil {
				s.keepalive.Reset(s.srv.cfg.Keepalive)
			}
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		if closing {
			s.finish(batch)
			return
		}
		if err := s.writeBatch(batch, true); err != nil {
			s.srv.log.Debug("c2s: write failed", "session", s.id, "err", err)
			s.beginClose(nil, writeEnd(err))
			s.nc.Close() // wakes the reader
			close(s.writerDone)
			return
		}
	}
}

// writeBatch writes batch, copying small elements together into a lent
// buffer so that a burst of stanzas becomes few TLS records. With
// perWrite, each write to the connection gets its own Config.WriteTimeout;
// otherwise the caller has set one deadline for all.
func (s *Session) writeBatch(batch [][]byte, perWrite bool) error {
	write := func(b []byte) error {
		if perWrite {
			s.nc.SetWriteDeadline(s.srv.now().Add(s.srv.cfg.WriteTimeout))
		}
		_, err := s.nc.Write(b)
		return err
	}
	switch len(batch) {
	case 0:
		return nil
	case 1:
		return write(batch[0])
	}
	bp := batchBufs.Get().(*[]byte)
	defer batchBufs.Put(bp)
	buf := (*bp)[:0]
	for _, b := range batch {
		if len(buf) > 0 && len(buf)+len(b) > batchSize {
			if err := write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		if len(b) >= batchSize {
			if err := write(b); err != nil {
				return err
			}
			continue
		}
		buf = append(buf, b...)
	}
	if len(buf) > 0 {
		return write(buf)
	}
	return nil
}

// finish writes what is still queued and the final bytes, all under one
// write deadline so a client that does not read cannot hold the
// goroutine, then closes writerDone.
func (s *Session) finish(batch [][]byte) {
	defer close(s.writerDone)
	s.nc.SetWriteDeadline(s.srv.now().Add(s.srv.cfg.WriteTimeout))
	s.mu.Lock()
	final := s.final
	s.mu.Unlock()
	// Nothing is queued after closing began (Send refuses), so batch is
	// the rest of the output.
	if final != nil {
		batch = append(batch, final)
	}
	if err := s.writeBatch(batch, false); err != nil || final == nil {
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
