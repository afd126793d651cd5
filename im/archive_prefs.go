package im

import (
	"context"
	"strings"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// XEP-0441 archiving preferences: a user's <prefs/> in the
// urn:xmpp:mam:2 namespace, recorded as archive.prefs_set in the
// account's archive stream and applied to each message as it is archived
// (archiveCopies in archive.go; the rule is domain.ArchiveKeeps). Under
// the domain policy "always" (im.Config.ArchivePolicy) a get answers the
// forced preferences and a set is refused with not-allowed (XEP-0441
// 2.1: "the server generally does not allow changing of configuration
// preferences"), so a client is told its choice was not applied rather
// than shown preferences the server ignores.

var errNotAllowed = stanza.Error{Type: stanza.Cancel, Condition: stanza.NotAllowed}

// archiveKeeps reports whether owner's archive keeps el, which owner sent
// (out) or received. The other party is matched as XEP-0441 says: the
// 'to' of an outgoing message (2.3.2), the 'from' of an incoming one
// (2.3.3). An account with no preferences costs one index lookup.
func (s *Core) archiveKeeps(owner string, el *stanza.Element, out bool) bool {
	if s.cfg.ArchivePolicy == domain.ArchivePolicyAlways {
		return true
	}
	p, ok := s.views.ArchivePrefs(owner)
	if !ok {
		return true
	}
	target := el.Attr("from") // stamped by the server: canonical
	if out {
		target = s.addrOf(el, "to").String()
	}
	inRoster := false
	if p.Default == domain.ArchiveDefaultRoster {
		contact, _, _ := strings.Cut(target, "/")
		s.views.WithAccount(owner, func(a *domain.Account, _ *domain.PresenceView) {
			inRoster = a.Contact(contact).InRoster
		})
	}
	return domain.ArchiveKeeps(s.cfg.ArchivePolicy, p, target, inRoster)
}

// mamPrefs answers a <prefs/> get or set (XEP-0441 2.1) for bare's own
// session x.
func (s *Core) mamPrefs(ctx context.Context, bare string, x *session, st stanza.Stanza, q *stanza.Element, meta events.Meta) {
	if st.Type == "get" {
		p, _ := s.views.ArchivePrefs(bare)
		s.reply(x, iqResult(st.El, jid.JID{}).AddChild(prefsElement(p.Applied(s.cfg.ArchivePolicy))))
		return
	}
	if s.cfg.ArchivePolicy == domain.ArchivePolicyAlways {
		s.reply(x, errorReply(st.El, errNotAllowed))
		return
	}
	p, err := parsePrefs(q)
	if err != nil {
		s.reply(x, errorReply(st.El, condition(err)))
		return
	}
	committed, err := s.append(ctx, events.ArchiveStream(bare), events.Any, meta,
		[]events.Payload{events.ArchivePrefsSet{Default: p.Default, Always: p.Always, Never: p.Never}})
	if err == nil {
		pos := committed[len(committed)-1].Position
		s.noteArchived(pos)
		err = s.consumer.WaitFor(ctx, pos) // the next message is archived under them
	}
	if err != nil {
		s.reply(x, errorReply(st.El, errInternal))
		return
	}
	s.reply(x, iqResult(st.El, jid.JID{}).AddChild(prefsElement(p.Applied(s.cfg.ArchivePolicy))))
}

// parsePrefs reads a set's <prefs/>: 'default' is required and one of
// XEP-0441 2.1.1's values; each <jid/> a valid JID, kept canonical.
func parsePrefs(q *stanza.Element) (domain.ArchivePrefs, error) {
	p := domain.ArchivePrefs{Default: q.Attr("default")}
	if !domain.ValidArchiveDefault(p.Default) {
		return p, badMAM("prefs default %q: want always, never or roster (XEP-0441 2.1.1)", p.Default)
	}
	for _, list := range q.Elements() {
		var into *[]string
		switch {
		case list.Name.Space == stanza.NSMAM && list.Name.Local == "always":
			into = &p.Always
		case list.Name.Space == stanza.NSMAM && list.Name.Local == "never":
			into = &p.Never
		default:
			continue
		}
		for _, j := range list.Elements() {
			if j.Name.Local != "jid" {
				continue
			}
			addr, err := jid.Parse(strings.TrimSpace(j.Text()))
			if err != nil {
				return p, &mamRequestError{stanza.Error{Type: stanza.Modify, Condition: stanza.JIDMalformed}, "prefs jid: " + err.Error()}
			}
			*into = append(*into, addr.String())
		}
	}
	return p, nil
}

// prefsElement is XEP-0441 Example 2's <prefs/>: <always/> and <never/>
// present even when empty.
func prefsElement(p domain.ArchivePrefs) *stanza.Element {
	el := stanza.New(stanza.NSMAM, "prefs", "default", p.Default)
	for _, l := range []struct {
		name string
		jids []string
	}{{"always", p.Always}, {"never", p.Never}} {
		list := stanza.New(stanza.NSMAM, l.name)
		for _, j := range l.jids {
			list.AddChild(stanza.New(stanza.NSMAM, "jid").AddText(j))
		}
		el.AddChild(list)
	}
	return el
}

// noteArchived raises the position a MAM query waits for to pos, for an
// event appended to an archive stream outside the archive writer.
func (s *Core) noteArchived(pos uint64) {
	for {
		cur := s.archived.Load()
		if pos <= cur || s.archived.CompareAndSwap(cur, pos) {
			return
		}
	}
}
