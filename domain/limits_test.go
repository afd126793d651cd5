package domain_test

import (
	"fmt"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

// limited returns juliet's account under a policy of at most items roster
// items and groups groups per item, with n items already in the roster
// (contact0@example.org ...) and evs after them.
func limited(items, groups, n int, evs ...events.Payload) *domain.Account {
	p := domain.DefaultPolicy()
	p.MaxRosterItems, p.MaxGroupsPerItem = items, groups
	a := domain.NewAccount(juliet, p)
	a.Apply(events.AccountCreated{JID: juliet.String()})
	for i := range n {
		a.Apply(events.RosterItemSet{Contact: fmt.Sprintf("contact%d@example.org", i)})
	}
	for _, e := range evs {
		a.Apply(e)
	}
	return a
}

func groupNames(n int) []string {
	var gs []string
	for i := range n {
		gs = append(gs, fmt.Sprintf("g%d", i))
	}
	return gs
}

// The roster quota (limits.roster_items): a new item beyond it is refused
// with policy-violation and decides nothing; an existing item can still be
// updated and removed, so a full roster can be edited and shrunk.
func TestRosterItemLimit(t *testing.T) {
	const max = 3
	rows := []struct {
		name    string
		have    int // items already in the roster
		item    domain.RosterSetItem
		refused bool
	}{
		{"the Nth item is added", max - 1, domain.RosterSetItem{JID: "nurse@example.com"}, false},
		{"the N+1th item is refused", max, domain.RosterSetItem{JID: "nurse@example.com"}, true},
		{"an existing item of a full roster is updated", max, domain.RosterSetItem{JID: "contact0@example.org", Name: "Zero", Groups: []string{"Friends"}}, false},
		{"an existing item of a full roster is removed", max, domain.RosterSetItem{JID: "contact0@example.org", Subscription: "remove"}, false},
		{"an over-full roster (limit lowered) still refuses new items", max + 2, domain.RosterSetItem{JID: "nurse@example.com"}, true},
		{"no limit (zero) adds beyond", 50, domain.RosterSetItem{JID: "nurse@example.com"}, false},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			limit := max
			if strings.HasPrefix(r.name, "no limit") {
				limit = 0
			}
			a := limited(limit, 0, r.have)
			before := snapshot(a)
			d, err := domain.DecideRosterSet(a, set(r.item))
			if r.refused {
				if domain.KindOf(err) != domain.PolicyViolation {
					t.Fatalf("err %v (kind %v), want policy-violation", err, domain.KindOf(err))
				}
				if len(d.Events) != 0 || len(d.Effects) != 0 {
					t.Fatalf("a refusal decided something: %+v", d)
				}
				if got := snapshot(a); fmt.Sprint(got) != fmt.Sprint(before) {
					t.Fatalf("the account changed")
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if len(d.Events) == 0 {
				t.Fatalf("nothing decided")
			}
		})
	}
}

// The groups quota (limits.groups_per_item): more groups than allowed is
// not-acceptable (RFC 6121 2.3.3's family of "server-configured limit"
// refusals), on a new item and on an update alike; exactly the limit is
// fine.
func TestRosterGroupsPerItemLimit(t *testing.T) {
	const max = 4
	for _, r := range []struct {
		name    string
		jid     string
		groups  int
		refused bool
	}{
		{"new item with max groups", "nurse@example.com", max, false},
		{"new item with max+1 groups", "nurse@example.com", max + 1, true},
		{"update to max+1 groups", "contact0@example.org", max + 1, true},
	} {
		t.Run(r.name, func(t *testing.T) {
			a := limited(0, max, 1)
			d, err := domain.DecideRosterSet(a, set(domain.RosterSetItem{JID: r.jid, Groups: groupNames(r.groups)}))
			if !r.refused {
				if err != nil || len(d.Events) != 1 {
					t.Fatalf("err %v, events %v; want the item set", err, d.Events)
				}
				return
			}
			if domain.KindOf(err) != domain.NotAcceptable {
				t.Fatalf("err %v (kind %v), want not-acceptable", err, domain.KindOf(err))
			}
			if len(d.Events) != 0 || len(d.Effects) != 0 {
				t.Fatalf("a refusal decided something: %+v", d)
			}
		})
	}
}

// The outbound paths that create a roster item obey the same quota (RFC
// 6121 3.1.2 subscribe creates the item; 3.1.5 approving creates it; 3.4.2
// pre-approval creates it), while an inbound request, which creates no
// item (3.1.3, A.1 #3), is recorded and delivered even with a full roster:
// it is never lost to the quota, and stays pending after a refused
// approval.
func TestRosterLimitSubscriptions(t *testing.T) {
	const max = 2
	peer := jid.MustParse("nurse@example.com")
	pendingIn := events.SubscriptionChanged{Contact: peer.String(), Cause: events.InSubscribe, Before: events.StateNone, After: events.StateNonePendingIn, Stanza: "<presence type='subscribe'/>"}

	t.Run("3.1.2 outbound subscribe to a new contact with a full roster", func(t *testing.T) {
		a := limited(max, 0, max)
		d, err := domain.DecideOutbound(a, domain.OutboundSubscription{Type: "subscribe", To: peer})
		if domain.KindOf(err) != domain.PolicyViolation || len(d.Events)+len(d.Effects) != 0 {
			t.Fatalf("err %v, decision %+v; want policy-violation and nothing decided", err, d)
		}
	})
	t.Run("3.1.2 outbound subscribe to a contact already in a full roster", func(t *testing.T) {
		a := limited(max, 0, max)
		d, err := domain.DecideOutbound(a, domain.OutboundSubscription{Type: "subscribe", To: jid.MustParse("contact0@example.org")})
		if err != nil || len(d.Events) == 0 {
			t.Fatalf("err %v, decision %+v; want the request recorded", err, d)
		}
	})
	t.Run("3.4.2 pre-approval of a new contact with a full roster", func(t *testing.T) {
		a := limited(max, 0, max)
		d, err := domain.DecideOutbound(a, domain.OutboundSubscription{Type: "subscribed", To: peer})
		if domain.KindOf(err) != domain.PolicyViolation || len(d.Events)+len(d.Effects) != 0 {
			t.Fatalf("err %v, decision %+v; want policy-violation and nothing decided", err, d)
		}
	})
	t.Run("3.1.3 inbound subscribe with a full roster is kept and delivered", func(t *testing.T) {
		a := limited(max, 0, max)
		d, err := domain.DecideInbound(a, domain.InboundSubscription{Type: "subscribe", From: peer, Stanza: "<presence type='subscribe'/>"})
		if err != nil {
			t.Fatal(err)
		}
		apply(a, d)
		if p := a.PendingRequests(); len(p) != 1 || p[0].JID != peer.String() {
			t.Fatalf("pending %+v; want the request kept", p)
		}
		if len(a.Roster()) != max {
			t.Fatalf("roster has %d items; an inbound request must not add one", len(a.Roster()))
		}
		delivered := false
		for _, e := range d.Effects {
			if _, ok := e.(domain.DeliverToUser); ok {
				delivered = true
			}
		}
		if !delivered {
			t.Fatalf("effects %+v: the request is not delivered", d.Effects)
		}
	})
	t.Run("3.1.5 approving with a full roster is refused and the request stays pending", func(t *testing.T) {
		a := limited(max, 0, max, pendingIn)
		d, err := domain.DecideOutbound(a, domain.OutboundSubscription{Type: "subscribed", To: peer})
		if domain.KindOf(err) != domain.PolicyViolation || len(d.Events)+len(d.Effects) != 0 {
			t.Fatalf("err %v, decision %+v; want policy-violation and nothing decided", err, d)
		}
		if p := a.PendingRequests(); len(p) != 1 {
			t.Fatalf("pending %+v; the request must stay", p)
		}
	})
	t.Run("3.1.5 approving after making room succeeds", func(t *testing.T) {
		a := limited(max, 0, max, pendingIn, events.RosterItemRemoved{Contact: "contact0@example.org"})
		d, err := domain.DecideOutbound(a, domain.OutboundSubscription{Type: "subscribed", To: peer})
		if err != nil {
			t.Fatal(err)
		}
		apply(a, d)
		if c := a.Contact(peer.String()); !c.InRoster || !domain.HasFrom(c.Subscription) {
			t.Fatalf("contact %+v; want an item with a 'from' subscription", c)
		}
	})
}
