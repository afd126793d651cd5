package domain_test

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"xmppd/domain"
	"xmppd/events"
)

// Two small "images" and their XEP-0084 / XEP-0153 hashes.
var (
	imgA, imgB   = []byte("\x89PNG image A"), []byte("\x89PNG image B")
	b64A, b64B   = base64.StdEncoding.EncodeToString(imgA), base64.StdEncoding.EncodeToString(imgB)
	hashA, hashB = sha1Of(imgA), sha1Of(imgB)
)

func sha1Of(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// avatarEvents are the events of a XEP-0084 publish (section 3.1: data
// first, then metadata) into nodes with the given access model.
func avatarEvents(access, id, b64, metadata string) []events.Payload {
	return []events.Payload{
		events.PEPNodeConfigured{Node: "urn:xmpp:avatar:data", AccessModel: access, PersistItems: true, MaxItems: 1},
		events.PEPPublished{Node: "urn:xmpp:avatar:data", ID: id, XML: "<data xmlns='urn:xmpp:avatar:data'>" + b64 + "</data>"},
		events.PEPNodeConfigured{Node: "urn:xmpp:avatar:metadata", AccessModel: access, PersistItems: true, MaxItems: 1},
		events.PEPPublished{Node: "urn:xmpp:avatar:metadata", ID: id, XML: metadata},
	}
}

func info(id string) string {
	return "<metadata xmlns='urn:xmpp:avatar:metadata'><info bytes='12' id='" + id + "' type='image/png'/></metadata>"
}

func vcard(b64 string) events.VCardSet {
	return events.VCardSet{XML: "<vCard xmlns='vcard-temp'><FN>J</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>" + b64 + "</BINVAL></PHOTO></vCard>"}
}

// XEP-0398 sections 3.1, 4 and 7 with XEP-0153 3.1 and 4.1: which hash
// each viewer is told, from the account's folded state.
func TestAvatarHash_XEP0398_4(t *testing.T) {
	sub := events.SubscriptionChanged{Contact: romeo.String(), Cause: events.InSubscribe, Before: events.StateNone, After: events.StateFrom}
	cases := []struct {
		name                string
		evs                 []events.Payload
		subscriber, strange string // AvatarHash for romeo (subscribed) and the nurse
		broadcast           string // SubscriberAvatarHash
	}{
		{name: "nothing: empty photo (XEP-0153 4.1 #3)"},
		{name: "vCard photo, SHA-1 of the decoded BINVAL", evs: []events.Payload{vcard(b64A)}, subscriber: hashA, strange: hashA, broadcast: hashA},
		{name: "vCard BINVAL wrapped in lines", evs: []events.Payload{vcard(b64A[:8] + "\n  " + b64A[8:])}, subscriber: hashA, strange: hashA, broadcast: hashA},
		{name: "vCard BINVAL not base64", evs: []events.Payload{vcard("!!")}},
		{name: "vCard with EXTVAL only", evs: []events.Payload{events.VCardSet{XML: "<vCard xmlns='vcard-temp'><PHOTO><EXTVAL>https://example.com/a.png</EXTVAL></PHOTO></vCard>"}}},
		{name: "PEP open: everyone", evs: avatarEvents("open", hashB, b64B, info(hashB)), subscriber: hashB, strange: hashB, broadcast: hashB},
		{name: "PEP presence: subscribers only, strangers get the vCard's",
			evs:        append([]events.Payload{sub, vcard(b64A)}, avatarEvents("presence", hashB, b64B, info(hashB))...),
			subscriber: hashB, strange: hashA, broadcast: hashB},
		{name: "PEP whitelist: nobody but the owner", evs: append([]events.Payload{sub}, avatarEvents("whitelist", hashB, b64B, info(hashB))...)},
		{name: "an info with a url is not the avatar (3.1)",
			evs:        avatarEvents("open", hashB, b64B, "<metadata xmlns='urn:xmpp:avatar:metadata'><info bytes='1' id='"+hashA+"' type='image/png' url='https://example.com/a.png'/><info bytes='12' id='"+hashB+"' type='image/png'/></metadata>"),
			subscriber: hashB, strange: hashB, broadcast: hashB},
		{name: "an id that does not hash the data (3.1 SHOULD verify)", evs: avatarEvents("open", hashA, b64B, info(hashA))},
		{name: "metadata without data", evs: avatarEvents("open", hashB, b64B, info(hashB))[2:]},
		{name: "empty metadata disables the PEP avatar (XEP-0084 3.5)",
			evs:        append(append([]events.Payload{vcard(b64A)}, avatarEvents("open", hashB, b64B, info(hashB))...), events.PEPPublished{Node: "urn:xmpp:avatar:metadata", ID: "none", XML: "<metadata xmlns='urn:xmpp:avatar:metadata'/>"}),
			subscriber: hashA, strange: hashA, broadcast: hashA},
		{name: "metadata retracted", evs: append(avatarEvents("open", hashB, b64B, info(hashB)), events.PEPRetracted{Node: "urn:xmpp:avatar:metadata", ID: hashB})},
		{name: "data node deleted", evs: append(avatarEvents("open", hashB, b64B, info(hashB)), events.PEPNodeDeleted{Node: "urn:xmpp:avatar:data"})},
		{name: "account deleted", evs: append(avatarEvents("open", hashB, b64B, info(hashB)), vcard(b64A), events.AccountDeleted{})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := account(c.evs...)
			if got := a.AvatarHash(romeo.String()); got != c.subscriber {
				t.Errorf("AvatarHash(subscriber) = %q, want %q", got, c.subscriber)
			}
			if got := a.AvatarHash(nurse.String()); got != c.strange {
				t.Errorf("AvatarHash(stranger) = %q, want %q", got, c.strange)
			}
			if got := a.SubscriberAvatarHash(); got != c.broadcast {
				t.Errorf("SubscriberAvatarHash = %q, want %q", got, c.broadcast)
			}
			// The owner sees the PEP avatar whatever its access model.
			_, _, pep := a.VCardPhoto(juliet.String())
			if own := a.AvatarHash(juliet.String()); pep && own == "" {
				t.Errorf("the owner's hash is empty with a PEP avatar")
			}
		})
	}
}

// XEP-0398 5.2 and section 7: the PHOTO a vCard get is given, and only for
// a requester who may read both nodes; its BINVAL hashes to AvatarHash.
func TestVCardPhoto_XEP0398_5_2(t *testing.T) {
	sub := events.SubscriptionChanged{Contact: romeo.String(), Cause: events.InSubscribe, Before: events.StateNone, After: events.StateBoth}
	a := account(append([]events.Payload{sub}, avatarEvents("presence", hashB, b64B, info(hashB))...)...)
	typ, bin, ok := a.VCardPhoto(romeo.String())
	if !ok || typ != "image/png" || bin != b64B {
		t.Fatalf("subscriber: %q %q %v", typ, bin, ok)
	}
	if raw, _ := base64.StdEncoding.DecodeString(bin); sha1Of(raw) != a.AvatarHash(romeo.String()) {
		t.Errorf("the PHOTO does not hash to the advertised hash")
	}
	if _, _, ok := a.VCardPhoto(nurse.String()); ok {
		t.Errorf("a stranger is given a presence-only avatar")
	}
	// The data node opened but not the metadata node: still not both.
	a.Apply(events.PEPNodeConfigured{Node: "urn:xmpp:avatar:data", AccessModel: "open", PersistItems: true, MaxItems: 1})
	if _, _, ok := a.VCardPhoto(nurse.String()); ok {
		t.Errorf("a stranger reads the avatar with only the data node open")
	}
	a.Apply(events.PEPNodeConfigured{Node: "urn:xmpp:avatar:metadata", AccessModel: "open", PersistItems: true, MaxItems: 1})
	if _, _, ok := a.VCardPhoto(nurse.String()); !ok {
		t.Errorf("both nodes open, the stranger should read it")
	}
}

// XEP-0398 section 4: which client <x xmlns='vcard-temp:x:update'/> the
// server leaves alone.
func TestKeepsClientPhoto_XEP0398_4(t *testing.T) {
	cases := []struct {
		name     string
		hasPhoto bool
		photo    string
		keep     bool
	}{
		{"no x or an x without photo: overwritten (MUST)", false, "", false},
		{"empty photo: kept (MUST NOT touch)", true, "", true},
		{"empty photo with white space: kept", true, " \n", true},
		{"another non-empty hash: overwritten (MAY, xmppd does)", true, hashA, false},
	}
	for _, c := range cases {
		if got := domain.KeepsClientPhoto(c.hasPhoto, c.photo); got != c.keep {
			t.Errorf("%s: keep = %v", c.name, got)
		}
	}
}
