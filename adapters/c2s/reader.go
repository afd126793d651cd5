package c2s

import (
	"errors"

	"fmt"
	"net"
	"os"
	"time"
	"xmppd/router"
	"xmppd/stanza"

	"mellium.im/xmpp/stream"
)

// run is the session's life after binding, on the goroutine that is from
// now on the session's only reader. The write side needs no goroutine of
// its own until something is queued.
//
// run and readLoop stay on the stack while the session waits for its next
// stanza (awaitStanza), under the TLS and network reads, so their frames
// are kept small: what runs once, before or after the loop, is in
// functions of its own (startReading, readFailed, stop). A reader whose
// deepest path fits the stack it starts with (4 KiB, the runtime's
// average) never grows it, and an idle session costs that much less.
func (s *Session) run(c *conn) {
	s.startWriting()
	s.stop(c, s.readLoop(c))
}

// stop ends the session whose reader returned err.
//
//go:noinline // not in run's frame (run)
func (s *Session) stop(c *conn, err error) {
	if s.suspend(c, err) {
		// XEP-0198: resumable, and only the connection was lost (sm.go).
		return
	}
	var why router.End
	var tooHigh handledTooHigh
	if errors.As(err, &tooHigh) {
		// XEP-0198 section 6, with its application condition.
		se, app := tooHigh.streamError()
		s.beginClose(append(stanza.StreamErrorWith(se, app), closeTag...), sentEnd(se))
		why = sentEnd(se)
	} else if se, ok := streamErrorFor(err); ok {
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
	s.forgetSM()
	s.end(why)
	<-s.writerDone
	s.mu.Lock()
	if s.keepalive != nil {
		s.keepalive.Stop()
	}
	done := s.readerDone
	s.mu.Unlock()
	c.nc.Close()
	// XEP-0198 section 4: what the client did not acknowledge goes
	// elsewhere, now that the core no longer routes to this session.
	s.giveBack()
	s.srv.unregister(c)
	close(done)
	close(s.done)
}

// readLoop hands stanzas to the core until the stream ends. Once closing
// has begun (a stream error, a conflict, shutdown) it only waits for the
// client's </stream:stream>, and passes nothing on.
func (s *Session) readLoop(c *conn) error {
	s.startReading(c)
	for {
		s.armReadDeadline(c.cc)
		c.awaitStanza()
		el, err := c.next()
		if err != nil {
			return s.readFailed(c, err)
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

// startReading sets up what the read loop keeps: the stanza deadline's
// hook and the stanza rate's bucket.
//
//go:noinline // not in readLoop's frame (run)
func (s *Session) startReading(c *conn) {
	if s.srv.cfg.StanzaTimeout > 0 {
		c.cc.midStanza = s.armStanzaDeadline
	}
	s.bucket = newStanzaBucket(&s.srv.cfg, s.srv.metrics, time.Now())
}

// readFailed says why reading the next stanza failed with err.
//
//go:noinline // not in readLoop's frame (run)
func (s *Session) readFailed(c *conn, err error) error {
	if c.cc.readErr != nil {
		// The connection ended or failed, perhaps inside a stanza:
		// that, not the decoder's view of the truncated XML
		// (not-well-formed), is why the session ends.
		if c.cc.inStanza && isTimeout(c.cc.readErr) {
			return s.stanzaTimedOut()
		}
		return c.cc.readErr
	}
	return err
}

// armReadDeadline is called between stanzas: it applies
// Config.ReadTimeout to the wait for the next one, or lifts the stanza
// deadline the last one armed, unless closing began, in which case the
// writer has set the grace deadline and it must stand. With no idle limit
// and no stanza deadline armed (a stanza read whole from the buffer, the
// common case) it costs nothing.
func (s *Session) armReadDeadline(cc *countingConn) {
	armed := cc.armed
	cc.inStanza, cc.armed = false, false
	rt := s.srv.cfg.ReadTimeout
	if rt <= 0 && !armed {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	if rt > 0 {
		s.idleDeadline = s.srv.now().Add(rt)
	}
	// Zero when there is no idle limit: an idle session is never cut.
	s.nc.SetReadDeadline(s.idleDeadline)
}

// armStanzaDeadline bounds the rest of the stanza in progress by
// Config.StanzaTimeout. countingConn calls it before the first network
// read the stanza needs, microseconds of decoding after awaitStanza found
// its first byte: time the server spent on earlier stanzas is not the
// client's. An earlier idle deadline, or closing's grace deadline, stands.
func (s *Session) armStanzaDeadline() {
	d := s.srv.now().Add(s.srv.cfg.StanzaTimeout)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || (!s.idleDeadline.IsZero() && s.idleDeadline.Before(d)) {
		return
	}
	s.nc.SetReadDeadline(d)
}

// stanzaTimedOut is the stream error for a client that stopped in the
// middle of a stanza (RFC 6120 section 4.9.3.4).
func (s *Session) stanzaTimedOut() error {
	return withText(stream.ConnectionTimeout, fmt.Sprintf("a stanza was left incomplete for %v", s.srv.cfg.StanzaTimeout))
}

// isTimeout reports whether err is a read deadline's expiry.
func isTimeout(err error) bool {
	var nerr net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &nerr) && nerr.Timeout()
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
	// From here on a stanza is in progress (Config.StanzaTimeout).
	c.cc.inStanza = true
}
