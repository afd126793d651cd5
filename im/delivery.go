package im

import (
	"context"
	"sync/atomic"

	"xmppd/events"
	"xmppd/stanza"
)

// The delivery rule (DESIGN.md, "Nothing lost"): a stanza the router
// hands to sessions is written to at least one of them, or it is routed
// again as if those sessions were gone: to the account's other resources,
// to offline storage, or back to its sender as an error (domain.Route
// with RouteInput.Gone decides which). A session whose stream is closing
// is never chosen (live), and one that fails after accepting a stanza
// hands it back through its router.Receipt (delivery.Written).

// live splits the resources a decision chose into the sessions that can
// still be written to, appended to sessions, and the names of those that
// cannot: no session in the registry (its end could not be recorded yet)
// or one whose stream is closing.
func (s *Core) live(bare string, resources []string, sessions []*session) (_ []*session, gone []string) {
	for _, r := range resources {
		if x := s.reg.Resource(bare, r); x != nil && !x.sess.Closing() {
			sessions = append(sessions, x)
		} else {
			gone = append(gone, r)
		}
	}
	return sessions, gone
}

// sendTracked writes el to the sessions, and if none of them ends up
// writing it routes it again on bare's actor (inbound), where the failed
// sessions, closing by then, count as gone.
func (s *Core) sendTracked(bare string, to []*session, el *stanza.Element, meta events.Meta) {
	d := &delivery{s: s, bare: bare, el: el, meta: meta}
	d.pending.Store(int32(len(to)))
	for _, x := range to {
		x.sess.SendReceipt(el, d)
	}
}

// delivery is the router.Receipt of one stanza sent to one or more of an
// account's sessions (the copies of a message to the bare JID).
type delivery struct {
	s       *Core
	bare    string
	el      *stanza.Element
	meta    events.Meta
	pending atomic.Int32 // copies not yet reported
	written atomic.Bool  // some copy was written
}

// Written is called once per copy. When the last copy is reported and
// none was written, the stanza is routed again.
func (d *delivery) Written(ok bool) {
	if ok {
		d.written.Store(true)
	}
	if d.pending.Add(-1) != 0 || d.written.Load() {
		return
	}
	d.s.actors.enqueue(d.bare, func(ctx context.Context) {
		d.s.inbound(ctx, d.bare, d.el, d.meta)
	})
}
