package im

import (
	"reflect"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

// TestRouteIgnoresSenderForBareJIDs holds domain.Route to what inbound
// relies on when it skips working out the sender's standing
// (routeUsesSender): for a stanza to a bare JID, SenderTrusted and
// SenderSharesPresence change nothing. Should the domain ever use them
// there, this fails and routeUsesSender must change with it.
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
					if routeUsesSender(in) {
						t.Fatalf("routeUsesSender(%v) for a bare JID", in.To)
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
	if !routeUsesSender(domain.RouteInput{To: full}) {
		t.Errorf("routeUsesSender is false for a full JID")
	}
}
