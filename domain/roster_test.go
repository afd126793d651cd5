package domain_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

func set(items ...domain.RosterSetItem) domain.RosterSet {
	return domain.RosterSet{From: balcony, Items: items}
}

func TestRosterSetErrors(t *testing.T) {
	long := strings.Repeat("x", domain.DefaultPolicy().MaxNameLength+1)
	rows := []struct {
		rule string
		cmd  domain.RosterSet
		kind domain.ErrorKind
	}{
		{"2.1.5 security warning: sender not the account -> forbidden", domain.RosterSet{From: jid.MustParse("romeo@example.net/x"), Items: []domain.RosterSetItem{{JID: "nurse@example.com"}}}, domain.Forbidden},
		{"2.3.3 set addressed to another account -> forbidden", domain.RosterSet{From: balcony, To: romeo, Items: []domain.RosterSetItem{{JID: "nurse@example.com"}}}, domain.Forbidden},
		{"2.1.5 #1 / 2.3.3 more than one item -> bad-request", set(domain.RosterSetItem{JID: "nurse@example.com"}, domain.RosterSetItem{JID: "mother@example.com"}), domain.BadRequest},
		{"2.1.5 #1 no item -> bad-request", set(), domain.BadRequest},
		{"2.1.2.3 jid attribute is required -> bad-request", set(domain.RosterSetItem{Name: "x"}), domain.BadRequest},
		{"RFC 7622 invalid jid -> jid-malformed", set(domain.RosterSetItem{JID: "a@b@c"}), domain.JIDMalformed},
		{"3.1.1 roster items are bare JIDs -> bad-request", set(domain.RosterSetItem{JID: "nurse@example.com/res"}), domain.BadRequest},
		{"2.3.3 interop note: own bare JID -> not-allowed", set(domain.RosterSetItem{JID: "juliet@example.com"}), domain.NotAllowed},
		{"2.3.3 not-acceptable #1: oversized handle", set(domain.RosterSetItem{JID: "nurse@example.com", Name: long}), domain.NotAcceptable},
		{"2.3.3 not-acceptable #2: empty group", set(domain.RosterSetItem{JID: "nurse@example.com", Groups: []string{""}}), domain.NotAcceptable},
		{"2.3.3 not-acceptable #3: oversized group", set(domain.RosterSetItem{JID: "nurse@example.com", Groups: []string{long}}), domain.NotAcceptable},
		{"2.3.3 bad-request #2: duplicate groups", set(domain.RosterSetItem{JID: "nurse@example.com", Groups: []string{"Servants", "Servants"}}), domain.BadRequest},
		{"2.3.3 duplicates compared as resourceparts (NFC: precomposed and combining accent)", set(domain.RosterSetItem{JID: "nurse@example.com", Groups: []string{"Caf\u00e9", "Cafe\u0301"}}), domain.BadRequest},
		{"2.5.3 remove of an item not in the roster -> item-not-found", set(domain.RosterSetItem{JID: "nurse@example.com", Subscription: "remove"}), domain.ItemNotFound},
	}
	for _, r := range rows {
		t.Run(r.rule, func(t *testing.T) {
			a := account()
			d, err := domain.DecideRosterSet(a, r.cmd)
			if err == nil {
				t.Fatalf("no error; decision %+v", d)
			}
			if got := domain.KindOf(err); got != r.kind {
				t.Fatalf("kind %v (%v), want %v", got, err, r.kind)
			}
			if len(d.Events) != 0 || len(d.Effects) != 0 {
				t.Fatalf("an error decided something: %+v", d)
			}
		})
	}
}

func TestRosterSetAddUpdate(t *testing.T) {
	rows := []struct {
		rule     string
		a        *domain.Account
		item     domain.RosterSetItem
		events   int
		wantName string
		wantGrp  []string
		wantSub  string
	}{
		{"2.3.2 add: item created, pushed with subscription='none'", account(), domain.RosterSetItem{JID: "nurse@example.com", Name: "Nurse", Groups: []string{"Servants"}}, 1, "Nurse", []string{"Servants"}, "none"},
		{"2.1.5 #2 subscription other than remove is ignored; ask/approved ignored (2.1.2.1-2)", account(), domain.RosterSetItem{JID: "nurse@example.com", Subscription: "both", Ask: "subscribe", Approved: "true"}, 1, "", nil, "none"},
		{"2.4.1 update replaces groups exactly; subscription kept", withContact(nurse, events.StateTo, true), domain.RosterSetItem{JID: "nurse@example.com", Name: "N", Groups: []string{"Lovers"}}, 1, "N", []string{"Lovers"}, "to"},
		{"2.4.1 empty name equals no name", account(events.RosterItemSet{Contact: "nurse@example.com", Name: "Nurse"}), domain.RosterSetItem{JID: "nurse@example.com", Name: ""}, 1, "", nil, "none"},
		{"A.1 #3 adding a contact with a pending request keeps the request", withContact(nurse, events.StateNonePendingIn, false), domain.RosterSetItem{JID: "nurse@example.com"}, 1, "", nil, "none"},
	}
	for _, r := range rows {
		t.Run(r.rule, func(t *testing.T) {
			var d domain.Decision
			var err error
			ver := r.a.Version
			pendingBefore := len(r.a.PendingRequests())
			mustNotMutate(t, r.a, func() { d, err = domain.DecideRosterSet(r.a, set(r.item)) })
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Events) != r.events {
				t.Fatalf("events %v", eventTypes(d.Events))
			}
			if len(d.Effects) != 1 {
				t.Fatalf("effects %v, want one push (2.1.6)", effectKinds(d.Effects))
			}
			push := d.Effects[0].(domain.RosterPush)
			apply(r.a, d)
			if push.Ver != r.a.Ver() || r.a.Version != ver+1 {
				t.Errorf("push ver %q, account ver %q (was %d)", push.Ver, r.a.Ver(), ver)
			}
			c := r.a.Contact("nurse@example.com")
			if !c.InRoster || c.Name != r.wantName || !slices.Equal(c.Groups, r.wantGrp) || domain.SubscriptionAttr(c.Subscription) != r.wantSub {
				t.Errorf("contact after apply: %+v", c)
			}
			if !reflect.DeepEqual(push.Item, c.Item()) {
				t.Errorf("push %+v, item %+v", push.Item, c.Item())
			}
			if len(r.a.PendingRequests()) != pendingBefore {
				t.Errorf("pending requests changed")
			}
		})
	}
}

func TestRosterSetUnchangedRecordsNothing(t *testing.T) {
	// 2.4.1 "the item MUST be updated exactly as provided": a set equal to
	// the stored item changes nothing, so no event and no push (a push
	// would need a new, unique version: 2.6.3).
	a := account(events.RosterItemSet{Contact: "nurse@example.com", Name: "Nurse", Groups: []string{"Servants"}})
	d, err := domain.DecideRosterSet(a, set(domain.RosterSetItem{JID: "nurse@example.com", Name: "Nurse", Groups: []string{"Servants"}}))
	if err != nil || len(d.Events) != 0 || len(d.Effects) != 0 {
		t.Fatalf("got %+v, %v", d, err)
	}
}

func TestRosterGet(t *testing.T) {
	a := account(events.RosterItemSet{Contact: "romeo@example.net", Name: "Romeo"}, events.RosterItemSet{Contact: "nurse@example.com"},
		events.SubscriptionChanged{Contact: "tybalt@example.org", Cause: events.InSubscribe, Before: none, After: noneIn})
	rows := []struct {
		rule      string
		cmd       domain.RosterGet
		unchanged bool
		items     []string
		kind      domain.ErrorKind
	}{
		{"2.1.4 result holds every roster item, not pending requests (A.1 #3)", domain.RosterGet{From: balcony}, false, []string{"nurse@example.com", "romeo@example.net"}, -1},
		{"2.6.3 ver equal to the current version -> empty result", domain.RosterGet{From: balcony, Ver: a.Ver(), HasVer: true}, true, nil, -1},
		{"2.6.2 ver='' bootstraps versioning -> full roster", domain.RosterGet{From: balcony, Ver: "", HasVer: true}, false, []string{"nurse@example.com", "romeo@example.net"}, -1},
		{"2.6.3 unknown ver -> full roster", domain.RosterGet{From: balcony, Ver: "v0", HasVer: true}, false, []string{"nurse@example.com", "romeo@example.net"}, -1},
		{"2 security warning: another entity -> forbidden", domain.RosterGet{From: jid.MustParse("romeo@example.net/x"), To: juliet}, false, nil, domain.Forbidden},
	}
	for _, r := range rows {
		t.Run(r.rule, func(t *testing.T) {
			res, err := domain.DecideRosterGet(a, r.cmd)
			if r.kind >= 0 {
				if domain.KindOf(err) != r.kind {
					t.Fatalf("err %v, want kind %v", err, r.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range res.Items {
				got = append(got, it.JID)
			}
			if res.Unchanged != r.unchanged || !slices.Equal(got, r.items) || res.Ver != a.Ver() {
				t.Fatalf("got %+v", res)
			}
		})
	}
	empty, err := domain.DecideRosterGet(account(), domain.RosterGet{From: balcony})
	if err != nil || empty.Items == nil || len(empty.Items) != 0 {
		t.Fatalf("2.1.4 empty roster must be an empty <query/>, got %+v %v", empty, err)
	}
	_, err = domain.DecideRosterGet(domain.NewAccount(juliet, domain.DefaultPolicy()), domain.RosterGet{From: balcony})
	if domain.KindOf(err) != domain.ItemNotFound {
		t.Fatalf("2.1.4 no roster -> item-not-found, got %v", err)
	}
}

func TestRosterRemove(t *testing.T) {
	rows := []struct {
		rule    string
		state   events.SubscriptionState
		approve bool
		effects []string
	}{
		{"2.5.2 no subscription: only the push", none, false, []string{"push:nurse@example.com:remove"}},
		{"2.5.2 #1 user subscribed to contact (To) -> unsubscribe", to, false, []string{"send:unsubscribe:nurse@example.com", "push:nurse@example.com:remove"}},
		{"2.5.2 #2 contact subscribed to user (From) -> unavailable (3.2.2) then unsubscribed", from, false, []string{"unavailable:nurse@example.com", "send:unsubscribed:nurse@example.com", "push:nurse@example.com:remove"}},
		{"2.5.2 #3 mutual (Both) -> unsubscribe and unsubscribed", both, false, []string{"send:unsubscribe:nurse@example.com", "unavailable:nurse@example.com", "send:unsubscribed:nurse@example.com", "push:nurse@example.com:remove"}},
		{"2.5.2 pending out is withdrawn with unsubscribe", noneOut, false, []string{"send:unsubscribe:nurse@example.com", "push:nurse@example.com:remove"}},
		{"2.5.2 pending in is declined with unsubscribed", toIn, false, []string{"send:unsubscribe:nurse@example.com", "send:unsubscribed:nurse@example.com", "push:nurse@example.com:remove"}},
		{"3.4.2 note: removing the item removes the pre-approval", none, true, []string{"push:nurse@example.com:remove"}},
	}
	for _, r := range rows {
		t.Run(r.rule, func(t *testing.T) {
			a := withContact(nurse, r.state, true)
			if r.approve {
				a.Apply(events.PreapprovalSet{Contact: "nurse@example.com"})
			}
			var d domain.Decision
			var err error
			mustNotMutate(t, a, func() {
				d, err = domain.DecideRosterSet(a, set(domain.RosterSetItem{JID: "nurse@example.com", Subscription: "remove", Groups: []string{""}}))
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := effectKinds(d.Effects); !slices.Equal(got, r.effects) {
				t.Fatalf("effects %v, want %v", got, r.effects)
			}
			types := eventTypes(d.Events)
			if types[len(types)-1] != events.TypeRosterItemRemoved {
				t.Fatalf("events %v do not end in %s", types, events.TypeRosterItemRemoved)
			}
			if r.approve && !slices.Contains(types, events.TypePreapprovalCleared) {
				t.Fatalf("events %v: pre-approval not cleared", types)
			}
			for _, e := range d.Events {
				if sc, ok := e.(events.SubscriptionChanged); ok && !domain.IsOutbound(sc.Cause) {
					t.Errorf("a removal records only outbound inputs, got %s", sc.Cause)
				}
			}
			apply(a, d)
			if c := a.Contact("nurse@example.com"); c.InRoster || c.Subscription != none || c.Approved || len(a.Roster()) != 0 {
				t.Fatalf("after remove: %+v", c)
			}
			if push := d.Effects[len(d.Effects)-1].(domain.RosterPush); push.Ver != a.Ver() {
				t.Fatalf("push ver %s, account %s", push.Ver, a.Ver())
			}
		})
	}
}

// FuzzRosterSet feeds arbitrary item attributes to the roster set rules:
// they never panic, an error always has a kind the adapter can map, and a
// success always records exactly one event for a valid bare JID.
func FuzzRosterSet(f *testing.F) {
	f.Add("nurse@example.com", "Nurse", "Servants", "")
	f.Add("a@b@c", "", "", "remove")
	f.Add("juliet@example.com", "x", "", "both")
	f.Fuzz(func(t *testing.T, j, name, group, sub string) {
		a := account(events.RosterItemSet{Contact: "nurse@example.com"})
		d, err := domain.DecideRosterSet(a, set(domain.RosterSetItem{JID: j, Name: name, Groups: []string{group}, Subscription: sub}))
		if err != nil {
			if k := domain.KindOf(err); k == domain.Internal {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if _, perr := jid.Parse(j); perr != nil {
			t.Fatalf("accepted invalid jid %q", j)
		}
		if len(d.Events) == 0 && len(d.Effects) != 0 {
			t.Fatalf("effects without events: %+v", d)
		}
	})
}

func TestRosterGetInterimPushes(t *testing.T) {
	a := account()
	for _, c := range []string{"a@example.org", "b@example.org", "c@example.org", "d@example.org", "e@example.org"} {
		a.Apply(events.RosterItemSet{Contact: c})
	}
	cached := a.Ver()
	a.Apply(events.RosterItemRemoved{Contact: "b@example.org"})
	a.Apply(events.RosterItemSet{Contact: "d@example.org", Name: "Dee"})
	a.Apply(events.SubscriptionChanged{Contact: "e@example.org", Cause: events.InSubscribe, Before: none, After: noneIn}) // not visible: no version
	res, err := domain.DecideRosterGet(a, domain.RosterGet{From: balcony, Ver: cached, HasVer: true})
	if err != nil {
		t.Fatal(err)
	}
	// 2.6.3: empty result, then one push per item modified since the
	// cached version, in order of modification, each with its version.
	if !res.Unchanged || len(res.Items) != 0 || len(res.Pushes) != 2 {
		t.Fatalf("got %+v", res)
	}
	p0, p1 := res.Pushes[0], res.Pushes[1]
	if p0.Item.JID != "b@example.org" || p0.Item.Subscription != "remove" || p1.Item.JID != "d@example.org" || p1.Item.Name != "Dee" {
		t.Fatalf("pushes %+v", res.Pushes)
	}
	if p1.Ver != a.Ver() || p0.Ver >= p1.Ver {
		t.Fatalf("push versions %q, %q; roster %q", p0.Ver, p1.Ver, a.Ver())
	}
	// 2.6.3 (1): when pushes would outnumber the items, the full roster.
	res, _ = domain.DecideRosterGet(a, domain.RosterGet{From: balcony, Ver: "1", HasVer: true})
	if res.Unchanged || len(res.Items) != 4 {
		t.Fatalf("full roster expected, got %+v", res)
	}
	// A version from the future is not one this roster had.
	res, _ = domain.DecideRosterGet(a, domain.RosterGet{From: balcony, Ver: "999", HasVer: true})
	if res.Unchanged {
		t.Fatal("unknown future version answered as current")
	}
}
