package domain_test

import (
	"slices"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

// res describes one resource for view(): a negative prio with avail=false
// means connected but not available.
type res struct {
	name  string
	avail bool
	prio  int
}

func view(rs ...res) *domain.PresenceView {
	v := domain.NewPresenceView()
	for _, r := range rs {
		v.Apply(events.SessionStarted{Resource: r.name}, time.Time{})
		if r.avail {
			v.Apply(events.PresenceAvailable{Resource: r.name, Priority: r.prio, Stanza: "<presence/>"}, time.Time{})
		}
	}
	return v
}

func TestRoute(t *testing.T) {
	bare := jid.MustParse("juliet@example.com")
	balcony := jid.MustParse("juliet@example.com/balcony")
	garden := jid.MustParse("juliet@example.com/garden")
	none := view()
	negOnly := view(res{"balcony", true, -1})
	one := view(res{"balcony", true, 1})
	two := view(res{"balcony", true, 5}, res{"chamber", true, 5}, res{"hall", true, 1}, res{"dark", true, -3})
	connectedOnly := view(res{"balcony", false, 0})

	rows := []struct {
		rule    string
		kind    domain.StanzaKind
		typ     string
		to      jid.JID
		exists  bool
		trusted bool
		shares  bool
		v       *domain.PresenceView
		want    domain.RouteAction
		targets []string
	}{
		{"8.5.1 no such user: iq -> service-unavailable", domain.IQ, "get", bare, false, false, false, nil, domain.Bounce, nil},
		{"8.5.1 no such user: iq result -> ignore (RFC 6120 8.2.3)", domain.IQ, "result", balcony, false, false, false, nil, domain.Ignore, nil},
		{"8.5.1 no such user: message chat -> service-unavailable (as Prosody)", domain.Message, "chat", bare, false, false, false, nil, domain.Bounce, nil},
		{"8.5.1 no such user: message normal to full -> service-unavailable", domain.Message, "", balcony, false, false, false, nil, domain.Bounce, nil},
		{"8.5.1 no such user: groupchat to full -> service-unavailable", domain.Message, "groupchat", balcony, false, false, false, nil, domain.Bounce, nil},
		{"8.5.1 no such user: headline to full -> ignore", domain.Message, "headline", balcony, false, false, false, nil, domain.Ignore, nil},
		{"8.5.1 no such user: error -> ignore", domain.Message, "error", bare, false, false, false, nil, domain.Ignore, nil},
		{"8.5.4 no such user: bare groupchat -> E", domain.Message, "groupchat", bare, false, false, false, nil, domain.Bounce, nil},
		{"8.5.4 no such user: bare headline -> S", domain.Message, "headline", bare, false, false, false, nil, domain.Ignore, nil},
		{"8.5.1 no such user: presence available -> ignore", domain.Presence, "", bare, false, false, false, nil, domain.Ignore, nil},
		{"8.5.1 no such user: presence subscribe -> ignore", domain.Presence, "subscribe", bare, false, false, false, nil, domain.Ignore, nil},
		{"8.5.1 no such user: presence probe -> unsubscribed", domain.Presence, "probe", bare, false, false, false, nil, domain.ReplyUnsubscribed, nil},

		{"8.5.2.1.1 bare normal, one non-negative resource -> deliver", domain.Message, "normal", bare, true, false, false, one, domain.Deliver, []string{"balcony"}},
		{"8.5.2.1.1 bare normal, several non-negative -> most available (highest priority, ties all)", domain.Message, "", bare, true, false, false, two, domain.Deliver, []string{"balcony", "chamber"}},
		{"8.5.2.1.1 bare chat, several non-negative -> most available", domain.Message, "chat", bare, true, false, false, two, domain.Deliver, []string{"balcony", "chamber"}},
		{"8.5.2.1.1 bare chat, only negative priority -> as no resources: offline", domain.Message, "chat", bare, true, false, false, negOnly, domain.StoreOffline, nil},
		{"8.5.2.1.1 bare normal, only negative priority -> offline", domain.Message, "normal", bare, true, false, false, negOnly, domain.StoreOffline, nil},
		{"8.5.2.1.1 bare groupchat -> service-unavailable", domain.Message, "groupchat", bare, true, false, false, one, domain.Bounce, nil},
		{"8.5.2.1.1 bare headline -> all non-negative resources", domain.Message, "headline", bare, true, false, false, two, domain.Deliver, []string{"balcony", "chamber", "hall"}},
		{"8.5.2.1.1 bare headline, only negative -> ignore", domain.Message, "headline", bare, true, false, false, negOnly, domain.Ignore, nil},
		{"8.5.2.1.1 bare error -> ignore", domain.Message, "error", bare, true, false, false, one, domain.Ignore, nil},
		{"5.2.2 unknown message type is normal", domain.Message, "bogus", bare, true, false, false, one, domain.Deliver, []string{"balcony"}},
		{"8.5.2.1.2 bare presence -> all available resources (negative too)", domain.Presence, "", bare, true, false, false, two, domain.Deliver, []string{"balcony", "chamber", "dark", "hall"}},
		{"8.5.2.1.2 bare presence unavailable -> all available resources", domain.Presence, "unavailable", bare, true, false, false, one, domain.Deliver, []string{"balcony"}},
		{"8.5.2.1.2 bare presence subscribe -> section 3", domain.Presence, "subscribe", bare, true, false, false, one, domain.HandleSubscription, nil},
		{"8.5.2.1.2 bare presence probe -> section 4.3", domain.Presence, "probe", bare, true, false, false, one, domain.HandleProbe, nil},
		{"8.5.2.1.3 bare iq -> server answers for the user", domain.IQ, "get", bare, true, false, false, one, domain.HandleIQ, nil},
		{"8.5.2.2.1 bare chat, no resources -> offline", domain.Message, "chat", bare, true, false, false, none, domain.StoreOffline, nil},
		{"8.5.2.2.1 bare normal, connected but not available -> offline", domain.Message, "normal", bare, true, false, false, connectedOnly, domain.StoreOffline, nil},
		{"8.5.2.2.1 bare groupchat, no resources -> error", domain.Message, "groupchat", bare, true, false, false, none, domain.Bounce, nil},
		{"8.5.2.2.1 bare headline, no resources -> ignore", domain.Message, "headline", bare, true, false, false, none, domain.Ignore, nil},
		{"8.5.2.2.2 bare presence, no resources -> ignore", domain.Presence, "", bare, true, false, false, none, domain.Ignore, nil},
		{"8.5.2.2.2 bare presence unsubscribed, no resources -> section 3", domain.Presence, "unsubscribed", bare, true, false, false, none, domain.HandleSubscription, nil},
		{"8.5.2.2.2 bare presence probe, no resources -> 4.3", domain.Presence, "probe", bare, true, false, false, none, domain.HandleProbe, nil},
		{"8.5.2.2.3 bare iq, no resources -> server answers", domain.IQ, "set", bare, true, false, false, none, domain.HandleIQ, nil},

		{"8.5.3.1 full match: message -> deliver", domain.Message, "chat", balcony, true, false, false, negOnly, domain.Deliver, []string{"balcony"}},
		{"8.5.3.1 full match: groupchat -> deliver", domain.Message, "groupchat", balcony, true, false, false, one, domain.Deliver, []string{"balcony"}},
		{"8.5.3.1 full match on a connected (not available) resource -> deliver", domain.Message, "normal", balcony, true, false, false, connectedOnly, domain.Deliver, []string{"balcony"}},
		{"8.5.3.1 full match: iq get without shared presence -> service-unavailable", domain.IQ, "get", balcony, true, true, false, one, domain.Bounce, nil},
		{"8.5.3.1 full match: iq set with shared presence -> deliver", domain.IQ, "set", balcony, true, false, true, one, domain.Deliver, []string{"balcony"}},
		{"8.5.3.1 full match: iq result -> deliver", domain.IQ, "result", balcony, true, false, false, one, domain.Deliver, []string{"balcony"}},
		{"8.5.3.1 full match: iq error -> deliver", domain.IQ, "error", balcony, true, false, false, one, domain.Deliver, []string{"balcony"}},
		{"8.5.3.1 full match: presence -> deliver", domain.Presence, "unavailable", balcony, true, false, false, one, domain.Deliver, []string{"balcony"}},
		{"8.5.3.1 full match: presence subscribed -> section 3", domain.Presence, "subscribed", balcony, true, false, false, one, domain.HandleSubscription, nil},
		{"8.5.3.1 full match: presence probe -> 4.3", domain.Presence, "probe", balcony, true, false, false, one, domain.HandleProbe, nil},

		{"8.5.3.2.1 no match: chat -> as bare, most available", domain.Message, "chat", garden, true, false, false, two, domain.Deliver, []string{"balcony", "chamber"}},
		{"8.5.3.2.1 no match: chat, no resources -> offline", domain.Message, "chat", garden, true, false, false, none, domain.StoreOffline, nil},
		{"8.5.3.2.1 no match: chat, only negative -> offline", domain.Message, "chat", garden, true, false, false, negOnly, domain.StoreOffline, nil},
		{"8.5.3.2.1 no match: normal, stranger -> silently ignore (8.1)", domain.Message, "normal", garden, true, false, false, one, domain.Ignore, nil},
		{"8.5.3.2.1 no match: normal, trusted sender -> service-unavailable (8.1)", domain.Message, "normal", garden, true, true, false, one, domain.Bounce, nil},
		{"8.5.3.2.1 no match: groupchat, trusted -> service-unavailable", domain.Message, "groupchat", garden, true, true, false, one, domain.Bounce, nil},
		{"8.5.3.2.1 no match: headline, stranger -> ignore", domain.Message, "headline", garden, true, false, false, one, domain.Ignore, nil},
		{"8.5.3.2.1 no match: error -> ignore", domain.Message, "error", garden, true, true, false, one, domain.Ignore, nil},
		{"8.5.3.2.2 no match: presence available -> ignore", domain.Presence, "", garden, true, false, false, one, domain.Ignore, nil},
		{"8.5.3.2.2 no match: presence subscribe -> 3.1.3", domain.Presence, "subscribe", garden, true, false, false, one, domain.HandleSubscription, nil},
		{"8.5.3.2.2 no match: presence unsubscribed -> ignore", domain.Presence, "unsubscribed", garden, true, false, false, one, domain.Ignore, nil},
		{"8.5.3.2.2 no match: presence probe -> 4.3", domain.Presence, "probe", garden, true, false, false, one, domain.HandleProbe, nil},
		{"8.5.3.2.3 no match: iq get -> service-unavailable", domain.IQ, "get", garden, true, true, true, one, domain.Bounce, nil},
		{"8.5.3.2.3 no match: iq result -> ignore (RFC 6120 8.2.3 #4)", domain.IQ, "result", garden, true, true, true, one, domain.Ignore, nil},
		{"8.5.3.2.3 no match: iq error -> ignore", domain.IQ, "error", garden, true, true, true, none, domain.Ignore, nil},
		{"8.5.3.2.1 no match: groupchat, stranger -> service-unavailable", domain.Message, "groupchat", garden, true, false, false, none, domain.Bounce, nil},
	}
	for _, r := range rows {
		t.Run(r.rule, func(t *testing.T) {
			got := domain.Route(domain.RouteInput{Kind: r.kind, Type: r.typ, To: r.to, AccountExists: r.exists, SenderTrusted: r.trusted, SenderSharesPresence: r.shares}, r.v)
			if got.Action != r.want || !slices.Equal(got.Resources, r.targets) {
				t.Errorf("got %v %v (%s), want %v %v", got.Action, got.Resources, got.Rule, r.want, r.targets)
			}
			if got.Rule == "" {
				t.Error("no rule named")
			}
		})
	}
}

// TestRouteAroundGoneResources: a resource whose stream is closing, or
// whose end could not be recorded, is treated as absent, and a message
// on its way to it is routed as if to the bare JID (8.5.2), so it reaches
// another resource or offline storage and is never lost.
func TestRouteAroundGoneResources(t *testing.T) {
	bare := jid.MustParse("juliet@example.com")
	balcony := jid.MustParse("juliet@example.com/balcony")
	two := view(res{"balcony", true, 5}, res{"chamber", true, 5}, res{"hall", true, 1})
	one := view(res{"balcony", true, 5})
	rows := []struct {
		name    string
		kind    domain.StanzaKind
		typ     string
		to      jid.JID
		gone    []string
		v       *domain.PresenceView
		want    domain.RouteAction
		targets []string
	}{
		{"bare chat: the other most available resource", domain.Message, "chat", bare, []string{"balcony"}, two, domain.Deliver, []string{"chamber"}},
		{"bare chat: both top resources gone, the next one", domain.Message, "chat", bare, []string{"balcony", "chamber"}, two, domain.Deliver, []string{"hall"}},
		{"bare chat: every resource gone -> offline", domain.Message, "chat", bare, []string{"balcony"}, one, domain.StoreOffline, nil},
		{"full normal to a gone resource -> as bare: another resource", domain.Message, "normal", balcony, []string{"balcony"}, two, domain.Deliver, []string{"chamber"}},
		{"full normal to the only, gone resource -> offline (not ignored)", domain.Message, "normal", balcony, []string{"balcony"}, one, domain.StoreOffline, nil},
		{"full chat to the only, gone resource -> offline", domain.Message, "chat", balcony, []string{"balcony"}, one, domain.StoreOffline, nil},
		{"full headline to a gone resource -> the others", domain.Message, "headline", balcony, []string{"balcony"}, two, domain.Deliver, []string{"chamber", "hall"}},
		{"full error to a gone resource -> ignore", domain.Message, "error", balcony, []string{"balcony"}, two, domain.Ignore, nil},
		{"full iq get to a gone resource -> service-unavailable", domain.IQ, "get", balcony, []string{"balcony"}, two, domain.Bounce, nil},
		{"full iq result to a gone resource -> ignore", domain.IQ, "result", balcony, []string{"balcony"}, two, domain.Ignore, nil},
		{"bare presence: the live resources only", domain.Presence, "", bare, []string{"chamber"}, two, domain.Deliver, []string{"balcony", "hall"}},
		{"full presence to a gone resource -> ignore", domain.Presence, "unavailable", balcony, []string{"balcony"}, one, domain.Ignore, nil},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			in := domain.RouteInput{Kind: r.kind, Type: r.typ, To: r.to, AccountExists: true, SenderTrusted: true, SenderSharesPresence: true, Gone: r.gone}
			got := domain.Route(in, r.v)
			if got.Action != r.want || !slices.Equal(got.Resources, r.targets) {
				t.Errorf("got %v %v (%s), want %v %v", got.Action, got.Resources, got.Rule, r.want, r.targets)
			}
		})
	}
	// The view itself is not changed by routing around.
	if got := domain.Route(domain.RouteInput{Kind: domain.Message, Type: "chat", To: bare, AccountExists: true}, one); got.Action != domain.Deliver {
		t.Errorf("after routing around, the view lost its resource: %v", got.Action)
	}
}
