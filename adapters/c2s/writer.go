package c2s

import (
	"crypto/tls"
	"net"
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
	if s.writing || s.detached {
		return
	}
	s.writing = true
	select {
	case s.srv.spareWriters <- s: // a writer that just finished takes it
	default:
		go s.srv.writer(s)
	}
}

// writerLinger is how long a writer goroutine whose session ran out of
// output waits for another session's. A burst that writes to many
// sessions (a presence broadcast to a hundred contacts, several hundred
// times a second) then reuses goroutines whose stacks have already grown
// to what a TLS write needs, instead of starting a hundred new ones that
// each grow theirs again; an idle server keeps none once it has passed.
const writerLinger = 50 * time.Millisecond

// writer runs s's writeLoop, then those of the sessions handed to it
// while it lingers.
func (srv *Server) writer(s *Session) {
	var linger *time.Timer
	for {
		s.writeLoop()
		if linger == nil {
			linger = time.NewTimer(writerLinger)
		} else {
			linger.Reset(writerLinger)
		}
		select {
		case s = <-srv.spareWriters:
			linger.Stop()
		case <-linger.C:
			return
		}
	}
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
	if s.writing || s.closing || s.detached {
		s.mu.Unlock()
		return
	}
	s.writing = true
	s.queue = append(s.queue, outItem{b: []byte{' '}, untracked: true})
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
		if s.detached {
			// Suspended (XEP-0198, sm.go): what is queued waits for the
			// client to resume.
			s.writerIdleLocked()
			s.mu.Unlock()
			return
		}
		batch := s.queue
		s.queue, s.qbytes = nil, 0
		s.queued.Store(0)
		closing := s.closing
		if len(batch) == 0 && !closing {
			s.writerIdleLocked()
			if s.keepalive != nil {
				s.keepalive.Reset(s.srv.cfg.Keepalive)
			}
			s.mu.Unlock()
			return
		}
		nc, sm := s.nc, s.sm
		if sm != nil {
			// From here the stanzas' receipts wait for the client's
			// acknowledgement, not for the write.
			batch = sm.track(batch, s.srv.now())
		}
		s.mu.Unlock()
		if closing {
			s.finish(nc, batch)
			return
		}
		n, err := s.writeBatch(nc, batch, true)
		if err != nil && sm != nil && sm.id != "" {
			// Resumable: the stanzas are kept as unacknowledged; the
			// reader, woken by the close, suspends the session, and a
			// resumption sends them again.
			s.srv.log.Debug("c2s: write failed", "session", s.id, "err", err)
			nc.Close()
			s.mu.Lock()
			s.writerIdleLocked()
			s.mu.Unlock()
			report(batch, false) // only untracked items have receipts left
			return
		}
		if err != nil {
			s.srv.log.Debug("c2s: write failed", "session", s.id, "err", err)
			s.mu.Lock()
			s.beginCloseLocked(nil, writeEnd(err))
			rest := s.queue // queued while this batch was being written
			s.queue, s.qbytes = nil, 0
			s.queued.Store(0)
			s.mu.Unlock()
			nc.Close() // wakes the reader
			close(s.writerDone)
			report(batch[:n], true)
			report(batch[n:], false)
			report(rest, false)
			return
		}
		report(batch, true)
		recycle(batch)
	}
}

// writeBatch writes batch, copying small elements together into a lent
// buffer so that a burst of stanzas becomes few TLS records. With
// perWrite, each write to the connection gets its own Config.WriteTimeout;
// otherwise the caller has set one deadline for all. It returns how many
// of batch's items were written whole before an error (all of them when
// err is nil).
func (s *Session) writeBatch(nc net.Conn, batch []outItem, perWrite bool) (int, error) {
	write := func(b []byte) (int, error) {
		if perWrite {
			nc.SetWriteDeadline(s.srv.now().Add(s.srv.cfg.WriteTimeout))
		}
		return nc.Write(b)
	}
	if len(batch) == 1 {
		if _, err := write(batch[0].b); err != nil {
			return 0, err
		}
		return 1, nil
	}
	bp := batchBufs.Get().(*[]byte)
	defer batchBufs.Put(bp)
	buf := (*bp)[:0]
	first := 0 // batch[first:i] are in buf
	// flush writes buf, which holds batch[first:i], and says how many of
	// batch are written whole.
	flush := func(i int) (int, error) {
		m, err := write(buf)
		if err == nil {
			return i, nil
		}
		done, end := first, 0
		for done < i {
			end += len(batch[done].b)
			if end > m {
				break
			}
			done++
		}
		return done, err
	}
	for i, it := range batch {
		if len(buf) > 0 && (len(buf)+len(it.b) > batchSize || len(it.b) >= batchSize) {
			if n, err := flush(i); err != nil {
				return n, err
			}
			buf = buf[:0]
		}
		if len(it.b) >= batchSize {
			if _, err := write(it.b); err != nil {
				return i, err
			}
			first = i + 1
			continue
		}
		if len(buf) == 0 {
			first = i
		}
		buf = append(buf, it.b...)
	}
	if len(buf) > 0 {
		return flush(len(batch))
	}
	return len(batch), nil
}

// finish writes what is still queued and the final bytes, all under one
// write deadline so a client that does not read cannot hold the
// goroutine, then closes writerDone.
func (s *Session) finish(nc net.Conn, batch []outItem) {
	defer close(s.writerDone)
	nc.SetWriteDeadline(s.srv.now().Add(s.srv.cfg.WriteTimeout))
	s.mu.Lock()
	final := s.final
	s.mu.Unlock()
	// Nothing is queued after closing began (Send refuses), so batch is
	// the rest of the output.
	stanzas := len(batch)
	if final != nil {
		batch = append(batch, outItem{b: final})
	}
	n, err := s.writeBatch(nc, batch, false)
	n = min(n, stanzas)
	report(batch[:n], true)
	report(batch[n:stanzas], false)
	if err != nil || final == nil {
		nc.Close()
		return
	}
	if tc, ok := nc.(*tls.Conn); ok {
		// close_notify: nothing more comes from us.
		tc.CloseWrite()
	}
	s.mu.Lock()
	nc.SetReadDeadline(s.srv.now().Add(closeGrace))
	s.mu.Unlock()
}

// writerIdleLocked marks the write side free, for a resumption waiting to
// take it over (sm.go). Called with s.mu held.
func (s *Session) writerIdleLocked() {
	s.writing = false
	if s.sm != nil {
		s.sm.idle.Broadcast()
	}
}
