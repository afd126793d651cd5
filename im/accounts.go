package im

import (
	"context"
	"strings"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stream"

	"xmppd/domain"
	"xmppd/events"
)

// deletedAccount is what the core must still know of an account once its
// deletion is applied (the deletion clears the roster).
type deletedAccount struct {
	bare        string
	subscribers []jid.JID // contacts with a subscription to the account's presence
	available   []string  // available resources
}

// beforeDeletion captures, before account.deleted is applied, who sees
// the account's presence.
func (s *Core) beforeDeletion(streamName string) *deletedAccount {
	bare, ok := strings.CutPrefix(streamName, events.AccountPrefix)
	if !ok {
		return nil
	}
	g := &deletedAccount{bare: bare}
	s.views.WithAccount(bare, func(a *domain.Account, p *domain.PresenceView) {
		for _, c := range a.Roster() {
			if domain.HasFrom(c.Subscription) {
				g.subscribers = append(g.subscribers, s.mustJID(c.JID))
			}
		}
		for _, r := range p.Available() {
			g.available = append(g.available, r.Name)
		}
	})
	return g
}

// accountDeleted ends the deleted account's sessions (`xmppd user del`,
// possibly from another process). Its subscribers first get unavailable
// presence from each available resource (RFC 6121 4.5.2: the user is
// gone), since the deletion cleared the roster the session end would
// broadcast to. The streams are closed with <not-authorized/>: RFC 6120
// 4.9.3.12 is the condition for an entity no longer authorised to use the
// stream, and the client must not reconnect with the same credentials
// (which <conflict/> or <reset/> would invite). It is called from the
// views' consumer and only enqueues.
func (s *Core) accountDeleted(g *deletedAccount) {
	s.actors.enqueue(g.bare, func(ctx context.Context) {
		meta := s.serverMeta()
		for _, r := range g.available {
			for _, c := range g.subscribers {
				s.sendPresence(domain.SendPresence{From: s.fullOf(g.bare, r), To: c, Type: "unavailable"}, meta)
			}
		}
		e := stream.NotAuthorized
		e.Text = append(e.Text, struct {
			Lang  string
			Value string
		}{"en", "account deleted"})
		for _, x := range s.reg.All(g.bare) {
			if err := s.endSession(ctx, x, events.SessionEnded{Cause: events.EndAccountDeleted, Condition: e.Err, Detail: "account deleted"}); err != nil {
				s.log.Error("im: end session of deleted account", "jid", x.full.String(), "err", err)
			}
			x.sess.CloseWithError(e)
		}
	})
}
