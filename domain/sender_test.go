package domain_test

import (
	"reflect"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

// TestRouteIgnoresSenderForBareJIDs holds Route to what the core relies
// on when it skips KnowSender (RouteUsesSender): for a stanza to a bare
// JID, SenderTrusted and SenderSharesPresence change nothing. Should Route
// ever use them there, this fails and RouteUsesSender must change with it.
func TestRouteIgnoresSenderForBareJIDs(t *testing.T) {
	bare := jid.MustParse("juliet@example.com")
	full := jid.MustParse("juliet@example.com/balcony")
	view := func(prios ...int) *domain.PresenceView {
		v := domain.NewPresenceView()
		for i, p := range prios {
			name := string(rune('a' + i))
			v.Apply(events.SessionStarted{Resource: name}, time.Time{})
			if p > -100 {
				v.Apply(events.PresenceAvailable{Resource: name, Priority: p, Stanza: "<presence/>"}, time.Time{})
			}
		}
		return v
	}
	views := []*domain.PresenceView{nil, view(), view(-100), view(-1), view(0), view(3, 3, -2, -100)}
	types := map[domain.StanzaKind][]string{
		domain.Message:  {"", "normal", "chat", "groupchat", "headline", "error", "bogus"},
		domain.Presence: {"", "unavailable", "subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe", "error"},
		domain.IQ:       {"get", "set", "result", "error"},
	}
	for kind, ts := range types {
		for _, typ := range ts {
			for _, exists := range []bool{false, true} {
				for vi, v := range views {
					if v == nil && exists {
						continue
					}
					in := domain.RouteInput{Kind: kind, Type: typ, To: bare, AccountExists: exists}
					if domain.RouteUsesSender(in) {
						t.Fatalf("domain.RouteUsesSender(%v) for a bare JID", in.To)
					}
					want := domain.Route(in, v)
					for _, trusted := range []bool{false, true} {
						for _, shares := range []bool{false, true} {
							in.SenderTrusted, in.SenderSharesPresence = trusted, shares
							if got := domain.Route(in, v); !reflect.DeepEqual(got, want) {
								t.Errorf("kind %v type %q exists %v view %d: trusted %v shares %v gives %+v, untrusted %+v",
									kind, typ, exists, vi, trusted, shares, got, want)
							}
						}
					}
				}
			}
		}
	}
	if !domain.RouteUsesSender(domain.RouteInput{To: full}) {
		t.Errorf("routeUsesSender is false for a full JID")
	}
}

// KnowSender is RFC 6121 8.1's trusted sender and 8.5.3.1's sender the
// user shares presence with, from the roster and the presence view.
func TestKnowSender(t *testing.T) {
	const bare = "juliet@example.com"
	romeo := jid.MustParse("romeo@example.net/orchard")
	account := func(ps ...events.Payload) *domain.Account {
		a := domain.NewAccount(jid.MustParse(bare), domain.DefaultPolicy())
		for _, p := range ps {
			a.Apply(p)
		}
		return a
	}
	directed := domain.NewPresenceView()
	directed.Apply(events.SessionStarted{Resource: "balcony"}, time.Time{})
	directed.Apply(events.PresenceAvailable{Resource: "balcony", Stanza: "<presence/>"}, time.Time{})
	directed.Apply(events.DirectedPresence{Resource: "balcony", To: romeo.String(), Available: true, Stanza: "<presence/>"}, time.Time{})
	for _, c := range []struct {
		name string
		a    *domain.Account
		v    *domain.PresenceView
		from jid.JID
		want domain.Sender
	}{
		{"stranger", account(), nil, romeo, domain.Sender{}},
		{"the user itself", account(), nil, jid.MustParse(bare + "/other"), domain.Sender{Trusted: true, SharesPresence: true}},
		{"in the roster, no subscription", account(events.RosterItemSet{Contact: "romeo@example.net"}), nil, romeo, domain.Sender{Trusted: true}},
		{"subscription from", account(events.RosterItemSet{Contact: "romeo@example.net"}, events.SubscriptionChanged{Contact: "romeo@example.net", Before: events.StateNone, After: events.StateFrom}), nil, romeo, domain.Sender{Trusted: true, SharesPresence: true}},
		{"directed presence", account(), directed, romeo, domain.Sender{Trusted: true, SharesPresence: true}},
	} {
		if got := domain.KnowSender(c.a, c.v, bare, c.from, c.from.Bare().String()); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
