package domain_test

import (
	"encoding/xml"
	"slices"
	"testing"
	"xmppd/stanza"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
)

func names(pairs ...string) []xml.Name {
	var out []xml.Name
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, xml.Name{Space: pairs[i], Local: pairs[i+1]})
	}
	return out
}

const (
	client = "jabber:client"
	cs     = stanza.NSChatStates
	hints  = stanza.NSHints
)

// TestClassifyMessage names each rule of ClassifyMessage: which messages
// are worth offline storage (XEP-0160 section 3, XEP-0085 5.8, XEP-0334).
func TestClassifyMessage(t *testing.T) {
	rows := []struct {
		name     string
		children []xml.Name
		want     domain.MessageContent
	}{
		{"body: stored (XEP-0160 3)", names(client, "body"), domain.StoreWorthy},
		{"body with <active/>: stored (XEP-0085 5.6 #2)", names(client, "body", cs, "active"), domain.StoreWorthy},
		{"<composing/> only: not stored (XEP-0160 3)", names(cs, "composing"), domain.ChatStateOnly},
		{"<paused/> only", names(cs, "paused"), domain.ChatStateOnly},
		{"<active/> only", names(cs, "active"), domain.ChatStateOnly},
		{"<inactive/> only", names(cs, "inactive"), domain.ChatStateOnly},
		{"<gone/> with <thread/> (XEP-0085 5.7): still chat state only", names(cs, "gone", client, "thread"), domain.ChatStateOnly},
		{"<composing/> with origin-id (XEP-0359) and carbons <private/>", names(cs, "composing", "urn:xmpp:sid:0", "origin-id", "urn:xmpp:carbons:2", "private"), domain.ChatStateOnly},
		{"<composing/> with <no-store/>: silent like any chat state", names(cs, "composing", hints, "no-store"), domain.ChatStateOnly},
		{"<composing/> with <store/>: stored (XEP-0334 4.4)", names(cs, "composing", hints, "store"), domain.StoreWorthy},
		{"subject and chat state: stored", names(client, "subject", cs, "active"), domain.StoreWorthy},
		{"direct invitation (XEP-0249) without body: stored", names("jabber:x:conference", "x"), domain.StoreWorthy},
		{"chat state and an encrypted payload without body: stored", names(cs, "active", "eu.siacs.conversations.axolotl", "encrypted"), domain.StoreWorthy},
		{"receipt without body: stored (XEP-0160 names only chat states)", names("urn:xmpp:receipts", "received"), domain.StoreWorthy},
		{"no children at all: stored (XEP-0160 3: normal SHOULD be stored)", nil, domain.StoreWorthy},
		{"body with <no-store/> (XEP-0334 4.2)", names(client, "body", hints, "no-store"), domain.NoStore},
		{"body with <no-permanent-store/> (4.1: the offline queue is permanent)", names(client, "body", hints, "no-permanent-store"), domain.NoStore},
		{"<no-store/> beats <store/>", names(client, "body", hints, "store", hints, "no-store"), domain.NoStore},
		{"body with <store/>", names(client, "body", hints, "store"), domain.StoreWorthy},
		{"body with <no-copy/>: stored", names(client, "body", hints, "no-copy"), domain.StoreWorthy},
		{"a chatstates-named element in another namespace is not a chat state", names("urn:example", "composing"), domain.StoreWorthy},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			if got := domain.ClassifyMessage(r.children); got != r.want {
				t.Errorf("ClassifyMessage(%v) = %v, want %v", r.children, got, r.want)
			}
		})
	}
}

// TestRouteMessageContent: Content changes only what would have been
// stored offline (RFC 6121 8.5.2.2.1): a chat state is dropped silently,
// a no-store message is answered with service-unavailable (8.5.2.2.1
// (b)), and to a resource that can take them both are delivered.
func TestRouteMessageContent(t *testing.T) {
	bare := jid.MustParse("juliet@example.com")
	garden := jid.MustParse("juliet@example.com/garden")
	balcony := jid.MustParse("juliet@example.com/balcony")
	none := view()
	negOnly := view(res{"balcony", true, -1})
	one := view(res{"balcony", true, 1})
	rows := []struct {
		name    string
		typ     string
		to      jid.JID
		content domain.MessageContent
		gone    []string
		v       *domain.PresenceView
		want    domain.RouteAction
		targets []string
	}{
		{"8.5.2.2.1 bare chat, chat state only, no resources -> ignore (XEP-0160 3)", "chat", bare, domain.ChatStateOnly, nil, none, domain.Ignore, nil},
		{"8.5.2.2.1 bare normal, chat state only, no resources -> ignore", "", bare, domain.ChatStateOnly, nil, none, domain.Ignore, nil},
		{"8.5.2.2.1 bare chat, chat state only, only negative priority -> ignore", "chat", bare, domain.ChatStateOnly, nil, negOnly, domain.Ignore, nil},
		{"8.5.3.2.1 full chat, no match, chat state only, no resources -> ignore", "chat", garden, domain.ChatStateOnly, nil, none, domain.Ignore, nil},
		{"8.5.2.2.1 bare chat, chat state, the only resource gone -> ignore", "chat", bare, domain.ChatStateOnly, []string{"balcony"}, one, domain.Ignore, nil},
		{"8.5.2.2.1 bare chat, no-store, no resources -> service-unavailable (b)", "chat", bare, domain.NoStore, nil, none, domain.Bounce, nil},
		{"8.5.2.2.1 bare normal, no-store, no resources -> service-unavailable", "normal", bare, domain.NoStore, nil, none, domain.Bounce, nil},
		{"8.5.3.2.1 full chat, no match, no-store, no resources -> service-unavailable", "chat", garden, domain.NoStore, nil, none, domain.Bounce, nil},
		{"8.5.2.2.1 bare chat, store-worthy, no resources -> offline", "chat", bare, domain.StoreWorthy, nil, none, domain.StoreOffline, nil},
		{"8.5.2.1.1 bare chat, chat state only, online -> delivered", "chat", bare, domain.ChatStateOnly, nil, one, domain.Deliver, []string{"balcony"}},
		{"8.5.2.1.1 bare chat, no-store, online -> delivered", "chat", bare, domain.NoStore, nil, one, domain.Deliver, []string{"balcony"}},
		{"8.5.3.1 full chat state to the matching resource -> delivered", "chat", balcony, domain.ChatStateOnly, nil, one, domain.Deliver, []string{"balcony"}},
		{"8.5.2.2.1 headline is ignored whatever it carries (a MUST over <store/>)", "headline", bare, domain.StoreWorthy, nil, none, domain.Ignore, nil},
		{"8.5.2.1.1 groupchat to bare is an error, chat state or not", "groupchat", bare, domain.ChatStateOnly, nil, none, domain.Bounce, nil},
		{"8.5.2.1.1 error is ignored, no-store or not", "error", bare, domain.NoStore, nil, none, domain.Ignore, nil},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			in := domain.RouteInput{Kind: domain.Message, Type: r.typ, To: r.to, AccountExists: true, Content: r.content, Gone: r.gone}
			got := domain.Route(in, r.v)
			if got.Action != r.want || !slices.Equal(got.Resources, r.targets) {
				t.Errorf("got %v %v (%s), want %v %v", got.Action, got.Resources, got.Rule, r.want, r.targets)
			}
			if got.Rule == "" {
				t.Error("no rule named")
			}
		})
	}
}
