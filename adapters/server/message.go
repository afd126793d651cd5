package server

import (
	"context"

	"mellium.im/xmpp/jid"

	"xmppd/adapters/c2s"
	"xmppd/events"
)

// clientMessage routes a message from x (RFC 6121 5). Messages record no
// event on the sender's side; the recipient's actor decides delivery
// (8.5) and records offline storage.
func (s *Server) clientMessage(_ context.Context, x *session, st c2s.Stanza, meta events.Meta) {
	to := st.To
	switch {
	case to.Equal(jid.JID{}):
		// RFC 6120 10.3.1: no 'to' is the sender's own bare JID.
		st.El.SetAttr("to", x.full.Bare().String())
	case s.toServer(to):
		// RFC 6120 10.3.1 / 8.3.3.19: the server has no service for
		// messages addressed to itself.
		s.reply(x, errorReply(st.El, errServiceUnavailable))
		return
	}
	s.forward(st.El, meta)
}
