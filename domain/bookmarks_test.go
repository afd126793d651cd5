package domain_test

import (
	"slices"
	"strings"
	"testing"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

const (
	nodeNative = "urn:xmpp:bookmarks:1"
	nodeLegacy = "storage:bookmarks"
)

// legacyStorage is a XEP-0048 <storage/> of the given conferences.
func legacyStorage(conferences ...string) string {
	return "<storage xmlns='storage:bookmarks'>" + strings.Join(conferences, "") + "</storage>"
}

func privateSet(t *testing.T, a *domain.Account, xml string) domain.Decision {
	t.Helper()
	d, err := domain.DecidePrivateSet(a, juliet.String(), "storage", nodeLegacy, xml, domain.PEPLimits{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func parse(t *testing.T, xml string) *stanza.Element {
	t.Helper()
	el, err := stanza.ParseBytes([]byte(xml), stanza.Limits{MaxDepth: 16, MaxNodes: 1000})
	if err != nil {
		t.Fatalf("%v: %s", err, xml)
	}
	return el
}

// published returns the ids of d's pep.published events to node and of
// its pep.retracted ones, in order.
func published(d domain.Decision, node string) (pub, retract []string) {
	for _, e := range d.Events {
		switch e := e.(type) {
		case events.PEPPublished:
			if e.Node == node {
				pub = append(pub, e.ID)
			}
		case events.PEPRetracted:
			if e.Node == node {
				retract = append(retract, e.ID)
			}
		}
	}
	return pub, retract
}

// nativeItem returns the native node's item id, parsed.
func nativeItem(t *testing.T, a *domain.Account, id string) *stanza.Element {
	t.Helper()
	n, _ := a.PEPNode(nodeNative)
	for _, it := range n.Items {
		if it.ID == id {
			return parse(t, it.XML)
		}
	}
	t.Fatalf("no native item %s in %+v", id, n.Items)
	return nil
}

// legacyItem returns the legacy node's item "current", parsed.
func legacyItem(t *testing.T, a *domain.Account) *stanza.Element {
	t.Helper()
	n, ok := a.PEPNode(nodeLegacy)
	if !ok || len(n.Items) != 1 || n.Items[0].ID != "current" {
		t.Fatalf("legacy node %+v", n)
	}
	return parse(t, n.Items[0].XML)
}

// XEP-0402 5.3.2: a XEP-0048 list set in private storage (XEP-0049)
// becomes one native item per room, in a whitelist node made with
// section 3.3's configuration, with a notification; the legacy PEP node
// gets the same list; autojoin "1" is true (note 5); nick and password
// carry over.
func TestBookmarksFromPrivate_XEP0402_5_3_2(t *testing.T) {
	a := account()
	list := legacyStorage(
		`<conference jid='council@chat.example' name='Council' autojoin='1'><nick>Puck</nick><password>pw</password></conference>`,
		`<conference jid='orchard@chat.example'/>`,
		`<url name='Site' url='https://example.org/'/>`)
	d := privateSet(t, a, list)
	if p, ok := d.Events[0].(events.PrivateSet); !ok || p.XML != list {
		t.Fatalf("the private element first, as sent: %+v", d.Events)
	}
	pub, _ := published(d, nodeNative)
	if !slices.Equal(pub, []string{"council@chat.example", "orchard@chat.example"}) {
		t.Errorf("native items %v", pub)
	}
	var notified []string
	for _, e := range d.Effects {
		if n, ok := e.(domain.PEPNotify); ok {
			notified = append(notified, n.Node)
			if n.Access != domain.AccessWhitelist {
				t.Errorf("notification of %s under %s", n.Node, n.Access)
			}
		}
	}
	if !slices.Equal(notified, []string{nodeNative, nodeLegacy}) {
		t.Errorf("notifications %v", notified)
	}
	apply(a, d)
	n, _ := a.PEPNode(nodeNative)
	if n.Config != (domain.PEPConfig{AccessModel: domain.AccessWhitelist, PersistItems: true, MaxItems: domain.DefaultPEPMaxItems}) {
		t.Errorf("native node config %+v", n.Config)
	}
	c := nativeItem(t, a, "council@chat.example")
	if c.Name.Space != nodeNative || c.Attr("name") != "Council" || c.Attr("autojoin") != "true" || c.Attr("jid") != "" ||
		c.Child("nick", nodeNative).Text() != "Puck" || c.Child("password", nodeNative).Text() != "pw" {
		t.Errorf("native conference %s", c)
	}
	if legacyItem(t, a).String() != parse(t, list).String() {
		t.Errorf("legacy node %s", legacyItem(t, a))
	}

	// A second list: council unchanged (autojoin "true" now, the same
	// value), orchard gone, heath new.
	d = privateSet(t, a, legacyStorage(
		`<conference jid='council@chat.example' name='Council' autojoin='true'><nick>Puck</nick><password>pw</password></conference>`,
		`<conference jid='heath@chat.example' name='Heath'/>`))
	pub, retract := published(d, nodeNative)
	if !slices.Equal(pub, []string{"heath@chat.example"}) || !slices.Equal(retract, []string{"orchard@chat.example"}) {
		t.Errorf("5.3.2: published %v retracted %v; unchanged rooms are left alone", pub, retract)
	}
	for _, e := range d.Effects {
		if n, ok := e.(domain.PEPNotify); ok && n.Node == nodeNative && slices.ContainsFunc(n.Items, func(it domain.PEPItem) bool { return it.ID == "council@chat.example" }) {
			t.Errorf("5.3.2: the unchanged room notified: %+v", n)
		}
	}
}

// XEP-0402 5.3.1: a native publish or retract rebuilds the XEP-0048 list
// (jid = item id) in private storage and in the legacy node, keeping the
// legacy node's <url/> bookmarks, which XEP-0402 cannot hold.
func TestBookmarksFromNative_XEP0402_5_3_1(t *testing.T) {
	a := account()
	apply(a, privateSet(t, a, legacyStorage(`<url name='Site' url='https://example.org/'/>`)))
	conf := `<conference xmlns='urn:xmpp:bookmarks:1' name='The Play' autojoin='1'><nick>JC</nick><extensions><state xmlns='urn:example:state' minimized='true'/></extensions></conference>`
	d := must(domain.DecidePEPPublish(a, juliet.String(), domain.PEPPublish{Node: nodeNative, ItemID: "theplay@conference.example", XML: conf}, domain.PEPLimits{}))
	var private string
	for _, e := range d.Events {
		if p, ok := e.(events.PrivateSet); ok && p.Local == "storage" && p.Namespace == nodeLegacy {
			private = p.XML
		}
	}
	st := parse(t, private)
	c := st.Child("conference", nodeLegacy)
	if c == nil || c.Attr("jid") != "theplay@conference.example" || c.Attr("name") != "The Play" || c.Attr("autojoin") != "true" ||
		c.Child("nick", nodeLegacy).Text() != "JC" || strings.Contains(private, "extensions") || st.Child("url", nodeLegacy) == nil {
		t.Errorf("legacy list %s", private)
	}
	apply(a, d)
	if legacyItem(t, a).String() != st.String() {
		t.Errorf("legacy node %s, private %s", legacyItem(t, a), st)
	}

	// A legacy client writes the list back unchanged: the native item,
	// and its extensions, stay as they are; renaming the room keeps them
	// too (section 2: they MUST be preserved when editing).
	d = privateSet(t, a, private)
	if pub, retract := published(d, nodeNative); len(pub)+len(retract) != 0 {
		t.Errorf("the round trip rewrote native items: %v %v", pub, retract)
	}
	apply(a, privateSet(t, a, strings.Replace(private, "The Play", "The Play&apos;s the Thing", 1)))
	if it := nativeItem(t, a, "theplay@conference.example"); it.Attr("name") != "The Play's the Thing" || it.Child("extensions", nodeNative) == nil {
		t.Errorf("renamed item %s", it)
	}

	d = must(domain.DecidePEPRetract(a, juliet.String(), nodeNative, "theplay@conference.example", true))
	apply(a, d)
	if l := legacyItem(t, a); l.Child("conference", nodeLegacy) != nil || l.Child("url", nodeLegacy) == nil {
		t.Errorf("after the retract the legacy list is %s", l)
	}
}

// XEP-0402 5.3 with #compat-pep: a XEP-0223 publish of the whole list
// (XEP-0048 over PEP) updates the native node and private storage.
func TestBookmarksFromLegacyPEP_XEP0402_5_3(t *testing.T) {
	a := account()
	list := legacyStorage(`<conference jid='room@chat.example' autojoin='true'><nick>J</nick></conference>`)
	d := must(domain.DecidePEPPublish(a, juliet.String(), domain.PEPPublish{Node: nodeLegacy, ItemID: "current", XML: list}, domain.PEPLimits{}))
	if pub, _ := published(d, nodeNative); !slices.Equal(pub, []string{"room@chat.example"}) {
		t.Errorf("native items %v", pub)
	}
	var private bool
	for _, e := range d.Events {
		if p, ok := e.(events.PrivateSet); ok {
			private = p.XML == list && p.Namespace == nodeLegacy
		}
	}
	if !private {
		t.Errorf("private storage not given the list: %+v", d.Events)
	}
	apply(a, d)
	if n, _ := a.PEPNode(nodeLegacy); n.Config.AccessModel != domain.AccessWhitelist {
		t.Errorf("XEP-0223: the legacy node auto-created %+v", n.Config)
	}
}

// Payloads the server could not cast are refused (XEP-0060 7.1.3.6), and
// a native list too big for one stored element is a policy violation.
func TestBookmarksRefusals(t *testing.T) {
	a := account()
	for _, cmd := range []domain.PEPPublish{
		{Node: nodeNative, ItemID: "r@c", XML: "<conference xmlns='storage:bookmarks'/>"},
		{Node: nodeLegacy, ItemID: "current", XML: "<conference xmlns='urn:xmpp:bookmarks:1'/>"},
	} {
		if _, err := domain.DecidePEPPublish(a, juliet.String(), cmd, domain.PEPLimits{}); appErr(err) != "invalid-payload" {
			t.Errorf("%s: %v", cmd.Node, err)
		}
	}
	big := "<conference xmlns='urn:xmpp:bookmarks:1' name='" + strings.Repeat("n", 90) + "'/>"
	apply(a, must(domain.DecidePEPPublish(a, juliet.String(), domain.PEPPublish{Node: nodeNative, ItemID: "a@c", XML: big}, domain.PEPLimits{MaxItemBytes: 200})))
	if _, err := domain.DecidePEPPublish(a, juliet.String(), domain.PEPPublish{Node: nodeNative, ItemID: "b@c", XML: big}, domain.PEPLimits{MaxItemBytes: 200}); domain.KindOf(err) != domain.PolicyViolation {
		t.Errorf("two rooms over 200 bytes as XEP-0048: %v", err)
	}
}
