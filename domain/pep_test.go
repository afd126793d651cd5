package domain_test

import (
	"errors"
	"strings"
	"testing"

	"xmppd/domain"
	"xmppd/events"
)

func appErr(err error) string {
	var de *domain.Error
	if errors.As(err, &de) {
		return de.App
	}
	return ""
}

// XEP-0163 section 4 / XEP-0060 7.1.4: the first publish creates the node
// with the default configuration; the next publish of the same id
// replaces the item; max_items keeps the newest.
func TestDecidePEPPublishAutoCreate(t *testing.T) {
	a := account()
	own := juliet.String()
	d, err := domain.DecidePEPPublish(a, own, domain.PEPPublish{Node: "urn:xmpp:nick", ItemID: "current", XML: "<nick xmlns='http://jabber.org/protocol/nick'>J</nick>"}, domain.PEPLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Events) != 2 || !d.Events[0].(events.PEPNodeConfigured).Created {
		t.Fatalf("events %+v", d.Events)
	}
	if n, ok := d.Effects[0].(domain.PEPNotify); !ok || n.Access != domain.AccessPresence || len(n.Items) != 1 {
		t.Fatalf("effects %+v", d.Effects)
	}
	apply(a, d)
	d, err = domain.DecidePEPPublish(a, own, domain.PEPPublish{Node: "urn:xmpp:nick", ItemID: "next", XML: "<nick xmlns='http://jabber.org/protocol/nick'>Jules</nick>"}, domain.PEPLimits{})
	if err != nil || len(d.Events) != 1 {
		t.Fatalf("second publish: %+v %v", d.Events, err)
	}
	apply(a, d)
	n, _ := a.PEPNode("urn:xmpp:nick")
	if len(n.Items) != 1 || n.Items[0].ID != "next" {
		t.Fatalf("max_items 1 keeps the newest: %+v", n.Items)
	}
}

func TestDecidePEPPublishRefusals(t *testing.T) {
	own := juliet.String()
	item := "<x xmlns='urn:example'/>"
	conference := "<conference xmlns='urn:xmpp:bookmarks:1'/>" // XEP-0402 section 2's payload
	full := account()
	for i := range 3 {
		apply(full, must(domain.DecidePEPPublish(full, own, domain.PEPPublish{Node: "n" + string(rune('a'+i)), ItemID: "1", XML: item}, domain.PEPLimits{MaxNodes: 3})))
	}
	bookmarks := account(events.PEPNodeConfigured{Node: "urn:xmpp:bookmarks:1", AccessModel: domain.AccessWhitelist, PersistItems: true, MaxItems: 1000})
	cases := []struct {
		name      string
		a         *domain.Account
		requester string
		cmd       domain.PEPPublish
		limits    domain.PEPLimits
		kind      domain.ErrorKind
		app       string
	}{
		{"7.1.3.1 not the owner", account(), romeo.String(), domain.PEPPublish{Node: "n", ItemID: "1", XML: item}, domain.PEPLimits{}, domain.Forbidden, ""},
		{"nodeid-required", account(), own, domain.PEPPublish{ItemID: "1", XML: item}, domain.PEPLimits{}, domain.BadRequest, "nodeid-required"},
		{"7.1.3.6 payload-required", account(), own, domain.PEPPublish{Node: "n", ItemID: "1"}, domain.PEPLimits{}, domain.BadRequest, "payload-required"},
		{"7.1.3.4 payload-too-big", account(), own, domain.PEPPublish{Node: "n", ItemID: "1", XML: strings.Repeat("x", 101)}, domain.PEPLimits{MaxItemBytes: 100}, domain.NotAcceptable, "payload-too-big"},
		{"max nodes", full, own, domain.PEPPublish{Node: "nd", ItemID: "1", XML: item}, domain.PEPLimits{MaxNodes: 3}, domain.PolicyViolation, "max-nodes-exceeded"},
		{"7.1.5 precondition", bookmarks, own, domain.PEPPublish{Node: "urn:xmpp:bookmarks:1", ItemID: "r", XML: conference, Options: map[string]string{domain.FieldAccessModel: domain.AccessOpen}}, domain.PEPLimits{}, domain.Conflict, "precondition-not-met"},
		{"7.1.5 bad max_items", account(), own, domain.PEPPublish{Node: "n", ItemID: "r", XML: item, Options: map[string]string{domain.FieldMaxItems: "1001"}}, domain.PEPLimits{}, domain.Conflict, "precondition-not-met"},
	}
	for _, tc := range cases {
		_, err := domain.DecidePEPPublish(tc.a, tc.requester, tc.cmd, tc.limits)
		if domain.KindOf(err) != tc.kind || appErr(err) != tc.app {
			t.Errorf("%s: %v, want %v %q", tc.name, err, tc.kind, tc.app)
		}
	}
	// Met preconditions publish; "max" is the cap (XEP-0402 section 3).
	opts := map[string]string{domain.FieldAccessModel: domain.AccessWhitelist, domain.FieldPersistItems: "true", domain.FieldMaxItems: "max"}
	if _, err := domain.DecidePEPPublish(bookmarks, own, domain.PEPPublish{Node: "urn:xmpp:bookmarks:1", ItemID: "r", XML: conference, Options: opts}, domain.PEPLimits{}); err != nil {
		t.Errorf("met preconditions: %v", err)
	}
}

// XEP-0060 4.5 access models and 6.5 retrieval: the owner reads all;
// presence nodes are for contacts with a subscription from the owner;
// whitelist nodes for the owner only; open for anyone.
func TestPEPAccessModels(t *testing.T) {
	a := withContact(romeo, events.StateFrom, true)
	a.Apply(events.RosterItemSet{Contact: nurse.String()}) // in the roster, no subscription
	for _, m := range []string{domain.AccessPresence, domain.AccessOpen, domain.AccessWhitelist} {
		a.Apply(events.PEPNodeConfigured{Node: m, AccessModel: m, PersistItems: true, MaxItems: 10})
		a.Apply(events.PEPPublished{Node: m, ID: "1", XML: "<a/>"})
		a.Apply(events.PEPPublished{Node: m, ID: "2", XML: "<b/>"})
	}
	cases := []struct {
		node, who string
		kind      domain.ErrorKind
		app       string
	}{
		{domain.AccessPresence, juliet.String(), domain.Internal, ""},
		{domain.AccessPresence, romeo.String(), domain.Internal, ""},
		{domain.AccessPresence, nurse.String(), domain.NotAuthorized, "presence-subscription-required"},
		{domain.AccessOpen, "stranger@example.org", domain.Internal, ""},
		{domain.AccessWhitelist, juliet.String(), domain.Internal, ""},
		{domain.AccessWhitelist, romeo.String(), domain.NotAllowed, "closed-node"},
		{"missing", romeo.String(), domain.ItemNotFound, ""},
	}
	for _, tc := range cases {
		items, err := a.PEPItems(tc.who, tc.node, 0, nil)
		if tc.kind == domain.Internal {
			if err != nil || len(items) != 2 {
				t.Errorf("%s by %s: %v %v", tc.node, tc.who, items, err)
			}
			continue
		}
		if domain.KindOf(err) != tc.kind || appErr(err) != tc.app {
			t.Errorf("%s by %s: %v, want %v %q", tc.node, tc.who, err, tc.kind, tc.app)
		}
	}
	if items, _ := a.PEPItems(juliet.String(), domain.AccessOpen, 1, nil); len(items) != 1 || items[0].ID != "2" {
		t.Errorf("6.5.7 max_items=1: %+v", items)
	}
	if items, _ := a.PEPItems(juliet.String(), domain.AccessOpen, 0, []string{"1"}); len(items) != 1 || items[0].ID != "1" {
		t.Errorf("6.5.8 by id: %+v", items)
	}
	if got := a.PEPVisible(romeo.String()); len(got) != 2 {
		t.Errorf("romeo sees %d nodes, want open and presence", len(got))
	}
}

func TestDecidePEPRetractDeleteConfigure(t *testing.T) {
	own := juliet.String()
	a := account(events.PEPNodeConfigured{Node: "n", AccessModel: domain.AccessPresence, PersistItems: true, MaxItems: 5},
		events.PEPPublished{Node: "n", ID: "1", XML: "<a/>"}, events.PEPPublished{Node: "n", ID: "2", XML: "<b/>"})
	if _, err := domain.DecidePEPRetract(a, romeo.String(), "n", "1", true); domain.KindOf(err) != domain.Forbidden {
		t.Errorf("7.2.3.1: %v", err)
	}
	if _, err := domain.DecidePEPRetract(a, own, "n", "9", true); domain.KindOf(err) != domain.ItemNotFound {
		t.Errorf("7.2.3.6: %v", err)
	}
	if _, err := domain.DecidePEPRetract(a, own, "n", "", true); appErr(err) != "item-required" {
		t.Errorf("7.2.3.4: %v", err)
	}
	d := must(domain.DecidePEPRetract(a, own, "n", "1", true))
	if len(d.Effects) != 1 {
		t.Errorf("notify='true' notifies: %+v", d.Effects)
	}
	apply(a, d)
	if n, _ := a.PEPNode("n"); len(n.Items) != 1 {
		t.Errorf("after retract: %+v", n.Items)
	}
	if _, err := domain.DecidePEPConfigure(a, own, "n", map[string]string{domain.FieldAccessModel: "authorize"}, domain.PEPLimits{}); domain.KindOf(err) != domain.NotAcceptable {
		t.Errorf("8.2.5.4 unsupported access model: %v", err)
	}
	apply(a, must(domain.DecidePEPConfigure(a, own, "n", map[string]string{domain.FieldAccessModel: "open"}, domain.PEPLimits{})))
	if c, _ := domain.PEPConfigOf(a, own, "n"); c.AccessModel != domain.AccessOpen || c.MaxItems != 5 {
		t.Errorf("configured: %+v", c)
	}
	if d := must(domain.DecidePEPConfigure(a, own, "n", map[string]string{domain.FieldAccessModel: "open"}, domain.PEPLimits{})); len(d.Events) != 0 {
		t.Errorf("no change, no event: %+v", d.Events)
	}
	if _, err := domain.DecidePEPDeleteNode(a, own, "nope"); domain.KindOf(err) != domain.ItemNotFound {
		t.Errorf("8.4.3.3: %v", err)
	}
	apply(a, must(domain.DecidePEPDeleteNode(a, own, "n")))
	if _, ok := a.PEPNode("n"); ok {
		t.Error("node still there after delete")
	}
}

func must(d domain.Decision, err error) domain.Decision {
	if err != nil {
		panic(err)
	}
	return d
}
