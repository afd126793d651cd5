package im

import (
	"context"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// Namespaces of the storage IQs (stanza/ns.go keeps the protocol ones).
const (
	nsVCard   = stanza.NSVCard
	nsPrivate = stanza.NSPrivate
)

// storageFeatures are the features storage.go and register.go (password
// change only) answer, for the server's disco#info (XEP-0054 section 7,
// XEP-0049, XEP-0077 section 10).
var storageFeatures = []string{stanza.NSVCard, stanza.NSPrivate, stanza.NSRegister}

// maxStoredXML is the configured bound on one stored element.
func (s *Core) maxStoredXML() int {
	if s.cfg.MaxStoredXML > 0 {
		return s.cfg.MaxStoredXML
	}
	return domain.DefaultMaxStoredXML
}

// storageIQ answers vcard-temp (XEP-0054) and jabber:iq:private
// (XEP-0049) requests addressed to the account bare (or with no 'to'
// from one of its resources). It reports whether q was one of them.
func (s *Core) storageIQ(ctx context.Context, bare string, x *session, st stanza.Stanza, q *stanza.Element, meta events.Meta) bool {
	switch {
	case q.Name.Space == nsVCard && q.Name.Local == "vCard":
		if st.Type == "get" {
			s.vcardGet(bare, x, st)
			return true
		}
		xml := q.String()
		s.store(ctx, bare, x, st, meta, func(a *domain.Account) (domain.Decision, error) {
			return domain.DecideVCardSet(a, st.From.Bare().String(), xml, s.maxStoredXML())
		})
		return true
	case isQuery(q, nsPrivate):
		s.privateIQ(ctx, bare, x, st, q, meta)
		return true
	}
	return false
}

// vcardGet answers a vCard retrieval (XEP-0054 sections 3.1 and 3.3):
// anyone may read a user's vCard; an account with none answers an empty
// <vCard/>; an account that does not exist is service-unavailable (RFC
// 6121 8.5.1).
//
// XEP-0398 5.2: a requester who may read both of the user's avatar nodes
// (section 7) is given the PEP avatar as the vCard's PHOTO (avatar.go).
func (s *Core) vcardGet(bare string, x *session, st stanza.Stanza) {
	stored, exists := s.views.VCard(bare)
	if !exists {
		s.reply(x, errorReply(st.El, errServiceUnavailable))
		return
	}
	var typ, binval string
	pep := false
	s.views.WithAccount(bare, func(a *domain.Account, _ *domain.PresenceView) {
		typ, binval, pep = a.VCardPhoto(st.From.Bare().String())
	})
	res := iqResult(st.El, st.To)
	switch {
	case pep:
		res.AddChild(vcardWithPhoto(stored, typ, binval))
	case stored == "":
		res.AddChild(stanza.New(nsVCard, "vCard"))
	default:
		res.Children = append(res.Children, stanza.Encoded(stored))
	}
	s.reply(x, res)
}

// privateIQ answers jabber:iq:private (XEP-0049 section 2): exactly one
// child element, namespaced; only the account's own user may get or set.
func (s *Core) privateIQ(ctx context.Context, bare string, x *session, st stanza.Stanza, q *stanza.Element, meta events.Meta) {
	if st.From.Bare().String() != bare {
		s.reply(x, errorReply(st.El, stanza.Error{Type: stanza.Cancel, Condition: stanza.Forbidden}))
		return
	}
	els := q.Elements()
	if len(els) != 1 {
		// Section 2, example 4 and table 2: "Bad Format", RFC 6120's
		// bad-request.
		s.reply(x, errorReply(st.El, errBadRequest))
		return
	}
	el := els[0]
	if domain.ReservedPrivateNamespace(el.Name.Space) {
		s.reply(x, errorReply(st.El, stanza.Error{Type: stanza.Modify, Condition: stanza.NotAcceptable}))
		return
	}
	if st.Type == "get" {
		res := iqResult(st.El, st.To)
		query := stanza.New(nsPrivate, "query")
		if stored := s.views.Private(bare, el.Name.Local, el.Name.Space); stored != "" {
			query.Children = append(query.Children, stanza.Encoded(stored))
		} else {
			// Section 2: nothing stored yet: the empty element asked for.
			query.AddChild(stanza.New(el.Name.Space, el.Name.Local))
		}
		s.reply(x, res.AddChild(query))
		return
	}
	xml := el.String()
	s.store(ctx, bare, x, st, meta, func(a *domain.Account) (domain.Decision, error) {
		return domain.DecidePrivateSet(a, st.From.Bare().String(), el.Name.Local, el.Name.Space, xml, s.pepLimits())
	})
}

// store records a storage decision in the account's stream, sends the
// PEP notifications it carries (XEP-0048 bookmarks in private storage
// also change the bookmark nodes, XEP-0402 5.3.2) and answers an empty
// result.
func (s *Core) store(ctx context.Context, bare string, x *session, st stanza.Stanza, meta events.Meta, decide func(a *domain.Account) (domain.Decision, error)) {
	d, err := s.execute(ctx, bare, events.AccountStream(bare), &meta, func(a *domain.Account, _ *domain.PresenceView) (domain.Decision, error) {
		return decide(a)
	})
	if err != nil {
		s.replyErr(x, st, err)
		return
	}
	s.pepEffects(bare, d.Effects)
	s.reply(x, iqResult(st.El, st.To))
}
