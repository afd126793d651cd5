package im

import (
	"xmppd/domain"
	"xmppd/stanza"
)

// XEP-0398 User Avatar to vCard-Based Avatars Conversion, done as views
// of what the user published (section 5.2): nothing here writes an
// event.
//
// Section 4: the server puts its user's avatar hash (XEP-0153) in every
// available presence the user broadcasts or directs; the broadcast's is
// the hash that presence subscribers may see, and it is what the
// presence view keeps, so probe answers, the presence a new resource or a
// new subscriber is sent (RFC 6121 4.2.2, 3.1.5) and replay all carry it.
// The hash is read from the account's folded state (domain/avatar.go)
// inside the decision, and goes in as one child element built once per
// stanza: a broadcast to hundreds of contacts parses, copies and writes
// the stored stanza as it did before.
//
// Section 5.1: when the avatar changes (a metadata publish, a vCard set)
// the server does not send presence again. The change is not the user's
// presence: a new presence event on behalf of every available resource
// would record presence the user never sent, and resending directed
// presence would repeat MUC joins. Contacts who follow the avatar learn
// of it from the metadata notification (XEP-0163 4.3), and a client that
// sees this server's pep-vcard-conversion feature resends its presence
// to carry the new hash (5.1: "clients MAY resend directed available
// presence ... The service will then inject an updated version of the
// hash"). Until it does, the stored presence, and so the answer to a
// probe, carries the hash of when it was sent.
//
// Section 3.1 / 5.2: a vCard get from someone who may read both avatar
// nodes (section 7) is answered with the PEP avatar as its PHOTO.

// avatarFeatures are the account's disco#info features of this file
// (XEP-0398 section 2: "on the account").
var avatarFeatures = []string{stanza.NSPEPVCardConversion}

// clientKeepsPhoto reports whether the user's presence el carries a
// vcard-temp:x:update the server must leave as it is
// (domain.KeepsClientPhoto).
func clientKeepsPhoto(el *stanza.Element) bool {
	x := el.Child("x", stanza.NSVCardUpdate)
	if x == nil {
		return false
	}
	photo := x.Child("photo", stanza.NSVCardUpdate)
	if photo == nil {
		return false
	}
	return domain.KeepsClientPhoto(true, photo.Text())
}

// withPhoto puts <x xmlns='vcard-temp:x:update'><photo>hash</photo></x>
// into the presence el, in place of the client's first such <x/> or
// after its other children, and returns el. An empty hash is an empty
// <photo/>: no avatar (XEP-0153 4.1 #3).
func withPhoto(el *stanza.Element, hash string) *stanza.Element {
	photo := stanza.New(stanza.NSVCardUpdate, "photo")
	if hash != "" {
		photo.AddText(hash)
	}
	return replaceChild(el, stanza.New(stanza.NSVCardUpdate, "x").AddChild(photo))
}

// replaceChild puts child in place of el's first child element of the
// same name, or after el's children if it has none, and returns el.
func replaceChild(el, child *stanza.Element) *stanza.Element {
	for i, c := range el.Children {
		if ce, ok := c.(*stanza.Element); ok && ce.Name == child.Name {
			el.Children[i] = child
			return el
		}
	}
	return el.AddChild(child)
}

// userPresenceXML is the stored and sent form of the user's presence el:
// for available presence, with the avatar hash put in unless the client
// keeps its own (keep, from clientKeepsPhoto before el was changed: a
// decision run again after a conflict must not take the server's empty
// <photo/> for the client's).
func userPresenceXML(el *stanza.Element, available, keep bool, hash func() string) string {
	if available && !keep {
		withPhoto(el, hash())
	}
	return encode(el)
}

// vcardWithPhoto is the stored vCard (serialised; "" for none) with its
// PHOTO replaced by the PEP avatar's TYPE and BINVAL (XEP-0398 3.1:
// "store the content of the data element as a photo in the vcard", here
// done at read time). A stored vCard that no longer parses is answered
// as the avatar alone.
func vcardWithPhoto(stored, typ, binval string) *stanza.Element {
	v := stanza.New(nsVCard, "vCard")
	if stored != "" {
		if p, err := parseStanza(stored); err == nil && p.Name.Space == nsVCard && p.Name.Local == "vCard" {
			v = p
		}
	}
	photo := stanza.New(nsVCard, "PHOTO")
	if typ != "" {
		photo.AddChild(stanza.New(nsVCard, "TYPE").AddText(typ))
	}
	photo.AddChild(stanza.New(nsVCard, "BINVAL").AddText(binval))
	return replaceChild(v, photo)
}
