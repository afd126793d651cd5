package domain_test

import (
	"reflect"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

// TestReplayRebuildsState drives an account through a whole subscription
// handshake by decisions, then replays the recorded events into a fresh
// account: DESIGN.md requires the same state, roster version included.
func TestReplayRebuildsState(t *testing.T) {
	live := account()
	log := []events.Payload{events.AccountCreated{JID: juliet.String()}}
	step := func(d domain.Decision, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		apply(live, d)
		log = append(log, d.Events...)
	}
	step(domain.DecideRosterSet(live, set(domain.RosterSetItem{JID: "romeo@example.net", Name: "Romeo", Groups: []string{"Friends"}})))
	step(domain.DecideOutbound(live, domain.OutboundSubscription{Type: "subscribe", To: romeo}))
	step(domain.DecideInbound(live, domain.InboundSubscription{Type: "subscribed", From: romeo}))
	step(domain.DecideInbound(live, domain.InboundSubscription{Type: "subscribe", From: romeo, Stanza: "<presence type='subscribe'/>"}))
	step(domain.DecideOutbound(live, domain.OutboundSubscription{Type: "subscribed", To: romeo}))
	step(domain.DecideInbound(live, domain.InboundSubscription{Type: "subscribe", From: jid.MustParse("paris@example.org"), Stanza: "<presence type='subscribe'/>"}))
	step(domain.DecideOutbound(live, domain.OutboundSubscription{Type: "subscribed", To: nurse}))

	if c := live.Contact("romeo@example.net"); c.Subscription != both || c.Name != "Romeo" {
		t.Fatalf("3.1 handshake should end in Both: %+v", c)
	}
	replayed := domain.NewAccount(juliet, domain.DefaultPolicy())
	for _, e := range log {
		replayed.Apply(e)
	}
	if !reflect.DeepEqual(snapshot(live), snapshot(replayed)) || live.Ver() != replayed.Ver() {
		t.Fatalf("replay differs:\nlive     %+v\nreplayed %+v", snapshot(live), snapshot(replayed))
	}
	if len(replayed.PendingRequests()) != 1 || !replayed.Contact("nurse@example.com").Approved {
		t.Fatalf("pending request or pre-approval lost in replay")
	}
}

// TestApplyEnvelope checks that stored envelopes fold like payloads.
func TestApplyEnvelope(t *testing.T) {
	a := domain.NewAccount(juliet, domain.DefaultPolicy())
	for _, p := range []events.Payload{events.AccountCreated{JID: juliet.String()}, events.RosterItemSet{Contact: "romeo@example.net", Name: "Romeo"}} {
		env, err := events.New(p, events.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.ApplyEnvelope(&env); err != nil {
			t.Fatal(err)
		}
	}
	if !a.Exists || a.Contact("romeo@example.net").Name != "Romeo" || a.Ver() != "1" {
		t.Fatalf("envelope not applied: %+v", a.Roster())
	}
	bad := events.Envelope{Type: "no.such_type"}
	if err := a.ApplyEnvelope(&bad); err == nil {
		t.Fatal("unknown event type applied without error")
	}
}
