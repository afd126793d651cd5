package domain_test

import (
	"slices"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

const (
	tSet      = events.TypeRosterItemSet
	tChanged  = events.TypeSubscriptionChanged
	tIgnored  = events.TypeSubscriptionIgnored
	tApproved = events.TypePreapprovalSet
	tCleared  = events.TypePreapprovalCleared
)

func approved(a *domain.Account) *domain.Account {
	a.Apply(events.PreapprovalSet{Contact: "romeo@example.net"})
	return a
}

type after struct {
	state    events.SubscriptionState
	inRoster bool
	approved bool
	pending  string // the kept request stanza
}

func checkAfter(t *testing.T, a *domain.Account, want after) {
	t.Helper()
	c := a.Contact("romeo@example.net")
	if c.Subscription != want.state || c.InRoster != want.inRoster || c.Approved != want.approved || c.PendingStanza != want.pending {
		t.Errorf("contact after apply: %+v, want %+v", c, want)
	}
}

func TestDecideOutbound(t *testing.T) {
	const req = "<presence to='romeo@example.net' type='subscribe'><nick xmlns='http://jabber.org/protocol/nick'>J</nick></presence>"
	const pending = "<presence type='subscribe'/>"
	noPreapproval := domain.NewAccount(juliet, domain.Policy{MaxNameLength: 10, MaxGroupLength: 10})
	noPreapproval.Apply(events.AccountCreated{})
	rows := []struct {
		rule    string
		a       *domain.Account
		typ     string
		to      jid.JID
		events  []string
		effects []string
		after   after
	}{
		{"3.1.2 subscribe to an unknown contact creates the item, routes, pushes ask", account(), "subscribe", romeo,
			[]string{tSet, tChanged}, []string{"send:subscribe:romeo@example.net", "push:romeo@example.net:none"}, after{noneOut, true, false, ""}},
		{"3.1.2 #1 a full JID 'to' is treated as the bare JID", account(), "subscribe", jid.MustParse("romeo@example.net/orchard"),
			[]string{tSet, tChanged}, []string{"send:subscribe:romeo@example.net", "push:romeo@example.net:none"}, after{noneOut, true, false, ""}},
		{"A.2.1 To + subscribe: MUST route, no state change, no push", withContact(romeo, to, true), "subscribe", romeo,
			[]string{tIgnored}, []string{"send:subscribe:romeo@example.net"}, after{to, true, false, ""}},
		{"3.1.5 approve a request from a contact not in the roster: item created (A.1 #3), routed, pushed 'from', current presence sent", withContact(romeo, noneIn, false), "subscribed", romeo,
			[]string{tSet, tChanged}, []string{"send:subscribed:romeo@example.net", "push:romeo@example.net:from", "current:romeo@example.net"}, after{from, true, false, ""}},
		{"3.1.5 / A.2.3 To + Pending In + subscribed -> Both", withContact(romeo, toIn, true), "subscribed", romeo,
			[]string{tChanged}, []string{"send:subscribed:romeo@example.net", "push:romeo@example.net:both", "current:romeo@example.net"}, after{both, true, false, ""}},
		{"3.4.2 #1 subscribed in Both: silently ignored", withContact(romeo, both, true), "subscribed", romeo,
			[]string{tIgnored}, nil, after{both, true, false, ""}},
		{"3.4.2 #3 subscribed in To: pre-approval noted and pushed, not routed", withContact(romeo, to, true), "subscribed", romeo,
			[]string{tApproved}, []string{"push:romeo@example.net:to"}, after{to, true, true, ""}},
		{"3.4.2 #4 subscribed to an entity not in the roster: item created with approved", account(), "subscribed", romeo,
			[]string{tSet, tApproved}, []string{"push:romeo@example.net:none"}, after{none, true, true, ""}},
		{"3.4.1 pre-approval not supported: ignored, not routed", noPreapproval, "subscribed", romeo,
			[]string{tIgnored}, nil, after{none, false, false, ""}},
		{"3.2.2 #2 unsubscribed cancels a pre-approval, not routed", approved(withContact(romeo, none, true)), "unsubscribed", romeo,
			[]string{tCleared}, []string{"push:romeo@example.net:none"}, after{none, true, false, ""}},
		{"3.2.2 #1 unsubscribed in None: not routed, no unavailable", withContact(romeo, none, true), "unsubscribed", romeo,
			[]string{tIgnored}, nil, after{none, true, false, ""}},
		{"3.2.2 #3 unsubscribed in Both: unavailable first, then routed, then push 'to'", withContact(romeo, both, true), "unsubscribed", romeo,
			[]string{tChanged}, []string{"unavailable:romeo@example.net", "send:unsubscribed:romeo@example.net", "push:romeo@example.net:to"}, after{to, true, false, ""}},
		{"3.1.4 deny a request from a contact not in the roster: routed, record forgotten", withContact(romeo, noneIn, false), "unsubscribed", romeo,
			[]string{tChanged}, []string{"send:unsubscribed:romeo@example.net"}, after{none, false, false, ""}},
		{"3.3.2 unsubscribe in Both: routed, push 'from'", withContact(romeo, both, true), "unsubscribe", romeo,
			[]string{tChanged}, []string{"send:unsubscribe:romeo@example.net", "push:romeo@example.net:from"}, after{from, true, false, ""}},
		{"A.2.2 None + Pending In + unsubscribe: routed, request kept", withContact(romeo, noneIn, true), "unsubscribe", romeo,
			[]string{tIgnored}, []string{"send:unsubscribe:romeo@example.net"}, after{noneIn, true, false, pending}},
	}
	for _, r := range rows {
		t.Run(r.rule, func(t *testing.T) {
			var d domain.Decision
			var err error
			mustNotMutate(t, r.a, func() {
				d, err = domain.DecideOutbound(r.a, domain.OutboundSubscription{Type: r.typ, To: r.to, Stanza: req})
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := eventTypes(d.Events); !slices.Equal(got, r.events) {
				t.Errorf("events %v, want %v", got, r.events)
			}
			if got := effectKinds(d.Effects); !slices.Equal(got, r.effects) {
				t.Errorf("effects %v, want %v", got, r.effects)
			}
			for _, e := range d.Effects {
				if sp, ok := e.(domain.SendPresence); ok && sp.Type == r.typ {
					if !sp.From.Equal(juliet) || sp.Stanza != req {
						t.Errorf("3: routed stanza must be from the bare JID and forwarded whole: %+v", sp)
					}
				}
			}
			apply(r.a, d)
			checkAfter(t, r.a, r.after)
		})
	}
}

func TestDecideOutboundErrors(t *testing.T) {
	rows := []struct {
		rule string
		cmd  domain.OutboundSubscription
		kind domain.ErrorKind
	}{
		{"3: type must be a subscription type", domain.OutboundSubscription{Type: "probe", To: romeo}, domain.BadRequest},
		{"3.1.2 #1 no contact address -> jid-malformed", domain.OutboundSubscription{Type: "subscribe"}, domain.JIDMalformed},
		{"4.2.2 implicit self-subscription: own JID -> not-allowed", domain.OutboundSubscription{Type: "subscribe", To: balcony}, domain.NotAllowed},
	}
	for _, r := range rows {
		if _, err := domain.DecideOutbound(account(), r.cmd); domain.KindOf(err) != r.kind {
			t.Errorf("%s: got %v, want %v", r.rule, err, r.kind)
		}
	}
}

func TestDecideInbound(t *testing.T) {
	const req = "<presence from='romeo@example.net' type='subscribe'><status>hi</status></presence>"
	const pending = "<presence type='subscribe'/>"
	gone := domain.NewAccount(juliet, domain.DefaultPolicy())
	rows := []struct {
		rule    string
		a       *domain.Account
		typ     string
		events  []string
		effects []string
		after   after
	}{
		{"3.1.3 #3/#4 subscribe from an unknown entity: delivered, kept whole, no roster item (security warning)", account(), "subscribe",
			[]string{tChanged}, []string{"deliver:subscribe"}, after{noneIn, false, false, req}},
		{"A.3.1 To + subscribe -> To + Pending In, delivered, no push", withContact(romeo, to, true), "subscribe",
			[]string{tChanged}, []string{"deliver:subscribe"}, after{toIn, true, false, req}},
		{"3.1.3 #2 contact already subscribed (From): auto-reply subscribed, not delivered", withContact(romeo, from, true), "subscribe",
			[]string{tIgnored}, []string{"send:subscribed:romeo@example.net"}, after{from, true, false, ""}},
		{"3.1.3 #4 a second request is not delivered; the first is kept", withContact(romeo, noneIn, false), "subscribe",
			[]string{tIgnored}, nil, after{noneIn, false, false, pending}},
		{"3.4.2 pre-approved (None): auto-reply subscribed, not delivered, state From", approved(withContact(romeo, none, true)), "subscribe",
			[]string{tChanged, tChanged, tCleared}, []string{"send:subscribed:romeo@example.net", "push:romeo@example.net:from", "current:romeo@example.net"}, after{from, true, false, ""}},
		{"3.4.2 pre-approved (To): state Both", approved(withContact(romeo, to, true)), "subscribe",
			[]string{tChanged, tChanged, tCleared}, []string{"send:subscribed:romeo@example.net", "push:romeo@example.net:both", "current:romeo@example.net"}, after{both, true, false, ""}},
		{"3.1.6 subscribed with a pending request: delivered before the push 'to'", withContact(romeo, noneOut, true), "subscribed",
			[]string{tChanged}, []string{"deliver:subscribed", "push:romeo@example.net:to"}, after{to, true, false, ""}},
		{"3.1.6 subscribed with From + Pending Out -> push 'both'", withContact(romeo, fromOut, true), "subscribed",
			[]string{tChanged}, []string{"deliver:subscribed", "push:romeo@example.net:both"}, after{both, true, false, ""}},
		{"3.1.6 otherwise silently ignored (None)", withContact(romeo, none, true), "subscribed",
			[]string{tIgnored}, nil, after{none, true, false, ""}},
		{"3.2.3 unsubscribed in To: delivered, push 'none'", withContact(romeo, to, true), "unsubscribed",
			[]string{tChanged}, []string{"deliver:unsubscribed", "push:romeo@example.net:none"}, after{none, true, false, ""}},
		{"3.2.3 otherwise silently ignored (From)", withContact(romeo, from, true), "unsubscribed",
			[]string{tIgnored}, nil, after{from, true, false, ""}},
		{"4.3.2 #1 / 3.2.3 inbound unsubscribed does not cancel a pre-approval", approved(withContact(romeo, none, true)), "unsubscribed",
			[]string{tIgnored}, nil, after{none, true, true, ""}},
		{"3.3.3 unsubscribe in Both: deliver, push 'to', unavailable, auto-reply unsubscribed (A.3.2 [1])", withContact(romeo, both, true), "unsubscribe",
			[]string{tChanged}, []string{"deliver:unsubscribe", "push:romeo@example.net:to", "unavailable:romeo@example.net", "send:unsubscribed:romeo@example.net"}, after{to, true, false, ""}},
		{"3.3.3 withdrawn request from a contact not in the roster: record removed", withContact(romeo, noneIn, false), "unsubscribe",
			[]string{tChanged}, []string{"deliver:unsubscribe", "send:unsubscribed:romeo@example.net"}, after{none, false, false, ""}},
		{"3.3.3 otherwise silently ignored (To)", withContact(romeo, to, true), "unsubscribe",
			[]string{tIgnored}, nil, after{to, true, false, ""}},
		{"8.5.1 no such user: silently ignored", gone, "subscribe", nil, nil, after{none, false, false, ""}},
	}
	for _, r := range rows {
		t.Run(r.rule, func(t *testing.T) {
			var d domain.Decision
			var err error
			mustNotMutate(t, r.a, func() {
				d, err = domain.DecideInbound(r.a, domain.InboundSubscription{Type: r.typ, From: jid.MustParse("romeo@example.net/orchard"), Stanza: req})
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := eventTypes(d.Events); !slices.Equal(got, r.events) {
				t.Errorf("events %v, want %v", got, r.events)
			}
			if got := effectKinds(d.Effects); !slices.Equal(got, r.effects) {
				t.Errorf("effects %v, want %v", got, r.effects)
			}
			for _, e := range d.Effects {
				if dl, ok := e.(domain.DeliverToUser); ok {
					if dl.Stanza != req || !dl.From.Equal(romeo) || dl.KeepIfOffline == (r.typ == "subscribe") || dl.Interested == (r.typ == "subscribe") {
						t.Errorf("delivery %+v", dl)
					}
				}
			}
			apply(r.a, d)
			checkAfter(t, r.a, r.after)
			if r.after.pending != "" && len(r.a.PendingRequests()) != 1 {
				t.Errorf("3.1.3 #4: pending requests %v", r.a.PendingRequests())
			}
		})
	}
}
