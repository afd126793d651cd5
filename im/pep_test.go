package im_test

import (
	"fmt"
	"strings"
	"testing"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

const (
	nsNick       = "http://jabber.org/protocol/nick"
	nodeNick     = nsNick
	nodeAvatar   = "urn:xmpp:avatar:metadata"
	nodeBookmark = "urn:xmpp:bookmarks:1"
)

// capsInfo is a client's disco#info answer (XEP-0115 6.2) listing
// features, and its verification string (5.1).
func capsInfo(t *testing.T, features ...string) (info, ver string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<query xmlns='http://jabber.org/protocol/disco#info'><identity category='client' type='pc' name='pep-test'/>`)
	for _, f := range features {
		fmt.Fprintf(&b, `<feature var='%s'/>`, f)
	}
	b.WriteString(`</query>`)
	el, err := stanza.ParseBytes([]byte(b.String()), stanza.Limits{MaxDepth: 8, MaxNodes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ver, ok := domain.CapsVer(el, "sha-1")
	if !ok {
		t.Fatal("caps ver")
	}
	return b.String(), ver
}

// capsOnline requests the roster and sends initial presence announcing
// entity capabilities with features (XEP-0115 section 4), answering the
// server's disco#info for them if it asks (6.2), and returns once the
// server has acted on the answer.
func capsOnline(c *client, features ...string) {
	c.t.Helper()
	if res := c.iq("r0", `<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`); res.Attr("type") != "result" {
		c.t.Fatalf("%s: roster get: %s", c.name, res)
	}
	info, ver := capsInfo(c.t, features...)
	c.send(`<presence><priority>1</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://xmppd.test/client' ver='%s'/></presence>`, ver)
	c.expect(presence(c.jid, ""))
	c.pingSelf().run() // the server's query, if any, was written before the ping's answer
	q, ok, _ := c.take(match{"caps disco#info", func(el *stanza.Element) bool {
		return el.Name.Local == "iq" && el.Attr("type") == "get" && el.Child("query", stanza.NSDiscoInfo) != nil
	}})
	if !ok {
		return // known caps: no query (XEP-0115 8.2)
	}
	if node := q.Child("query", stanza.NSDiscoInfo).Attr("node"); node != "https://xmppd.test/client#"+ver {
		c.t.Fatalf("%s: caps query for node %q", c.name, node)
	}
	info = strings.Replace(info, "<query ", "<query node='https://xmppd.test/client#"+ver+"' ", 1)
	c.send(`<iq type='result' id='%s' to='%s'>%s</iq>`, q.Attr("id"), q.Attr("from"), info)
	c.pingSelf().run()
}

// publish publishes payload as item id of node, with publish-options
// fields (var=value pairs) if any, and returns the answer.
func publish(c *client, id, node, itemID, payload string, options ...string) *stanza.Element {
	c.t.Helper()
	opts := ""
	if len(options) > 0 {
		opts = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>`
		for i := 0; i+1 < len(options); i += 2 {
			opts += fmt.Sprintf(`<field var='%s'><value>%s</value></field>`, options[i], options[i+1])
		}
		opts += `</x></publish-options>`
	}
	item := `<item>` + payload + `</item>`
	if itemID != "" {
		item = `<item id='` + itemID + `'>` + payload + `</item>`
	}
	return c.iq(id, `<iq type='set' id='%s'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='%s'>%s</publish>%s</pubsub></iq>`, id, node, item, opts)
}

// getItems asks owner's service for node's items (XEP-0060 6.5) with
// extra attributes or children in more.
func getItems(c *client, id, owner, node, attrs, children string) *stanza.Element {
	c.t.Helper()
	return c.iq(id, `<iq type='get' id='%s' to='%s'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='%s' %s>%s</items></pubsub></iq>`, id, owner, node, attrs, children)
}

// itemIDs returns the ids of the items of an items result.
func itemIDs(t *testing.T, res *stanza.Element) []string {
	t.Helper()
	ps := res.Child("pubsub", stanza.NSPubSub)
	if res.Attr("type") != "result" || ps == nil || ps.Child("items", stanza.NSPubSub) == nil {
		t.Fatalf("items: %s", res)
	}
	var ids []string
	for _, it := range ps.Child("items", stanza.NSPubSub).Elements() {
		ids = append(ids, it.Attr("id"))
	}
	return ids
}

// pubsubErr is "condition/app-condition" of an error answer.
func pubsubErr(el *stanza.Element) string {
	e := el.Child("error", stanza.NSClient)
	if el.Attr("type") != "error" || e == nil {
		return "no error: " + el.String()
	}
	var out []string
	for _, c := range e.Elements() {
		if c.Name.Space == stanza.NSStanzas || c.Name.Space == stanza.NSPubSubErrors {
			out = append(out, c.Name.Local)
		}
	}
	return strings.Join(out, "/")
}

// notification matches a PEP event notification (XEP-0060 7.1.2.1) from
// owner of node, naming item (a published id, "retract:ID" or "delete").
func notification(owner, node, item string) match {
	return match{"notification of " + node + " " + item + " from " + owner, func(el *stanza.Element) bool {
		ev := el.Child("event", stanza.NSPubSubEvent)
		if el.Name.Local != "message" || el.Attr("type") != "headline" || el.Attr("from") != owner || ev == nil {
			return false
		}
		if item == "delete" {
			d := ev.Child("delete", stanza.NSPubSubEvent)
			return d != nil && d.Attr("node") == node
		}
		items := ev.Child("items", stanza.NSPubSubEvent)
		if items == nil || items.Attr("node") != node {
			return false
		}
		for _, it := range items.Elements() {
			if id, ok := strings.CutPrefix(item, "retract:"); ok {
				if it.Name.Local == "retract" && it.Attr("id") == id {
					return true
				}
			} else if it.Name.Local == "item" && it.Attr("id") == item {
				return true
			}
		}
		return false
	}}
}

// anyNotification matches any PEP notification of node.
func anyNotification(node string) match {
	return match{"any notification of " + node, func(el *stanza.Element) bool {
		ev := el.Child("event", stanza.NSPubSubEvent)
		if el.Name.Local != "message" || ev == nil {
			return false
		}
		items, del := ev.Child("items", stanza.NSPubSubEvent), ev.Child("delete", stanza.NSPubSubEvent)
		return (items != nil && items.Attr("node") == node) || (del != nil && del.Attr("node") == node)
	}}
}

// pepWorld is alice, bob and carol with mutual presence subscriptions,
// and dave who shares nothing with alice; bob and dave want nick and
// avatar notifications, carol's client announces no +notify.
type pepWorld struct {
	e                  *env
	a, a2, b, c, d     *client
	aliceBare, bobBare string
}

func newPEPWorld(t *testing.T) *pepWorld {
	e := newEnv(t)
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		e.addUser(u)
	}
	e.start()
	w := &pepWorld{e: e, a: e.login("alice", "phone"), a2: e.login("alice", "desk"), b: e.login("bob", "laptop"),
		c: e.login("carol", "pc"), d: e.login("dave", "pc"), aliceBare: "alice@localhost", bobBare: "bob@localhost"}
	want := []string{nodeNick + "+notify", nodeAvatar + "+notify", nodeBookmark + "+notify"}
	capsOnline(w.a, want...)
	w.a2.online(1)
	capsOnline(w.b, want...)
	capsOnline(w.c, "urn:xmpp:ping")
	capsOnline(w.d, want...)
	subscribeBoth(w.a, w.b)
	subscribeBoth(w.a, w.c)
	return w
}

// XEP-0163 section 4 (XEP-0060 7.1, 7.1.4 auto-create, 7.1.2.1): the
// first publish creates the node; the owner's resources and the contacts
// whose caps carry NODE+notify get the notification; an owner's resource or a contact without
// +notify and an entity without a subscription get nothing. The publish
// is an event with the session as actor.
func TestPEPPublishAutoCreate_XEP0163_4(t *testing.T) {
	w := newPEPWorld(t)
	a, b, c, d := w.a, w.b, w.c, w.d
	res := publish(a, "p1", nodeNick, "", `<nick xmlns='http://jabber.org/protocol/nick'>Alice</nick>`)
	pub := res.Child("pubsub", stanza.NSPubSub)
	if res.Attr("type") != "result" || pub == nil || pub.Child("publish", stanza.NSPubSub).Child("item", stanza.NSPubSub).Attr("id") == "" {
		t.Fatalf("7.1.2: the result names the id the service made: %s", res)
	}
	id := pub.Child("publish", stanza.NSPubSub).Child("item", stanza.NSPubSub).Attr("id")
	el := b.expect(notification(w.aliceBare, nodeNick, id))
	if nick := el.Child("event", stanza.NSPubSubEvent).Child("items", stanza.NSPubSubEvent).Elements()[0].Child("nick", nsNick); nick == nil || nick.Text() != "Alice" {
		t.Errorf("the payload travels: %s", el)
	}
	a.expect(notification(w.aliceBare, nodeNick, id))
	// 4 #3: the owner's own resources are subject to notification
	// filtering too: alice's desk announces no caps.
	w.a2.never(anyNotification(nodeNick), w.a2.messageFrom(a))
	c.never(anyNotification(nodeNick), c.messageFrom(a))
	d.never(anyNotification(nodeNick), d.messageFrom(a))

	_, ps := w.e.readStream(events.AccountStream(w.aliceBare))
	if cfg := ofType[events.PEPNodeConfigured](ps); len(cfg) != 1 || !cfg[0].Created || cfg[0].AccessModel != "presence" {
		t.Errorf("node configured events %+v", cfg)
	}
	envs, _ := w.e.readStream(events.AccountStream(w.aliceBare))
	last := envs[len(envs)-1]
	if last.Type != events.TypePEPPublished || last.Actor != a.jid || last.StanzaID != "p1" || last.SessionID == "" {
		t.Errorf("the publish's provenance: %+v", last)
	}
}

// XEP-0060 6.5 items retrieval and 4.5 access models: a presence node
// is for the owner and contacts with a subscription from the owner
// (others: not-authorized + presence-subscription-required, 6.5.9.4); a
// whitelist node (XEP-0402's bookmarks) for the owner only (not-allowed +
// closed-node, 6.5.9.6) and notified to nobody else; an open node for
// anyone. max_items (6.5.7) and ids (6.5.8) select items.
func TestPEPItemsAccess_XEP0060_6_5(t *testing.T) {
	w := newPEPWorld(t)
	a, b, d := w.a, w.b, w.d
	for i := range 3 {
		if res := publish(a, fmt.Sprint("pa", i), nodeAvatar, fmt.Sprint("av", i), `<metadata xmlns='urn:xmpp:avatar:metadata'/>`, "pubsub#max_items", "10"); res.Attr("type") != "result" {
			t.Fatalf("publish: %s", res)
		}
	}
	if got := itemIDs(t, getItems(b, "i1", w.aliceBare, nodeAvatar, "", "")); strings.Join(got, ",") != "av0,av1,av2" {
		t.Errorf("6.5.2 all items: %v", got)
	}
	if got := itemIDs(t, getItems(b, "i2", w.aliceBare, nodeAvatar, "max_items='1'", "")); strings.Join(got, ",") != "av2" {
		t.Errorf("6.5.7 max_items: %v", got)
	}
	if got := itemIDs(t, getItems(a, "i3", w.aliceBare, nodeAvatar, "", "<item id='av1'/>")); strings.Join(got, ",") != "av1" {
		t.Errorf("6.5.8 by id: %v", got)
	}
	if got := pubsubErr(getItems(d, "i4", w.aliceBare, nodeAvatar, "", "")); got != "not-authorized/presence-subscription-required" {
		t.Errorf("6.5.9.4 no subscription: %s", got)
	}
	if got := pubsubErr(getItems(b, "i5", w.aliceBare, "urn:example:none", "", "")); got != "item-not-found" {
		t.Errorf("6.5.9.11 no node: %s", got)
	}

	// XEP-0402 section 3: bookmarks with whitelist and max_items=max.
	conf := `<conference xmlns='urn:xmpp:bookmarks:1' name='Council' autojoin='true'><nick>alice</nick></conference>`
	if res := publish(a, "bm1", nodeBookmark, "council@rooms.localhost", conf,
		"pubsub#persist_items", "true", "pubsub#access_model", "whitelist", "pubsub#max_items", "max", "pubsub#send_last_published_item", "never"); res.Attr("type") != "result" {
		t.Fatalf("bookmark publish: %s", res)
	}
	a.expect(notification(w.aliceBare, nodeBookmark, "council@rooms.localhost"))
	b.never(anyNotification(nodeBookmark), b.messageFrom(a))
	if got := pubsubErr(getItems(b, "i6", w.aliceBare, nodeBookmark, "", "")); got != "not-allowed/closed-node" {
		t.Errorf("6.5.9.6 whitelist: %s", got)
	}
	if got := itemIDs(t, getItems(a, "i7", w.aliceBare, nodeBookmark, "", "")); len(got) != 1 {
		t.Errorf("the owner reads the bookmarks: %v", got)
	}

	// Open: OMEMO device list, anyone may read it (XEP-0384 publishes it
	// with access_model open).
	const devices = "eu.siacs.conversations.axolotl.devicelist"
	if res := publish(a, "o1", devices, "current", `<list xmlns='eu.siacs.conversations.axolotl'><device id='42'/></list>`, "pubsub#access_model", "open"); res.Attr("type") != "result" {
		t.Fatalf("devicelist publish: %s", res)
	}
	if got := itemIDs(t, getItems(d, "i8", w.aliceBare, devices, "", "")); len(got) != 1 {
		t.Errorf("open node read by a stranger: %v", got)
	}
}

// XEP-0060 7.1.5 publish-options as preconditions (conflict +
// precondition-not-met), 8.2 node configuration by the owner only, and
// the limits (7.1.3.4 payload-too-big).
func TestPEPPublishOptionsConfigure_XEP0060_7_1_5(t *testing.T) {
	w := newPEPWorld(t)
	a, b := w.a, w.b
	const node = "urn:xmpp:omemo:2:bundles"
	bundle := `<bundle xmlns='urn:xmpp:omemo:2'><spk id='1'>AAAA</spk></bundle>`
	if res := publish(a, "b1", node, "31415", bundle, "pubsub#max_items", "max"); res.Attr("type") != "result" {
		t.Fatalf("publish: %s", res)
	}
	if got := pubsubErr(publish(a, "b2", node, "31415", bundle, "pubsub#access_model", "open")); got != "conflict/precondition-not-met" {
		t.Errorf("7.1.5 precondition: %s", got)
	}
	// Conversations' answer to the conflict: configure, then publish.
	res := a.iq("c1", `<iq type='get' id='c1'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='%s'/></pubsub></iq>`, node)
	if res.Attr("type") != "result" || !strings.Contains(res.String(), "pubsub#access_model") || !strings.Contains(res.String(), ">1000<") {
		t.Errorf("8.2.1 configure form: %s", res)
	}
	if got := pubsubErr(b.iq("c2", `<iq type='get' id='c2' to='%s'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='%s'/></pubsub></iq>`, w.aliceBare, node)); got != "forbidden" {
		t.Errorf("8.2.3.3 not the owner: %s", got)
	}
	res = a.iq("c3", `<iq type='set' id='c3'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='%s'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field><field var='pubsub#access_model'><value>open</value></field></x></configure></pubsub></iq>`, node)
	if res.Attr("type") != "result" {
		t.Fatalf("8.2.4 configure: %s", res)
	}
	if res := publish(a, "b3", node, "31415", bundle, "pubsub#access_model", "open"); res.Attr("type") != "result" {
		t.Errorf("publish after configure: %s", res)
	}
	if got := pubsubErr(publish(a, "b4", node, "x", `<big xmlns='urn:example'>`+strings.Repeat("z", domain.DefaultMaxStoredXML)+`</big>`)); got != "not-acceptable/payload-too-big" {
		t.Errorf("7.1.3.4: %s", got)
	}
	if got := pubsubErr(b.iq("b5", `<iq type='set' id='b5' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='%s'><item>%s</item></publish></pubsub></iq>`, node, bundle)); got != "forbidden" {
		t.Errorf("7.1.3.1 publishing to another's node: %s", got)
	}
	if got := pubsubErr(a.iq("s1", `<iq type='set' id='s1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='%s' jid='%s'/></pubsub></iq>`, node, a.jid)); got != "feature-not-implemented/unsupported" {
		t.Errorf("unsupported subscribe: %s", got)
	}
	if got := pubsubErr(a.iq("g1", `<iq type='get' id='g1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='%s'/></pubsub></iq>`, node)); got != "bad-request" {
		t.Errorf("publish in an IQ get: %s", got)
	}
	_, ps := w.e.readStream(events.AccountStream(w.aliceBare))
	if cfg := ofType[events.PEPNodeConfigured](ps); len(cfg) != 2 || cfg[0].MaxItems != 1000 || cfg[1].AccessModel != "open" {
		t.Errorf("configure events %+v", cfg)
	}
}

// XEP-0060 7.2 retract with notify='true' (7.2.2.1) and 8.4 node
// deletion (8.4.2 notifies), with their errors.
func TestPEPRetractAndDelete_XEP0060_7_2_8_4(t *testing.T) {
	w := newPEPWorld(t)
	a, b := w.a, w.b
	publish(a, "p1", nodeAvatar, "h1", `<metadata xmlns='urn:xmpp:avatar:metadata'/>`, "pubsub#max_items", "5")
	publish(a, "p2", nodeAvatar, "h2", `<metadata xmlns='urn:xmpp:avatar:metadata'/>`)
	b.expect(notification(w.aliceBare, nodeAvatar, "h2"))
	retract := `<iq type='set' id='%s'><pubsub xmlns='http://jabber.org/protocol/pubsub'><retract node='%s' notify='true'><item id='%s'/></retract></pubsub></iq>`
	if got := pubsubErr(a.iq("r0", retract, "r0", nodeAvatar, "nope")); got != "item-not-found" {
		t.Errorf("7.2.3.6: %s", got)
	}
	if got := pubsubErr(b.iq("r1", `<iq type='set' id='r1' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><retract node='urn:xmpp:avatar:metadata'><item id='h1'/></retract></pubsub></iq>`)); got != "forbidden" {
		t.Errorf("7.2.3.1: %s", got)
	}
	if res := a.iq("r2", retract, "r2", nodeAvatar, "h1"); res.Attr("type") != "result" {
		t.Fatalf("retract: %s", res)
	}
	b.expect(notification(w.aliceBare, nodeAvatar, "retract:h1"))
	if got := itemIDs(t, getItems(b, "i1", w.aliceBare, nodeAvatar, "", "")); strings.Join(got, ",") != "h2" {
		t.Errorf("after retract: %v", got)
	}
	del := `<iq type='set' id='%s'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><delete node='%s'/></pubsub></iq>`
	if res := a.iq("d1", del, "d1", nodeAvatar); res.Attr("type") != "result" {
		t.Fatalf("delete: %s", res)
	}
	b.expect(notification(w.aliceBare, nodeAvatar, "delete"))
	if got := pubsubErr(a.iq("d2", del, "d2", nodeAvatar)); got != "item-not-found" {
		t.Errorf("8.4.3.3: %s", got)
	}
	_, ps := w.e.readStream(events.AccountStream(w.aliceBare))
	if len(ofType[events.PEPRetracted](ps)) != 1 || len(ofType[events.PEPNodeDeleted](ps)) != 1 {
		t.Errorf("retract and delete events missing")
	}
}

// XEP-0163 4.3.2: a contact's resource that sends initial presence with
// NODE+notify gets the last published item of each node; so does the
// owner's. The nodes and items survive a restart (rebuilt from the log).
func TestPEPLastItemOnPresence_XEP0163_4_3_2(t *testing.T) {
	w := newPEPWorld(t)
	a, b := w.a, w.b
	publish(a, "p1", nodeNick, "n1", `<nick xmlns='http://jabber.org/protocol/nick'>Al</nick>`)
	publish(a, "p2", nodeNick, "n2", `<nick xmlns='http://jabber.org/protocol/nick'>Alice</nick>`)
	publish(a, "p3", nodeBookmark, "room@rooms.localhost", `<conference xmlns='urn:xmpp:bookmarks:1'/>`, "pubsub#access_model", "whitelist")
	b.expect(notification(w.aliceBare, nodeNick, "n2"))

	b2 := w.e.login("bob", "phone")
	capsOnline(b2, nodeNick+"+notify", nodeBookmark+"+notify")
	b2.expect(notification(w.aliceBare, nodeNick, "n2"))
	b2.never(anyNotification(nodeBookmark), b2.pingSelf())

	if err := w.e.stop(); err != nil {
		t.Fatal(err)
	}
	w.e.start()
	a, b = w.e.login("alice", "phone"), w.e.login("bob", "laptop")
	capsOnline(b, nodeNick+"+notify")
	b.expect(notification(w.aliceBare, nodeNick, "n2"))
	capsOnline(a, nodeBookmark+"+notify")
	a.expect(notification(w.aliceBare, nodeBookmark, "room@rooms.localhost"))
	if got := itemIDs(t, getItems(b, "i1", w.aliceBare, nodeNick, "", "")); strings.Join(got, ",") != "n2" {
		t.Errorf("after restart: %v (max_items 1 keeps the last)", got)
	}
}

// XEP-0163 section 6.1 / XEP-0030: the account's disco#info names the
// pubsub/pep identity and the features; the server's too; disco#items
// lists the nodes the asker may read.
func TestPEPDisco_XEP0163_6(t *testing.T) {
	w := newPEPWorld(t)
	a, b := w.a, w.b
	publish(a, "p1", nodeNick, "n1", `<nick xmlns='http://jabber.org/protocol/nick'>Al</nick>`)
	publish(a, "p2", nodeBookmark, "r", `<conference xmlns='urn:xmpp:bookmarks:1'/>`, "pubsub#access_model", "whitelist")
	res := b.iq("d1", `<iq type='get' id='d1' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(res.String(), `category="pubsub" type="pep"`) && !strings.Contains(res.String(), `category='pubsub' type='pep'`) {
		t.Errorf("identity pubsub/pep: %s", res)
	}
	if !strings.Contains(res.String(), "pubsub#publish-options") {
		t.Errorf("features: %s", res)
	}
	res = a.iq("d2", `<iq type='get' id='d2' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	for _, f := range []string{"#publish", "#auto-create", "#retrieve-items", "#access-whitelist", "#last-published", "#filtered-notifications"} {
		if !strings.Contains(res.String(), "http://jabber.org/protocol/pubsub"+f+`"`) && !strings.Contains(res.String(), "http://jabber.org/protocol/pubsub"+f+`'`) {
			t.Errorf("server disco#info lacks %s", f)
		}
	}
	items := func(c *client, id string) []string {
		res := c.iq(id, `<iq type='get' id='%s' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`, id)
		var out []string
		for _, it := range res.Child("query", stanza.NSDiscoItems).Elements() {
			out = append(out, it.Attr("node"))
		}
		return out
	}
	if got := strings.Join(items(b, "i1"), ","); got != nodeNick {
		t.Errorf("bob sees nodes %q", got)
	}
	// The legacy node is the server's XEP-0048 copy of the bookmarks
	// (XEP-0402 5.3.1), whitelist too.
	if got := strings.Join(items(a, "i2"), ","); got != nodeNick+",storage:bookmarks,"+nodeBookmark {
		t.Errorf("alice sees nodes %q", got)
	}
}

// XEP-0163 4.3.2: when the owner approves a subscription, the new
// contact's resources that want the node get its last item.
func TestPEPLastItemOnApproval_XEP0163_4_3_2(t *testing.T) {
	w := newPEPWorld(t)
	a, d := w.a, w.d
	publish(a, "p1", nodeNick, "n1", `<nick xmlns='http://jabber.org/protocol/nick'>Alice</nick>`)
	d.never(anyNotification(nodeNick), d.messageFrom(a))
	d.send(`<presence to='alice@localhost' type='subscribe'/>`)
	a.expect(presence("dave@localhost", "subscribe"))
	a.send(`<presence to='dave@localhost' type='subscribed'/>`)
	d.expect(notification(w.aliceBare, nodeNick, "n1"))
}

// The nodes clients use, end to end: XEP-0084 avatar data and metadata,
// XEP-0384 OMEMO 2 device list, XEP-0223 private data (persistent,
// whitelist) and XEP-0172 nick; each read back by whoever may.
func TestPEPClientNodes_XEP0084_XEP0223_XEP0384(t *testing.T) {
	w := newPEPWorld(t)
	a, b := w.a, w.b
	const hash = "111f4b3c50d7b0df729d299bc6f8e9ef9066971f"
	steps := []struct {
		node, id, payload string
		options           []string
	}{
		{"urn:xmpp:avatar:data", hash, `<data xmlns='urn:xmpp:avatar:data'>` + strings.Repeat("qANQR1DBwU4DX7jmYZnncm", 500) + `</data>`, nil},
		{nodeAvatar, hash, `<metadata xmlns='urn:xmpp:avatar:metadata'><info bytes='12345' width='64' height='64' id='` + hash + `' type='image/png'/></metadata>`, nil},
		{"urn:xmpp:omemo:2:devices", "current", `<devices xmlns='urn:xmpp:omemo:2'><device id='12345'/></devices>`, []string{"pubsub#access_model", "open"}},
		{"storage:bookmarks", "current", `<storage xmlns='storage:bookmarks'/>`, []string{"pubsub#persist_items", "true", "pubsub#access_model", "whitelist"}},
	}
	for i, st := range steps {
		if res := publish(a, fmt.Sprint("p", i), st.node, st.id, st.payload, st.options...); res.Attr("type") != "result" {
			t.Fatalf("publish %s: %s", st.node, res)
		}
	}
	b.expect(notification(w.aliceBare, nodeAvatar, hash))
	res := getItems(b, "i1", w.aliceBare, "urn:xmpp:avatar:data", "", "<item id='"+hash+"'/>")
	if got := itemIDs(t, res); len(got) != 1 || !strings.Contains(res.String(), "qANQR1DBwU4DX7jmYZnncm") {
		t.Errorf("XEP-0084 4.2 data: %s", res)
	}
	if got := itemIDs(t, getItems(w.d, "i2", w.aliceBare, "urn:xmpp:omemo:2:devices", "", "")); len(got) != 1 {
		t.Errorf("OMEMO device list for a stranger: %v", got)
	}
	if got := pubsubErr(getItems(b, "i3", w.aliceBare, "storage:bookmarks", "", "")); got != "not-allowed/closed-node" {
		t.Errorf("XEP-0223 private data read by a contact: %s", got)
	}
	if got := itemIDs(t, getItems(a, "i4", w.aliceBare, "storage:bookmarks", "", "")); len(got) != 1 {
		t.Errorf("XEP-0223 private data read by the owner: %v", got)
	}
}

// XEP-0115 5.4 and 9.3: an answer that does not hash to the 'ver' it was
// asked for is used for that account's client only; another account
// announcing the same 'ver' is asked again, while a verified 'ver' is
// not asked twice.
func TestPEPCapsNotSharedUnverified_XEP0115_5_4(t *testing.T) {
	w := newPEPWorld(t)
	query := match{"caps disco#info", func(el *stanza.Element) bool {
		return el.Name.Local == "iq" && el.Attr("type") == "get" && el.Child("query", stanza.NSDiscoInfo) != nil
	}}
	announce := func(c *client, ver string) {
		c.send(`<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://xmppd.test/client' ver='%s'/></presence>`, ver)
	}
	// dave answers a forged ver with features that do not hash to it.
	d2 := w.e.login("dave", "tablet")
	announce(d2, "Zm9yZ2VkLXZlcg==")
	q := d2.expect(query)
	d2.send(`<iq type='result' id='%s' to='%s'><query xmlns='http://jabber.org/protocol/disco#info'><feature var='%s+notify'/></query></iq>`, q.Attr("id"), q.Attr("from"), nodeNick)
	d2.pingSelf().run()
	c2 := w.e.login("carol", "tablet")
	announce(c2, "Zm9yZ2VkLXZlcg==")
	c2.expect(query)

	// bob's second client has the verified caps of his first: no query.
	_, ver := capsInfo(t, nodeNick+"+notify", nodeAvatar+"+notify", nodeBookmark+"+notify")
	b2 := w.e.login("bob", "tablet")
	announce(b2, ver)
	b2.never(query, b2.pingSelf())
}

// XEP-0191 3.3 with XEP-0163: nothing of the owner's reaches a contact
// the owner blocked, PEP notifications and last items included (found
// with Dino: a blocked contact kept getting avatar and OMEMO updates).
func TestPEPNothingToBlockedContact_XEP0191_3_3(t *testing.T) {
	w := newPEPWorld(t)
	a, b := w.a, w.b
	if res := a.iq("blk", `<iq type='set' id='blk'><block xmlns='urn:xmpp:blocking'><item jid='%s'/></block></iq>`, w.bobBare); res.Attr("type") != "result" {
		t.Fatalf("block: %s", res)
	}
	publish(a, "p1", nodeNick, "n1", `<nick xmlns='http://jabber.org/protocol/nick'>Alice</nick>`)
	a.expect(notification(w.aliceBare, nodeNick, "n1"))
	b.never(anyNotification(nodeNick), b.messageFrom(w.c))
	// A new session of bob's, sending initial presence, gets no last item.
	b2 := w.e.login("bob", "tablet")
	capsOnline(b2, nodeNick+"+notify")
	b2.never(anyNotification(nodeNick), b2.messageFrom(w.c))
	// And bob cannot read the node (blocked: service-unavailable).
	if res := getItems(b, "g1", w.aliceBare, nodeNick, "", ""); res.Attr("type") != "error" {
		t.Errorf("a blocked contact read the node: %s", res)
	}
	// Unblocked, bob gets what was published meanwhile (as at an initial
	// presence, XEP-0163 4.3.2), then hears the next publish.
	a.iq("ublk", `<iq type='set' id='ublk'><unblock xmlns='urn:xmpp:blocking'><item jid='%s'/></unblock></iq>`, w.bobBare)
	b.expect(notification(w.aliceBare, nodeNick, "n1"))
	publish(a, "p2", nodeNick, "n2", `<nick xmlns='http://jabber.org/protocol/nick'>Alice2</nick>`)
	b.expect(notification(w.aliceBare, nodeNick, "n2"))
}
