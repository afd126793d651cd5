package im

import (
	"context"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// clientStanza turns one stanza from x's client into a command for x's
// account (DESIGN.md flow step 2). It runs on x's account's actor. c2s
// has already stamped 'from' with x's full JID (RFC 6120 8.1.2.1) and
// checked 'to'. done is called once the stanza is handled: for a
// message, once the recipient's actor has (clientMessage); for anything
// else, when the command returns.
func (s *Core) clientStanza(ctx context.Context, x *session, st stanza.Stanza, done func()) {
	meta := s.sessionMeta(x, st.ID)
	if st.Kind == stanza.KindMessage && !domain.IsRemote(st.To, s.cfg.Domain) {
		s.clientMessage(x, st, meta, done)
		return
	}
	defer done()
	to := st.To
	if domain.IsRemote(to, s.cfg.Domain) {
		s.reply(x, errorReply(st.El, errRemoteServerNotFound))
		return
	}
	if st.Kind != stanza.KindMessage && s.refuseBlocked(x, st) { // messages: clientMessage
		return
	}
	switch st.Kind {
	case stanza.KindPresence:
		s.clientPresence(ctx, x, st, meta)
	case stanza.KindIQ:
		s.clientIQ(ctx, x, st, meta)
	}
}

// reply sends el (if not nil) to x's client.
func (s *Core) reply(x *session, el *stanza.Element) {
	if el != nil && x != nil {
		x.sess.Send(el)
	}
}

// replyErr answers st with the stanza error err maps to (errors.go).
func (s *Core) replyErr(x *session, st stanza.Stanza, err error) {
	s.log.Debug("im: refused", "stanza", st.ID, "from", st.From.String(), "err", err)
	s.reply(x, errorReply(st.El, condition(err)))
}

// forward hands a stanza from a local entity to the account it is
// addressed to: an inbound command on that account's actor (inbound.go).
// Stanzas for other domains are dropped: only server-generated stanzas
// reach here for them (clients get remote-server-not-found earlier), and
// there is nobody to tell.
func (s *Core) forward(el *stanza.Element, meta events.Meta) {
	s.forwardThen(el, meta, nil)
}

// forwardThen is forward, calling done (if not nil) once the addressee's
// actor has handled the stanza, or at once if it is dropped.
func (s *Core) forwardThen(el *stanza.Element, meta events.Meta, done func()) {
	s.forwardAt(el, &meta, 0, done)
}

// forwardAt is forwardThen for the copy of an available broadcast
// recorded at log position at (domain.RouteInput.BroadcastAt; 0 for any
// other stanza).
// meta is shared, not copied: a broadcast hands the same one to every
// contact's command, which only read it.
func (s *Core) forwardAt(el *stanza.Element, meta *events.Meta, at uint64, done func()) {
	to, err := s.addrs.Parse(el.Attr("to"))
	if err != nil || !domain.IsLocalAccount(to.JID, s.cfg.Domain) {
		s.log.Debug("im: dropped stanza for an unreachable address", "to", el.Attr("to"))
		if done != nil {
			done()
		}
		return
	}
	bare := to.Bare
	s.actors.enqueue(bare, func(ctx context.Context) {
		s.inboundThen(ctx, bare, el, *meta, at, done)
	})
}

// toServer reports whether a stanza is addressed to the bare domain.
func (s *Core) toServer(to jid.JID) bool { return domain.IsServer(to, s.cfg.Domain) }
