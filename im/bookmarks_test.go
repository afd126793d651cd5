package im_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"xmppd/events"
	"xmppd/replay"
	"xmppd/stanza"
)

const (
	nodeLegacyBookmarks = "storage:bookmarks"
	aliceBare           = "alice@localhost"
)

// bookmarkClients is alice on three clients, one per bookmark store:
// native (Conversations, Gajim with #compat: urn:xmpp:bookmarks:1+notify),
// private (mcabber, poezio: XEP-0049, no PEP), legacy PEP (XEP-0048 over
// XEP-0223: storage:bookmarks+notify); and bob, her contact, who must
// see none of it (whitelist nodes).
type bookmarkClients struct {
	e                       *env
	native, private, legacy *client
	bob                     *client
}

func newBookmarkClients(t *testing.T) *bookmarkClients {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	w := &bookmarkClients{e: e, native: e.login("alice", "conversations"), private: e.login("alice", "mcabber"),
		legacy: e.login("alice", "oldgajim"), bob: e.login("bob", "pc")}
	capsOnline(w.native, nodeBookmark+"+notify")
	w.private.online(1)
	capsOnline(w.legacy, nodeLegacyBookmarks+"+notify")
	capsOnline(w.bob, nodeBookmark+"+notify", nodeLegacyBookmarks+"+notify")
	subscribeBoth(w.native, w.bob)
	return w
}

// setPrivate stores a XEP-0048 list through XEP-0049 (XEP-0048 3.2).
func setPrivate(c *client, id, storage string) {
	c.t.Helper()
	if res := c.iq(id, `<iq type='set' id='%s'><query xmlns='jabber:iq:private'>%s</query></iq>`, id, storage); res.Attr("type") != "result" {
		c.t.Fatalf("private set: %s", res)
	}
}

// getPrivate returns the XEP-0048 <storage/> in private storage.
func getPrivate(c *client, id string) *stanza.Element {
	c.t.Helper()
	res := c.iq(id, `<iq type='get' id='%s'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`, id)
	q := res.Child("query", stanza.NSPrivate)
	if res.Attr("type") != "result" || q == nil || q.Child("storage", nodeLegacyBookmarks) == nil {
		c.t.Fatalf("private get: %s", res)
	}
	return q.Child("storage", nodeLegacyBookmarks)
}

// legacyConferences returns the conferences of a XEP-0048 <storage/> by jid.
func legacyConferences(st *stanza.Element) map[string]*stanza.Element {
	out := map[string]*stanza.Element{}
	for _, c := range st.Elements() {
		if c.Name.Local == "conference" {
			out[c.Attr("jid")] = c
		}
	}
	return out
}

// nativeBookmarks returns alice's native items' payloads by id
// (XEP-0402 3.2).
func nativeBookmarks(c *client, id string) map[string]*stanza.Element {
	c.t.Helper()
	res := getItems(c, id, aliceBare, nodeBookmark, "", "")
	itemIDs(c.t, res) // a result with <items/>
	out := map[string]*stanza.Element{}
	for _, it := range res.Child("pubsub", stanza.NSPubSub).Child("items", stanza.NSPubSub).Elements() {
		out[it.Attr("id")] = it.Child("conference", nodeBookmark)
	}
	return out
}

// legacyPEP returns the <storage/> of the legacy node's item "current"
// (XEP-0048 3.3 over XEP-0223).
func legacyPEP(c *client, id string) *stanza.Element {
	c.t.Helper()
	res := getItems(c, id, aliceBare, nodeLegacyBookmarks, "", "")
	if ids := itemIDs(c.t, res); !slices.Equal(ids, []string{"current"}) {
		c.t.Fatalf("legacy node items %v", ids)
	}
	return res.Child("pubsub", stanza.NSPubSub).Child("items", stanza.NSPubSub).Elements()[0].Child("storage", nodeLegacyBookmarks)
}

// eventItems are the item ids and "retract:ID"s of a notification.
func eventItems(el *stanza.Element) []string {
	var out []string
	for _, it := range el.Child("event", stanza.NSPubSubEvent).Child("items", stanza.NSPubSubEvent).Elements() {
		if it.Name.Local == "retract" {
			out = append(out, "retract:"+it.Attr("id"))
		} else {
			out = append(out, it.Attr("id"))
		}
	}
	return out
}

// XEP-0402 5.3.2 (#compat): a list mcabber stores in private storage
// becomes native items, with one notification to the client that wants
// them, and the XEP-0223 copy with its own; autojoin "1" is true (XEP-0402
// note 5). A second list notifies only what changed: the new room and the
// retraction, not the unchanged one. Bob, a contact, is told nothing
// (whitelist).
func TestBookmarksPrivateToNative_XEP0402_5_3_2(t *testing.T) {
	w := newBookmarkClients(t)
	setPrivate(w.private, "s1", `<storage xmlns='storage:bookmarks'>`+
		`<conference jid='council@chat.localhost' name='Council' autojoin='1'><nick>Puck</nick><password>oberon</password></conference>`+
		`<conference jid='orchard@chat.localhost' name='Orchard'/></storage>`)
	n := w.native.expect(notification(aliceBare, nodeBookmark, "council@chat.localhost"))
	if got := eventItems(n); !slices.Equal(got, []string{"council@chat.localhost", "orchard@chat.localhost"}) {
		t.Errorf("native notification of %v", got)
	}
	w.legacy.expect(notification(aliceBare, nodeLegacyBookmarks, "current"))
	w.bob.never(anyNotification(nodeBookmark), w.bob.pingSelf())
	w.bob.never(anyNotification(nodeLegacyBookmarks), w.bob.pingSelf())

	got := nativeBookmarks(w.native, "g1")
	c := got["council@chat.localhost"]
	if len(got) != 2 || c == nil || c.Attr("name") != "Council" || c.Attr("autojoin") != "true" ||
		c.Child("nick", nodeBookmark).Text() != "Puck" || c.Child("password", nodeBookmark).Text() != "oberon" {
		t.Errorf("native items %v, council %s", got, c)
	}
	if res := getItems(w.bob, "g2", aliceBare, nodeBookmark, "", ""); pubsubErr(res) != "not-allowed/closed-node" {
		t.Errorf("bob reads alice's bookmarks: %s", res)
	}

	setPrivate(w.private, "s2", `<storage xmlns='storage:bookmarks'>`+
		`<conference jid='council@chat.localhost' name='Council' autojoin='true'><nick>Puck</nick><password>oberon</password></conference>`+
		`<conference jid='heath@chat.localhost' name='Heath' autojoin='0'/></storage>`)
	if got := eventItems(w.native.expect(notification(aliceBare, nodeBookmark, "heath@chat.localhost"))); !slices.Equal(got, []string{"heath@chat.localhost"}) {
		t.Errorf("5.3.2: the second list notified %v", got)
	}
	w.native.expect(notification(aliceBare, nodeBookmark, "retract:orchard@chat.localhost"))
	w.native.never(notification(aliceBare, nodeBookmark, "council@chat.localhost"), w.native.pingSelf())
	if got := nativeBookmarks(w.native, "g3"); len(got) != 2 || got["orchard@chat.localhost"] != nil || got["heath@chat.localhost"] == nil {
		t.Errorf("native items after the second list: %v", got)
	}
}

// XEP-0402 5.3.1 (#compat and #compat-pep): what Conversations publishes
// is what mcabber reads from private storage and an old client from the
// XEP-0223 node, jid taken from the item id; a retraction removes it from
// both. Both forms are in the log: they survive a restart, and replay
// shows the two nodes.
func TestBookmarksNativeToLegacy_XEP0402_5_3_1(t *testing.T) {
	w := newBookmarkClients(t)
	res := publish(w.native, "p1", nodeBookmark, "theplay@chat.localhost",
		`<conference xmlns='urn:xmpp:bookmarks:1' name='The Play' autojoin='true'><nick>JC</nick><extensions><state xmlns='urn:example:state' minimized='true'/></extensions></conference>`,
		"pubsub#persist_items", "true", "pubsub#max_items", "max", "pubsub#send_last_published_item", "never", "pubsub#access_model", "whitelist")
	if res.Attr("type") != "result" {
		t.Fatalf("XEP-0402 3.3 publish: %s", res)
	}
	w.legacy.expect(notification(aliceBare, nodeLegacyBookmarks, "current"))
	for name, st := range map[string]*stanza.Element{"private storage": getPrivate(w.private, "g1"), "legacy node": legacyPEP(w.legacy, "g2")} {
		c := legacyConferences(st)["theplay@chat.localhost"]
		if c == nil || c.Attr("name") != "The Play" || !(c.Attr("autojoin") == "true" || c.Attr("autojoin") == "1") || c.Child("nick", nodeLegacyBookmarks).Text() != "JC" {
			t.Errorf("%s: %s", name, st)
		}
	}

	if err := w.e.stop(); err != nil {
		t.Fatal(err)
	}
	w.e.start()
	w.native, w.private, w.legacy = w.e.login("alice", "conversations"), w.e.login("alice", "mcabber"), w.e.login("alice", "oldgajim")
	capsOnline(w.legacy, nodeLegacyBookmarks+"+notify")
	if c := legacyConferences(getPrivate(w.private, "g3"))["theplay@chat.localhost"]; c == nil {
		t.Errorf("after a restart private storage lost the room")
	}
	s, ok, err := replay.At(context.Background(), replay.WithKeys(w.e.store, w.e.keys), aliceBare, replay.Cutoff{}, nil)
	if err != nil || !ok {
		t.Fatalf("replay: %v %v", ok, err)
	}
	nodes := map[string]int{}
	for _, n := range s.PEP {
		if n.AccessModel != "whitelist" {
			t.Errorf("replay: node %s is %s", n.Node, n.AccessModel)
		}
		nodes[n.Node] = len(n.Items)
	}
	if nodes[nodeBookmark] != 1 || nodes[nodeLegacyBookmarks] != 1 {
		t.Errorf("replay shows nodes %v", nodes)
	}

	res = w.native.iq("r1", `<iq type='set' id='r1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><retract node='urn:xmpp:bookmarks:1' notify='true'><item id='theplay@chat.localhost'/></retract></pubsub></iq>`)
	if res.Attr("type") != "result" {
		t.Fatalf("XEP-0402 3.5 retract: %s", res)
	}
	w.legacy.expect(notification(aliceBare, nodeLegacyBookmarks, "current"))
	if len(legacyConferences(getPrivate(w.private, "g4"))) != 0 || len(legacyConferences(legacyPEP(w.legacy, "g5"))) != 0 {
		t.Errorf("the retracted room is still in a legacy form")
	}

	// One decision: the retraction and both legacy forms, the last
	// events of the stream, in answer to the retract.
	envs, ps := w.e.readStream(events.AccountStream(aliceBare))
	var tail []string
	for i, e := range envs {
		if e.StanzaID == "r1" {
			tail = append(tail, ps[i].EventType())
		}
	}
	if envs[len(envs)-1].StanzaID != "r1" {
		t.Errorf("the retract's events are not the stream's last")
	}
	if !slices.Equal(tail, []string{events.TypePEPRetracted, events.TypePrivateSet, events.TypePEPPublished}) {
		t.Errorf("the retract's events: %v", tail)
	}
}

// XEP-0402 5.3 (#compat-pep): a XEP-0048 list published to the XEP-0223
// node reaches the native node and private storage.
func TestBookmarksLegacyPEP_XEP0402_5_3(t *testing.T) {
	w := newBookmarkClients(t)
	res := publish(w.legacy, "p1", nodeLegacyBookmarks, "current",
		`<storage xmlns='storage:bookmarks'><conference jid='heath@chat.localhost' autojoin='1'><nick>Hecate</nick></conference></storage>`,
		"pubsub#persist_items", "true", "pubsub#access_model", "whitelist")
	if res.Attr("type") != "result" {
		t.Fatalf("XEP-0223 publish: %s", res)
	}
	w.native.expect(notification(aliceBare, nodeBookmark, "heath@chat.localhost"))
	if c := nativeBookmarks(w.native, "g1")["heath@chat.localhost"]; c == nil || c.Attr("autojoin") != "true" || c.Child("nick", nodeBookmark).Text() != "Hecate" {
		t.Errorf("native item %s", c)
	}
	if c := legacyConferences(getPrivate(w.private, "g2"))["heath@chat.localhost"]; c == nil {
		t.Errorf("private storage lacks the room")
	}
	// A payload that is not a XEP-0402 conference cannot be cast.
	if res := publish(w.native, "p2", nodeBookmark, "x@chat.localhost", `<storage xmlns='storage:bookmarks'/>`); pubsubErr(res) != "bad-request/invalid-payload" {
		t.Errorf("XEP-0060 7.1.3.6: %s", res)
	}
}

// XEP-0402 section 6: the account announces both unifications.
func TestBookmarksCompatFeatures_XEP0402_6(t *testing.T) {
	w := newBookmarkClients(t)
	res := w.native.iq("d1", `<iq type='get' id='d1' to='%s'><query xmlns='%s'/></iq>`, aliceBare, stanza.NSDiscoInfo)
	var features []string
	for _, f := range res.Child("query", stanza.NSDiscoInfo).Elements() {
		features = append(features, f.Attr("var"))
	}
	for _, f := range []string{"urn:xmpp:bookmarks:1#compat", "urn:xmpp:bookmarks:1#compat-pep"} {
		if !slices.Contains(features, f) {
			t.Errorf("account disco#info lacks %s: %s", f, strings.Join(features, " "))
		}
	}
}
