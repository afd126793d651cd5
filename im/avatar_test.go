package im_test

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"testing"

	"xmppd/events"
	"xmppd/stanza"
)

const nsUpdate = "vcard-temp:x:update"

// avatarImage is a stand-in image (the server never looks inside one):
// its base64 and its SHA-1 in hex, the hash XEP-0084 and XEP-0153 use.
type avatarImage struct{ b64, hash string }

func image(name string) avatarImage {
	raw := []byte("\x89PNG\r\n\x1a\n" + name)
	sum := sha1.Sum(raw)
	return avatarImage{base64.StdEncoding.EncodeToString(raw), hex.EncodeToString(sum[:])}
}

// photoOf returns the text of a presence's
// <x xmlns='vcard-temp:x:update'><photo/></x>, and "no x" or "no photo"
// when it lacks either.
func photoOf(el *stanza.Element) string {
	x := el.Child("x", nsUpdate)
	if x == nil {
		return "no x"
	}
	p := x.Child("photo", nsUpdate)
	if p == nil {
		return "no photo"
	}
	return p.Text()
}

// setVCardPhoto publishes c's vCard with img as its PHOTO (XEP-0153 3.1).
func setVCardPhoto(c *client, id string, img avatarImage) {
	c.t.Helper()
	res := c.iq(id, `<iq type='set' id='%s'><vCard xmlns='vcard-temp'><FN>%s</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>%s</BINVAL></PHOTO></vCard></iq>`, id, c.name, img.b64)
	if res.Attr("type") != "result" {
		c.t.Fatalf("vCard set: %s", res)
	}
}

// publishAvatar publishes img as c's XEP-0084 avatar (section 3.1: the
// data, then the metadata), with the access model given (XEP-0060
// publish-options; "" for the default, presence).
func publishAvatar(c *client, id string, img avatarImage, access string) {
	c.t.Helper()
	var opts []string
	if access != "" {
		opts = []string{"pubsub#access_model", access}
	}
	if res := publish(c, id+"d", "urn:xmpp:avatar:data", img.hash, fmt.Sprintf(`<data xmlns='urn:xmpp:avatar:data'>%s</data>`, img.b64), opts...); res.Attr("type") != "result" {
		c.t.Fatalf("avatar data: %s", res)
	}
	meta := fmt.Sprintf(`<metadata xmlns='urn:xmpp:avatar:metadata'><info bytes='20' id='%s' height='64' width='64' type='image/png'/></metadata>`, img.hash)
	if res := publish(c, id+"m", "urn:xmpp:avatar:metadata", img.hash, meta, opts...); res.Attr("type") != "result" {
		c.t.Fatalf("avatar metadata: %s", res)
	}
}

// openAvatar configures both of c's avatar nodes with the open access
// model (XEP-0060 8.2.4), as Conversations does after a publish-options
// conflict.
func openAvatar(c *client, id string) {
	c.t.Helper()
	for _, node := range []string{"urn:xmpp:avatar:data", "urn:xmpp:avatar:metadata"} {
		res := c.iq(id+node, `<iq type='set' id='%s'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='%s'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field><field var='pubsub#access_model'><value>open</value></field></x></configure></pubsub></iq>`, id+node, node)
		if res.Attr("type") != "result" {
			c.t.Fatalf("configure %s: %s", node, res)
		}
	}
}

// withStatus matches available presence from from whose <status/> is
// status.
func withStatus(from, status string) match {
	return match{fmt.Sprintf("presence from %s with status %q", from, status), func(el *stanza.Element) bool {
		st := el.Child("status", "")
		return el.Name.Local == "presence" && el.Attr("from") == from && el.Attr("type") == "" && st != nil && st.Text() == status
	}}
}

// avatarUsers starts a server with alice and bob online and subscribed
// to each other, and carol online, a stranger to both.
func avatarUsers(t *testing.T) (e *env, alice, bob, carol *client) {
	t.Helper()
	e = newEnv(t)
	for _, u := range []string{"alice", "bob", "carol"} {
		e.addUser(u)
	}
	e.start()
	alice, bob, carol = e.login("alice", "phone"), e.login("bob", "pc"), e.login("carol", "tab")
	for _, c := range []*client{alice, bob, carol} {
		c.online(1)
	}
	subscribeBoth(alice, bob)
	return e, alice, bob, carol
}

// getVCard returns the <vCard/> of owner's vCard as requester reads it.
func getVCard(c *client, id, owner string) *stanza.Element {
	c.t.Helper()
	res := c.iq(id, `<iq type='get' id='%s' to='%s'><vCard xmlns='vcard-temp'/></iq>`, id, owner)
	v := res.Child("vCard", "vcard-temp")
	if res.Attr("type") != "result" || v == nil {
		c.t.Fatalf("%s: vCard get: %s", c.name, res)
	}
	return v
}

// binval is the text of a vCard's PHOTO/BINVAL, "" without one.
func binval(v *stanza.Element) string {
	if p := v.Child("PHOTO", "vcard-temp"); p != nil && p.Child("BINVAL", "vcard-temp") != nil {
		return p.Child("BINVAL", "vcard-temp").Text()
	}
	return ""
}

// XEP-0398 section 4 and XEP-0153 4.1: the server puts the hash of the
// vCard's PHOTO into every available presence it broadcasts, into what it
// keeps as the user's presence (so the answer to a probe carries it), and
// the empty <photo/> when there is no avatar. A client's empty <photo/>
// is left alone; an <x/> without <photo/> and a stale hash are
// overwritten.
func TestAvatarHashInBroadcastAndProbe_XEP0398_4(t *testing.T) {
	e, a, b := contacts(t)
	img := image("vcard")

	// No avatar yet: subscribe's presence already said so (4.1 #3).
	a.send(`<presence><status>none yet</status></presence>`)
	if p := photoOf(b.expect(withStatus(a.jid, "none yet"))); p != "" {
		t.Errorf("XEP-0153 4.1 #3: no avatar should be an empty <photo/>, got %q", p)
	}
	if p := photoOf(a.expect(withStatus(a.jid, "none yet"))); p != "" {
		t.Errorf("the user's own resource: %q", p)
	}

	setVCardPhoto(a, "v1", img)
	a.send(`<presence><status>with a photo</status></presence>`)
	got := b.expect(withStatus(a.jid, "with a photo"))
	if p := photoOf(got); p != img.hash {
		t.Errorf("XEP-0398 4: broadcast carries %q, want the vCard PHOTO's SHA-1 %q: %s", p, img.hash, got)
	}
	if got.Child("status", "").Text() != "with a photo" {
		t.Errorf("the rest of the presence changed: %s", got)
	}

	// A new resource of bob's: the server probes alice (RFC 6121 4.3.2),
	// and her stored presence answers with the hash.
	b2 := e.login("bob", "laptop")
	b2.online(1)
	if p := photoOf(b2.expect(withStatus(a.jid, "with a photo"))); p != img.hash {
		t.Errorf("probe answer carries %q, want %q", p, img.hash)
	}

	cases := []struct{ name, send, want string }{
		{"empty photo kept (XEP-0398 example 6)", `<x xmlns='vcard-temp:x:update'><photo/></x>`, ""},
		{"x without photo overwritten (MUST)", `<x xmlns='vcard-temp:x:update'/>`, img.hash},
		{"another hash overwritten (MAY)", `<x xmlns='vcard-temp:x:update'><photo>0123456789012345678901234567890123456789</photo></x>`, img.hash},
		{"the same hash kept", fmt.Sprintf(`<x xmlns='vcard-temp:x:update'><photo>%s</photo></x>`, img.hash), img.hash},
	}
	for i, c := range cases {
		a.send(`<presence><status>%d</status>%s</presence>`, i, c.send)
		got := b.expect(withStatus(a.jid, fmt.Sprint(i)))
		if p := photoOf(got); p != c.want {
			t.Errorf("%s: photo %q, want %q: %s", c.name, p, c.want, got)
		}
		if n := len(got.Child("x", nsUpdate).Elements()); n != 1 || len(elementsNamed(got, "x", nsUpdate)) != 1 {
			t.Errorf("%s: one <x/> with one <photo/> expected: %s", c.name, got)
		}
	}

	// Unavailable presence is not touched.
	a.send(`<presence type='unavailable'/>`)
	if p := photoOf(b.expect(presence(a.jid, "unavailable"))); p != "no x" {
		t.Errorf("unavailable presence got an update child: %q", p)
	}
}

func elementsNamed(el *stanza.Element, local, space string) []*stanza.Element {
	var out []*stanza.Element
	for _, c := range el.Elements() {
		if c.Name.Local == local && c.Name.Space == space {
			out = append(out, c)
		}
	}
	return out
}

// XEP-0398 sections 3.1, 4, 5.1 and 7: the PEP avatar's id wins over the
// vCard's photo for those who may read both avatar nodes, in broadcast
// and directed presence; a stranger, who may not read presence-only
// nodes, is directed the hash of the vCard photo anyone may read. A new
// metadata publish sends no presence (5.1), and the next presence
// carries the new hash.
func TestPEPAvatarWins_XEP0398_4(t *testing.T) {
	_, a, b, c := avatarUsers(t)
	vc, pep, next := image("vcard"), image("pep"), image("pep, next")

	setVCardPhoto(a, "v1", vc)
	publishAvatar(a, "p1", pep, "") // presence access model (XEP-0163 4.2)
	a.send(`<presence/>`)
	if p := photoOf(b.expect(presence(a.jid, ""))); p != pep.hash {
		t.Errorf("broadcast to a subscriber: %q, want the PEP avatar %q", p, pep.hash)
	}
	a.send(`<presence to='bob@localhost/pc'/>`)
	if p := photoOf(b.expect(presence(a.jid, ""))); p != pep.hash {
		t.Errorf("directed to a subscriber: %q, want %q", p, pep.hash)
	}
	a.send(`<presence to='carol@localhost/tab'/>`)
	if p := photoOf(c.expect(presence(a.jid, ""))); p != vc.hash {
		t.Errorf("directed to a stranger (section 7): %q, want the vCard's %q", p, vc.hash)
	}

	// 5.1: the avatar changes, presence is not sent again.
	publishAvatar(a, "p2", next, "")
	roundTrip(b, "rt1")
	roundTrip(c, "rt2")
	if el, ok, _ := b.take(anyPresenceFrom("alice@")); ok {
		t.Errorf("XEP-0398 5.1: presence resent on an avatar change: %s", el)
	}
	a.send(`<presence><show>away</show></presence>`)
	if p := photoOf(b.expect(presence(a.jid, ""))); p != next.hash {
		t.Errorf("next presence after a metadata publish: %q, want %q", p, next.hash)
	}

	// An open avatar is everyone's.
	openAvatar(a, "o1")
	a.send(`<presence to='carol@localhost/tab'/>`)
	if p := photoOf(c.expect(presence(a.jid, ""))); p != next.hash {
		t.Errorf("directed to a stranger, open avatar: %q, want %q", p, next.hash)
	}
}

// XEP-0398 3.1, 5.2 and 7: a vCard with no PHOTO is answered with the PEP
// avatar as its PHOTO to a subscribed contact, and as stored to a
// stranger while the data node is presence-only; no event is written for
// it (the log keeps what the user published). The account's disco#info
// announces the conversion (section 2).
func TestVCardGetWithPEPAvatar_XEP0398_5_2(t *testing.T) {
	e, a, b, c := avatarUsers(t)
	img := image("pep")

	if res := a.iq("v1", `<iq type='set' id='v1'><vCard xmlns='vcard-temp'><FN>Alice A.</FN></vCard></iq>`); res.Attr("type") != "result" {
		t.Fatalf("vCard set: %s", res)
	}
	publishAvatar(a, "p1", img, "")
	_, before := e.readStream(events.AccountStream("alice@localhost"))

	v := getVCard(b, "g1", "alice@localhost")
	photo := v.Child("PHOTO", "vcard-temp")
	if photo == nil || binval(v) != img.b64 || photo.Child("TYPE", "vcard-temp") == nil || photo.Child("TYPE", "vcard-temp").Text() != "image/png" {
		t.Errorf("a subscriber's vCard get should carry the PEP avatar: %s", v)
	}
	if fn := v.Child("FN", "vcard-temp"); fn == nil || fn.Text() != "Alice A." {
		t.Errorf("the stored vCard's fields are kept: %s", v)
	}
	if raw, err := base64.StdEncoding.DecodeString(binval(v)); err != nil || fmt.Sprintf("%x", sha1.Sum(raw)) != img.hash {
		t.Errorf("the PHOTO does not hash to the metadata id")
	}
	if v := getVCard(a, "g2", "alice@localhost"); binval(v) != img.b64 {
		t.Errorf("the owner's own vCard get: %s", v)
	}
	if v := getVCard(c, "g3", "alice@localhost"); v.Child("PHOTO", "vcard-temp") != nil || v.Child("FN", "vcard-temp") == nil {
		t.Errorf("section 7: a stranger is given the presence-only avatar: %s", v)
	}
	if _, after := e.readStream(events.AccountStream("alice@localhost")); len(after) != len(before) {
		t.Errorf("vCard gets wrote %d events", len(after)-len(before))
	}

	// Once both nodes are open the stranger sees it too.
	openAvatar(a, "o1")
	if v := getVCard(c, "g4", "alice@localhost"); binval(v) != img.b64 {
		t.Errorf("open avatar, stranger: %s", v)
	}

	res := a.iq("d1", `<iq type='get' id='d1' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	found := false
	for _, f := range res.Child("query", stanza.NSDiscoInfo).Elements() {
		found = found || f.Attr("var") == "urn:xmpp:pep-vcard-conversion:0"
	}
	if !found {
		t.Errorf("XEP-0398 section 2: the account's disco#info lacks the feature: %s", res)
	}
}

// XEP-0398 3.1 with "PEP avatar wins": when the stored vCard has a PHOTO
// of its own, a reader of the PEP avatar is given the PEP avatar in its
// place, the image whose hash presence advertises to that reader; a
// stranger is given the stored PHOTO, whose hash it was directed.
func TestVCardPhotoReplacedForReaders_XEP0398_3_1(t *testing.T) {
	_, a, b, c := avatarUsers(t)
	vc, pep := image("vcard"), image("pep")
	setVCardPhoto(a, "v1", vc)
	publishAvatar(a, "p1", pep, "")

	if v := getVCard(b, "g1", "alice@localhost"); binval(v) != pep.b64 || len(elementsNamed(v, "PHOTO", "vcard-temp")) != 1 {
		t.Errorf("subscriber: want the PEP avatar as the one PHOTO: %s", v)
	}
	if v := getVCard(c, "g2", "alice@localhost"); binval(v) != vc.b64 {
		t.Errorf("stranger: want the stored PHOTO: %s", v)
	}
}
