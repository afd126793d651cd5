package domain_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

// XEP-0191 3.3 with XEP-0016 2.1's JID matching: full, bare, domain/resource
// and domain items.
func TestBlockMatches(t *testing.T) {
	cases := []struct {
		item, addr string
		want       bool
	}{
		{"romeo@example.net", "romeo@example.net", true},
		{"romeo@example.net", "romeo@example.net/orchard", true},
		{"romeo@example.net/orchard", "romeo@example.net/orchard", true},
		{"romeo@example.net/orchard", "romeo@example.net/garden", false},
		{"romeo@example.net/orchard", "romeo@example.net", false},
		{"example.net", "romeo@example.net/orchard", true},
		{"example.net", "example.net", true},
		{"example.net/orchard", "romeo@example.net/orchard", true},
		{"example.net/orchard", "example.net/orchard", true},
		{"example.net/orchard", "example.net/garden", false},
		{"example.net", "romeo@example.com", false},
		{"mercutio@example.net", "romeo@example.net", false},
	}
	for _, tc := range cases {
		if got := domain.BlockMatches(tc.item, jid.MustParse(tc.addr)); got != tc.want {
			t.Errorf("BlockMatches(%q, %q) = %v, want %v", tc.item, tc.addr, got, tc.want)
		}
	}
}

func TestDecideBlock(t *testing.T) {
	if _, err := domain.DecideBlock(account(), nil, nil); domain.KindOf(err) != domain.BadRequest {
		t.Errorf("3.3 no item: %v, want bad-request", err)
	}
	if _, err := domain.DecideBlock(account(), nil, []string{"romeo@example.net", "@bad"}); domain.KindOf(err) != domain.JIDMalformed {
		t.Errorf("malformed item: %v, want jid-malformed", err)
	}
	// Romeo may see juliet's presence (from): her available resource sends
	// him unavailable presence; the nurse (none) gets nothing.
	a := withContact(romeo, events.StateFrom, true)
	v := domain.NewPresenceView()
	v.Apply(events.PresenceAvailable{Resource: "balcony", Stanza: "<presence/>"}, time.Now())
	d, err := domain.DecideBlock(a, v, []string{"romeo@example.net", "nurse@example.com", "romeo@example.net"})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Events) != 1 || !slices.Equal(d.Events[0].(events.BlockingBlocked).JIDs, []string{"romeo@example.net", "nurse@example.com"}) {
		t.Fatalf("events %+v", d.Events)
	}
	var sent []domain.SendPresence
	for _, e := range d.Effects {
		if p, ok := e.(domain.SendPresence); ok {
			sent = append(sent, p)
		}
	}
	if len(sent) != 1 || !sent[0].To.Equal(romeo) || sent[0].Type != "unavailable" || !sent[0].From.Equal(balcony) {
		t.Errorf("3.3 unavailable presence: %+v", sent)
	}
	for _, e := range d.Events {
		a.Apply(e)
	}
	if !a.Blocks(jid.MustParse("romeo@example.net/orchard")) || a.Blocks(jid.MustParse("benvolio@example.net")) {
		t.Error("Blocks after the block")
	}
	if err := domain.BlockedOutbound(a, romeo); !errors.Is(err, domain.ErrBlocked) || domain.KindOf(err) != domain.NotAcceptable {
		t.Errorf("outbound to blocked: %v", err)
	}
	// Blocking again records nothing new but still pushes (3.3).
	d, _ = domain.DecideBlock(a, v, []string{"romeo@example.net"})
	if len(d.Events) != 0 || len(d.Effects) != 1 {
		t.Errorf("block again: %+v", d)
	}

	// 3.4: unblock sends current presence; 3.5 unblock all empties the list.
	d, _ = domain.DecideUnblock(a, v, []string{"romeo@example.net"})
	if len(d.Events) != 1 || !slices.ContainsFunc(d.Effects, func(e domain.Effect) bool {
		p, ok := e.(domain.SendPresence)
		return ok && p.Type == "" && p.Stanza == "<presence/>" && p.To.Equal(romeo)
	}) {
		t.Errorf("unblock: %+v", d)
	}
	d, _ = domain.DecideUnblock(a, v, nil)
	if len(d.Events) != 1 || !d.Events[0].(events.BlockingUnblocked).All {
		t.Fatalf("unblock all: %+v", d)
	}
	a.Apply(d.Events[0])
	if len(a.BlockList()) != 0 || a.Blocks(romeo) {
		t.Errorf("after unblock all: %v", a.BlockList())
	}
}

// XEP-0191 3.3: what happens to each kind of stanza from a blocked JID.
func TestRouteBlockedSender(t *testing.T) {
	v := domain.NewPresenceView()
	v.Apply(events.PresenceAvailable{Resource: "balcony"}, time.Now())
	cases := []struct {
		kind domain.StanzaKind
		typ  string
		want domain.RouteAction
	}{
		{domain.Message, "chat", domain.Bounce},
		{domain.Message, "", domain.Bounce},
		{domain.Message, "error", domain.Ignore},
		{domain.Presence, "", domain.Ignore},
		{domain.Presence, "subscribe", domain.Ignore},
		{domain.Presence, "probe", domain.Ignore},
		{domain.IQ, "get", domain.Bounce},
		{domain.IQ, "set", domain.Bounce},
		{domain.IQ, "result", domain.Ignore},
	}
	for _, tc := range cases {
		for _, to := range []jid.JID{juliet, balcony} {
			in := domain.RouteInput{Kind: tc.kind, Type: tc.typ, To: to, AccountExists: true, SenderBlocked: true, Content: domain.StoreWorthy}
			if got := domain.Route(in, v); got.Action != tc.want {
				t.Errorf("%s %q to %s from a blocked JID: %v (%s), want %v", tc.kind, tc.typ, to, got.Action, got.Rule, tc.want)
			}
		}
	}
}
