package c2s

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"xmppd/router"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stream"

	"xmppd/events"
	"xmppd/stanza"
)

const closeTag = "</stream:stream>"

// Session is a bound client stream. Its accessors and Send, Close and
// CloseWithError are safe from any goroutine.
type Session struct {
	srv  *Server
	c    *conn
	nc   net.Conn
	id   string
	jid  jid.JID
	full string // jid.String(), stamped on every stanza as 'from'
	addr string
	tls  string
	mech string

	// bucket is the stanza rate (rate.go); only the reader touches it.
	bucket stanzaBucket

	done    chan struct{} // closed when the connection is closed
	begun   chan struct{} // closed when closing begins (ClosingBegun)
	endOnce sync.Once

	// The write side has no goroutine while nothing is queued: Send, a
	// close or the keepalive timer starts one (writing), which drains the
	// queue and exits. writerDone is closed once the final bytes are
	// written or writing failed; no writer starts after that.
	writerDone chan struct{}
	keepalive  *time.Timer  // AfterFunc(Config.Keepalive); nil if disabled
	queued     atomic.Int32 // len(queue), for Stats without the lock
	closed     atomic.Bool  // closing, readable without the lock (Closing)
	// csiInactive is inactive, readable without the lock (Send's fast path).
	csiInactive atomic.Bool

	mu      sync.Mutex // guards everything below, and read deadlines
	queue   []outItem  // waiting for the writer; nil when idle
	qbytes  int        // bytes in queue
	writing bool       // a writer goroutine owns the connection's write side
	closing bool
	final   []byte
	why     router.End // why closing began
	// inactive: the client said it is inactive (XEP-0352, csi.go); held
	// is the presence kept back meanwhile.
	inactive bool
	held     []heldPresence

	// XEP-0198 stream management (sm.go); nil until the client enables it.
	sm *smState
	// detached: the connection was lost and the session waits to be
	// resumed (suspended); no writer runs meanwhile. expiry ends it.
	detached bool
	expiry   *time.Timer
	// readerDone is closed when the current connection's reader has
	// stopped (suspended or ended the session), for a resumption that
	// takes the session over from a connection not yet seen to be lost.
	readerDone chan struct{}
	// lost is closed when the current connection is lost (suspended) or
	// closing begins (LinkLost); lostClosed says it was. Made only when
	// asked for: most sessions never are.
	lost       chan struct{}
	lostClosed bool

	idleDeadline time.Time // the Config.ReadTimeout deadline last set; zero without one
}

// outItem is one queued stanza and, if its sender asked, who learns
// whether it was written.
type outItem struct {
	b []byte
	r router.Receipt
	// untracked: not a stanza XEP-0198 counts (a nonza, a keepalive), or
	// one queued before stream management was enabled.
	untracked bool
	// buf, if not nil, is the sendBufs buffer b was encoded into, given
	// back once b is written (recycle).
	buf *[]byte
}

// report tells each item's receipt (if any) whether it was written.
func report(items []outItem, ok bool) {
	for _, it := range items {
		if it.r != nil {
			it.r.Written(ok)
		}
	}
}

func newSession(c *conn, j jid.JID) *Session {
	return &Session{
		srv:        c.srv,
		c:          c,
		nc:         c.nc,
		id:         randomID(),
		jid:        j,
		full:       j.String(),
		addr:       c.addr,
		tls:        c.tlsInfo,
		mech:       c.mech,
		writerDone: make(chan struct{}),
		readerDone: make(chan struct{}),
		done:       make(chan struct{}),
		begun:      make(chan struct{}),
		// Until run, the negotiating goroutine writes (the bind result
		// must precede whatever the core queues in Bound).
		writing: true,
	}
}

// ID is a random identifier of this session, for the event log.
func (s *Session) ID() string { return s.id }

// JID is the session's full JID (localpart@domain/resource).
func (s *Session) JID() jid.JID { return s.jid }

// Addr is the client's address, ip:port (of the current connection: a
// resumed session, XEP-0198, may have moved).
func (s *Session) Addr() string { return s.Origin().Addr }

// TLS describes the TLS version and cipher suite, e.g.
// "TLS 1.3 TLS_AES_128_GCM_SHA256".
func (s *Session) TLS() string { return s.Origin().TLS }

// Mechanism is the SASL mechanism the client authenticated with.
func (s *Session) Mechanism() string { return s.Origin().Mechanism }

// Origin is Addr, TLS and Mechanism together (router.Session).
func (s *Session) Origin() router.Origin {
	s.mu.Lock()
	defer s.mu.Unlock()
	return router.Origin{Addr: s.addr, TLS: s.tls, Mechanism: s.mech}
}

// Done is closed when the session's connection is closed.
func (s *Session) Done() <-chan struct{} { return s.done }

// Closing reports whether the session's closing has begun: from then on
// nothing more is written to it but what was queued before.
func (s *Session) Closing() bool { return s.closed.Load() }

// ClosingBegun is closed when the session's closing begins (Closing
// turns true): for a wait that must end when the session goes away,
// which Done, closed only after the core has heard of the end, is too
// late for.
func (s *Session) ClosingBegun() <-chan struct{} { return s.begun }

// Send queues el for the client, encoded at once (el may be changed or
// reused after Send returns, but not during it). It never blocks: when
// the queue is full the client is not reading, so the session is closed
// with <resource-constraint/> (RFC 6120 section 4.9.3.17: the server
// lacks the resources to service the stream), what was still queued is
// given up (each stanza's Receipt hears it) and ErrQueueFull is
// returned; a slow reader must never stall the sender, which is usually
// another account's queue. After closing began, Send returns ErrClosed.
//
// Build stanzas in the "jabber:client" namespace (children too, where
// they belong to it); a root with no namespace is taken as jabber:client.
func (s *Session) Send(el *stanza.Element) error { return s.SendReceipt(el, nil) }

// SendReceipt is Send, and r (if not nil) learns whether el was written
// (Receipt): every stanza is then either written or handed back, so that
// its sender can deliver it elsewhere, store it or bounce it. When
// SendReceipt returns an error, r has already heard false.
func (s *Session) SendReceipt(el *stanza.Element, r router.Receipt) error {
	if el.Name.Space == "" {
		root := *el
		root.Name.Space = stanza.NSClient
		el = &root
	}
	bp := sendBufs.Get().(*[]byte)
	b := el.AppendXML((*bp)[:0], stanza.NSClient)
	if s.csiInactive.Load() {
		// XEP-0352 (csi.go): presence waits while the client is
		// inactive; anything else first sends what waits.
		if r == nil && s.holdPresence(el, b) {
			s.srv.metrics.StanzaOut(el.Name.Local)
			return nil
		}
		s.flushHeld()
	}
	if err := s.enqueueItem(outItem{b: b, r: r, buf: bp}); err != nil {
		return err
	}
	s.srv.metrics.StanzaOut(el.Name.Local)
	return nil
}

// sendBufSize is where Send starts encoding: most stanzas (a chat
// message, a presence) fit, so they cost one allocation rather than a
// run of growing ones.
const sendBufSize = 384

// sendBufs lends Send its encoding buffers, which the writer gives back
// once their bytes are written (recycle): a presence broadcast to a
// hundred contacts otherwise leaves a hundred buffers of garbage, and the
// collector's work it causes is what sets the broadcast's p99.
var sendBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, sendBufSize)
	return &b
}}

// maxRecycledBuf is the largest buffer given back to sendBufs: a rare
// large stanza's buffer is left to the collector.
const maxRecycledBuf = 4096

// recycle gives written items' Send buffers back, unless stream
// management keeps them (track clears buf for those).
func recycle(items []outItem) {
	for _, it := range items {
		if it.buf != nil && cap(it.b) <= maxRecycledBuf {
			*it.buf = it.b[:0]
			sendBufs.Put(it.buf)
		}
	}
}

// SendRaw queues b, one or more complete top-level elements in the
// jabber:client namespace, as Send does. b must not be changed afterwards.
func (s *Session) SendRaw(b []byte) error { return s.enqueue(b, nil) }

func (s *Session) enqueue(b []byte, r router.Receipt) error {
	return s.enqueueItem(outItem{b: b, r: r})
}

func (s *Session) enqueueItem(it outItem) error {
	b, r := it.b, it.r
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		if r != nil {
			r.Written(false)
		}
		return ErrClosed
	}
	n, bytes := len(s.queue), s.qbytes
	if s.sm != nil {
		// What the client has not acknowledged is held too (XEP-0198).
		n, bytes = n+len(s.sm.unacked), bytes+s.sm.unackedBytes
	}
	if n >= s.srv.cfg.QueueLen || bytes+len(b) > s.srv.cfg.QueueBytes {
		if s.detached {
			// Suspended, and more waits than a session may hold: it ends
			// now, and what waited is handed back (sm.go).
			why := router.End{Cause: events.EndResumptionExpired, Detail: "more waited for the client than its queue holds"}
			ok := s.beginExpireLocked(why)
			s.mu.Unlock()
			if r != nil {
				r.Written(false)
			}
			if ok {
				go s.finishExpire(why)
			}
			return ErrQueueFull
		}
		// The stanzas still queued are not written either: the stream
		// error goes out at once, and their senders can route them
		// elsewhere now rather than after a write timeout.
		given := s.queue
		s.queue, s.qbytes = nil, 0
		s.queued.Store(0)
		e := withText(stream.ResourceConstraint, "client too slow to read")
		s.beginCloseLocked(append(stanza.StreamError(e), closeTag...), sentEnd(e))
		s.mu.Unlock()
		report(given, false)
		if r != nil {
			r.Written(false)
		}
		return ErrQueueFull
	}
	s.queue = append(s.queue, it)
	s.qbytes += len(b)
	s.queued.Store(int32(len(s.queue)))
	s.startWriterLocked()
	s.mu.Unlock()
	return nil
}

// Close ends the stream gracefully (RFC 6120 section 4.4): what is queued
// is sent, then </stream:stream>; it waits until the client closes its
// stream, or cuts the connection when ctx is done. Called from Core.Stanza
// for the same session it can only return at ctx's end (the reader is
// busy in the call): use CloseWithError there, which does not wait.
func (s *Session) Close(ctx context.Context) error {
	s.beginClose([]byte(closeTag), router.End{Cause: events.EndServerClosed})
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		nc := s.nc
		s.mu.Unlock()
		nc.Close()
		return ctx.Err()
	}
}

// CloseWithError ends the stream with a stream error (RFC 6120 section
// 4.9), after what is already queued; e.g. stream.Conflict when a new
// session replaces this one (section 4.9.3.3), stream.SystemShutdown.
// It does not wait.
func (s *Session) CloseWithError(e stream.Error) {
	s.beginClose(append(stanza.StreamError(e), closeTag...), sentEnd(e))
}

func (s *Session) beginClose(final []byte, end router.End) bool {
	s.mu.Lock()
	if s.detached {
		// Suspended (XEP-0198): no connection to close; it ends here.
		// (Off the caller's goroutine, which may be an account's actor
		// that the core's Ended must wait for.)
		ok := s.beginExpireLocked(end)
		s.mu.Unlock()
		if ok {
			go s.finishExpire(end)
		}
		return ok
	}
	defer s.mu.Unlock()
	return s.beginCloseLocked(final, end)
}

func (s *Session) beginCloseLocked(final []byte, end router.End) bool {
	if s.closing {
		return false
	}
	s.closing = true
	s.closed.Store(true)
	close(s.begun)
	s.linkLostLocked()
	s.final = final
	s.why = end
	s.startWriterLocked() // to write the final bytes
	return true
}

func (s *Session) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// end tells the core, once, that the session is over.
func (s *Session) end(why router.End) {
	s.endOnce.Do(func() {
		s.srv.core.Ended(s, why)
	})
}

// closeWhy is why closing began; ok is false if it has not.
func (s *Session) closeWhy() (why router.End, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.why, s.closing
}

// AcksReceipts reports whether the client enabled stream management
// (XEP-0198, sm.go): receipts then wait for its acknowledgement
// (router.Acknowledging).
func (s *Session) AcksReceipts() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sm != nil
}

// LinkLost is closed when the current connection is lost or closing
// begins (router.Acknowledging). After a resumption a new channel
// stands for the new connection.
func (s *Session) LinkLost() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost == nil {
		s.lost = make(chan struct{})
		if s.lostClosed {
			close(s.lost)
		}
	}
	return s.lost
}

func (s *Session) linkLostLocked() {
	if !s.lostClosed {
		s.lostClosed = true
		if s.lost != nil {
			close(s.lost)
		}
	}
}

// Session is what the core routes to.
var (
	_ router.Session       = (*Session)(nil)
	_ router.Acknowledging = (*Session)(nil)
)
