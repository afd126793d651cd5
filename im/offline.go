package im

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
	"xmppd/router"
	"xmppd/stanza"
)

// errStoreRefused answers a sender whose message could not be stored
// because the store refused the write (a full disk): RFC 6120 8.3.3.18,
// the server lacks the resources; type wait, the sender may try later.
var errStoreRefused = stanza.Error{Type: stanza.Wait, Condition: stanza.ResourceConstraint}

// storeOffline keeps a stanza for the account bare (XEP-0160; RFC 6121
// 8.5.2.2.1 "O"): offline.queued in offline-<bare>, with the stanza whole.
// A message beyond the account's offline limit is refused with a
// domain error (service-unavailable, XEP-0160 section 3); a store failure
// with errStoreRefused. It runs on bare's actor.
func (s *Core) storeOffline(ctx context.Context, bare, kind string, el *stanza.Element, meta events.Meta) error {
	q := events.OfflineQueued{Kind: kind, From: el.Attr("from"), Stanza: encode(el)}
	if kind == "message" {
		count, total := 0, 0
		for _, it := range s.views.Offline(bare) {
			if it.Kind == "message" {
				count++
				total += len(it.Stanza)
			}
		}
		if err := domain.AdmitOffline(s.cfg.Offline, count, total, len(q.Stanza)); err != nil {
			s.log.Info("im: offline storage full", "to", bare, "from", q.From, "messages", count, "bytes", total)
			return err
		}
	}
	_, err := s.execute(ctx, bare, events.OfflineStream(bare), &meta, func(*domain.Account, *domain.PresenceView) (domain.Decision, error) {
		return domain.Decision{Events: []events.Payload{q}}, nil
	})
	if err != nil {
		s.log.Error("im: store offline", "to", bare, "from", q.From, "err", err)
		return errors.Join(errStoreRefused, err)
	}
	return nil
}

// deliverOffline sends x every stanza queued for its account, oldest
// first, each with a XEP-0203 <delay/> stamped when it was queued (XEP-0160
// section 3; XEP-0203 section 3: "from" is the server that delayed it),
// and records offline.delivered through the last one the client is known
// to have read: each window of stanzas is written to x's connection
// (router.Receipt) and then answered for by the client (clientack.go), or,
// with XEP-0198, acknowledged by it (router.Acknowledging); what
// a slow or vanished client did not get stays queued for its next
// session. The stanzas go in windows that
// fit well within the session's output queue, each written before the
// next is queued, so a large backlog paces itself to the client instead
// of overflowing its queue. It runs on x's account's actor, which it
// holds until the backlog is written (new stanzas for the account wait
// behind it and so arrive after the older ones).
func (s *Core) deliverOffline(ctx context.Context, x *session, meta events.Meta) {
	items := s.views.Offline(x.bare)
	maxBytes, maxLen := s.offlineWindow()
	waitEach := true   // wait for the client's answer after each window
	var unacked uint64 // written through this version, not yet answered for
	acking, _ := x.sess.(router.Acknowledging)
	for len(items) > 0 && !x.sess.Closing() {
		// With XEP-0198 the receipts are the client's own
		// acknowledgements: no ping is needed, and the wait ends when the
		// connection is lost (the session is suspended), not only when it
		// closes; what was not acknowledged stays queued.
		sm := acking != nil && acking.AcksReceipts()
		ends := x.sess.ClosingBegun()
		if sm {
			ends = acking.LinkLost()
		}
		var w offlineWindow
		var els []*stanza.Element
		n, size := 0, 0
		for n < len(items) && (n == 0 || (size+len(items[n].Stanza) <= maxBytes && n < maxLen)) {
			if items[n].Gone == events.GoneMissing {
				// No key store holds its key: keys.db was lost or
				// replaced, not erased or expired. The stanza is still
				// in the log, sealed, and readable once the key file is
				// restored: it and what follows stay queued.
				break
			}
			size += len(items[n].Stanza)
			var el *stanza.Element
			var err error
			if gone := items[n].Gone; gone != "" {
				// Its key is gone (retention destroyed the month's key
				// while it waited): nothing is left to deliver, and it
				// is recorded as delivered with the rest.
				s.log.Info("im: offline stanza unreadable, its key is gone; not delivered", "account", x.bare, "version", items[n].Version, "gone", gone)
			} else if el, err = parseStanza(items[n].Stanza); err != nil {
				s.log.Error("im: stored stanza does not parse", "account", x.bare, "version", items[n].Version, "err", err)
				el = nil // recorded as delivered with the rest: it never will be
			}
			els = append(els, el)
			n++
		}
		if n == 0 {
			s.log.Error("im: offline stanza sealed under a key the key store does not hold; it and the rest stay queued until keys.db is restored", "account", x.bare, "version", items[0].Version, "left", len(items))
			break
		}
		w.init(n)
		for i, el := range els {
			if el == nil {
				w.report(i, true)
				continue
			}
			x.sess.SendReceipt(withDelay(el, s.cfg.Domain, items[i].Recorded), offlineReceipt{&w, i})
		}
		written := w.wait(s.offlineWait(), ends)
		if written > 0 {
			through := items[written-1].Version
			if sm {
				s.recordOfflineDelivered(ctx, x, meta, through)
			} else if !waitEach {
				unacked = through
			} else {
				switch s.awaitClientAck(x, s.clientAckWait()) {
				case ackAnswered:
					s.recordOfflineDelivered(ctx, x, meta, through)
				case ackGone:
					// Written, but not known to be read (clientack.go):
					// the next session gets this window again.
					return
				case ackSilent:
					// A client that stopped reading, or one that does not
					// answer IQs: the rest is sent without waiting, and
					// recorded only if the client answers at the end.
					s.log.Warn("im: client has not answered for offline stanzas (RFC 6120 8.2.3); what it is sent now is recorded only once it answers", "jid", x.fullStr)
					waitEach, unacked = false, through
				}
			}
		}
		if written < n {
			s.log.Info("im: offline delivery stopped; the rest stays queued", "account", x.bare, "resource", x.resource, "left", len(items)-written)
			if sm {
				// Suspended: a resumption sends the window again, and the
				// client's acknowledgements then still count.
				s.recordWhenAcknowledged(x, meta, &w, items[:n])
			}
			break
		}
		items = items[n:]
	}
	if unacked > 0 && !x.sess.Closing() {
		if s.awaitClientAck(x, s.clientAckWait()) == ackAnswered {
			s.recordOfflineDelivered(ctx, x, meta, unacked)
			return
		}
		s.log.Warn("im: client never answered for offline stanzas; they stay queued for its next session", "jid", x.fullStr)
	}
}

// recordWhenAcknowledged waits, off the actor, for the rest of window w's
// receipts (c2s reports each exactly once: acknowledged after a
// resumption, or not when the session ends) and records offline.delivered
// through what the client acknowledged, so that a window resent on
// resumption is not delivered a second time at the next login.
func (s *Core) recordWhenAcknowledged(x *session, meta events.Meta, w *offlineWindow, items []projections.OfflineItem) {
	go func() {
		t := time.NewTimer(smReceiptWait)
		defer t.Stop()
		select {
		case <-w.done:
		case <-t.C:
		}
		n := w.written()
		if n == 0 {
			return
		}
		through := items[n-1].Version
		s.actors.enqueue(x.bare, func(ctx context.Context) {
			s.recordOfflineDelivered(ctx, x, meta, through)
		})
	}()
}

// smReceiptWait bounds recordWhenAcknowledged's wait: longer than any
// resumption timeout a deployment would set.
const smReceiptWait = 2 * time.Hour

// recordOfflineDelivered records offline.delivered through version. The
// wait for the client may have outlived the command's deadline, so it
// has its own.
func (s *Core) recordOfflineDelivered(ctx context.Context, x *session, meta events.Meta, through uint64) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CommandTimeout)
	defer cancel()
	done := events.OfflineDelivered{Through: through, Resource: x.resource}
	_, err := s.execute(rctx, x.bare, events.OfflineStream(x.bare), &meta, func(*domain.Account, *domain.PresenceView) (domain.Decision, error) {
		return domain.Decision{Events: []events.Payload{done}}, nil
	})
	if err != nil {
		// The stanzas stay queued in the views and the log: the next
		// session gets them again (at least once, never lost).
		s.log.Error("im: record offline delivery", "account", x.bare, "through", through, "err", err)
	}
}

// offlineWindow is how much of the backlog is sent before the client is
// asked to answer for it: at most half the session's output queue, so
// live stanzas still fit beside it, and at most offlineWindowBytes and
// offlineWindowLen, so that a client that goes away leaves little to be
// delivered twice.
func (s *Core) offlineWindow() (bytes, count int) {
	bytes, count = s.cfg.SendQueue.Bytes, s.cfg.SendQueue.Len
	if bytes == 0 {
		bytes = 2 * offlineWindowBytes
	}
	if count == 0 {
		count = 2 * offlineWindowLen
	}
	return max(min(bytes/2, offlineWindowBytes), 1), max(min(count/2, offlineWindowLen), 1)
}

const (
	offlineWindowBytes = 1 << 20
	offlineWindowLen   = 200
)

// offlineWait bounds the wait for one window. c2s reports every stanza
// within its write timeout (a write that makes no progress fails), so
// this only guards against a broken promise.
func (s *Core) offlineWait() time.Duration {
	wt := s.cfg.SendQueue.WriteTimeout
	if wt == 0 {
		wt = defaultWriteTimeout
	}
	return 4*wt + time.Minute
}

// clientAckWait is how long a client has to answer for a window it was
// sent (clientack.go): as long as a write to it may take, and at most
// maxClientAckWait, because the account's actor waits meanwhile (another
// resource's bind waits behind it, for at most the command timeout).
func (s *Core) clientAckWait() time.Duration {
	wt := s.cfg.SendQueue.WriteTimeout
	if wt <= 0 {
		wt = defaultWriteTimeout
	}
	return min(wt, maxClientAckWait)
}

const maxClientAckWait = 3 * time.Second

// offlineWindow collects the receipts of one window of offline stanzas.
type offlineWindow struct {
	ok      []atomic.Bool
	pending atomic.Int32
	done    chan struct{}
}

func (w *offlineWindow) init(n int) {
	w.ok = make([]atomic.Bool, n)
	w.pending.Store(int32(n))
	w.done = make(chan struct{})
}

func (w *offlineWindow) report(i int, ok bool) {
	w.ok[i].Store(ok)
	if w.pending.Add(-1) == 0 {
		close(w.done)
	}
}

// wait returns how many stanzas from the window's start were written,
// once all are reported, the session begins closing (what is reported
// later is not counted: the next session gets it) or after limit.
func (w *offlineWindow) wait(limit time.Duration, closing <-chan struct{}) int {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-w.done:
	case <-closing:
	case <-t.C:
	}
	return w.written()
}

// written is how many stanzas from the window's start were written (or
// acknowledged) so far.
func (w *offlineWindow) written() int {
	n := 0
	for n < len(w.ok) && w.ok[n].Load() {
		n++
	}
	return n
}

type offlineReceipt struct {
	w *offlineWindow
	i int
}

func (r offlineReceipt) Written(ok bool) { r.w.report(r.i, ok) }
