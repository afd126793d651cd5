package im

import (
	"context"
	"crypto/rand"
	"fmt"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// registerIQ answers jabber:iq:register (XEP-0077) from a logged-in
// user, sent with no 'to', to their bare JID or to the server: a password
// change (section 3.3) is recorded as account.credentials_set with the
// session as actor; cancelling the account (section 3.2) only when
// Config.AllowAccountRemoval says so, else not-allowed (in-band
// registration of new accounts is not offered: `xmppd user add` creates
// accounts). It reports whether st was such a request.
func (s *Core) registerIQ(ctx context.Context, x *session, st stanza.Stanza, meta events.Meta) bool {
	if !(st.To.Equal(x.full.Bare()) || st.To.String() == "" || s.toServer(st.To)) {
		return false
	}
	els := st.El.Elements()
	if len(els) != 1 || !isQuery(els[0], stanza.NSRegister) || (st.Type != "get" && st.Type != "set") {
		return false
	}
	q := els[0]
	// Section 3.3: errors do not echo the request (it holds a password).
	bare := stanza.New(stanza.NSClient, "iq", "type", st.Type, "id", st.ID)
	if v := st.El.Attr("to"); v != "" {
		bare.SetAttr("to", v)
	}
	if v := st.El.Attr("from"); v != "" {
		bare.SetAttr("from", v)
	}
	if st.Type == "get" {
		// Section 3.1 asks a host for its registration fields; the
		// account exists, so say so (section 3.1, <registered/>).
		res := stanza.New(stanza.NSRegister, "query")
		res.AddChild(stanza.New(stanza.NSRegister, "registered"))
		res.AddChild(stanza.New(stanza.NSRegister, "username").AddText(x.full.Localpart()))
		res.AddChild(stanza.New(stanza.NSRegister, "password"))
		s.reply(x, iqResult(st.El, st.To).AddChild(res))
		return true
	}
	if q.Child("remove", stanza.NSRegister) != nil {
		s.removeAccount(ctx, x, st, q, bare, meta)
		return true
	}
	user, pass := q.Child("username", stanza.NSRegister), q.Child("password", stanza.NSRegister)
	if user == nil || pass == nil || user.Text() != x.full.Localpart() || pass.Text() == "" {
		// Section 3.3: an empty password MUST NOT become the password;
		// a username other than the user's own is not theirs to change.
		s.reply(x, errorReply(bare, errBadRequest))
		return true
	}
	iterations := s.cfg.ScramIterations
	if iterations == 0 {
		iterations = domain.MinScramIterations
	}
	creds, err := domain.NewCredentials(pass.Text(), iterations, rand.Reader)
	if err != nil {
		s.replyErr(x, stanza.Stanza{El: bare}, fmt.Errorf("im: password change: %w", err))
		return true
	}
	account := x.full.Bare().String()
	_, err = s.execute(ctx, account, events.AccountStream(account), &meta, func(a *domain.Account, _ *domain.PresenceView) (domain.Decision, error) {
		evs, err := domain.SetPassword(a, creds)
		return domain.Decision{Events: evs}, err
	})
	if err != nil {
		s.replyErr(x, stanza.Stanza{El: bare}, err)
		return true
	}
	s.reply(x, iqResult(st.El, st.To))
	return true
}

// removeAccount cancels the user's own account (XEP-0077 section 3.2,
// scenario 1): account.deleted with the session as actor, then the result
// (example 12); the views' consumer then tells the subscribers the user is
// gone and closes every session of the account with <not-authorized/>, as
// for `xmppd user del` (accounts.go). Off by default: not-allowed.
func (s *Core) removeAccount(ctx context.Context, x *session, st stanza.Stanza, q, bare *stanza.Element, meta events.Meta) {
	if !s.cfg.AllowAccountRemoval {
		s.reply(x, errorReply(bare, stanza.Error{Type: stanza.Cancel, Condition: stanza.NotAllowed}))
		return
	}
	if len(q.Elements()) != 1 {
		// Table 1: <remove/> must be the only child.
		s.reply(x, errorReply(bare, errBadRequest))
		return
	}
	account := x.full.Bare().String()
	_, err := s.execute(ctx, account, events.AccountStream(account), &meta, func(a *domain.Account, _ *domain.PresenceView) (domain.Decision, error) {
		evs, err := domain.DeleteAccount(a, "cancelled in band by the user (XEP-0077)")
		return domain.Decision{Events: evs}, err
	})
	if err != nil {
		s.replyErr(x, stanza.Stanza{El: bare}, err)
		return
	}
	s.reply(x, iqResult(st.El, st.To))
}
