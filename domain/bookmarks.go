package domain

import (
	"slices"

	"xmppd/stanza"
)

// The two bookmark formats XEP-0402 section 5.3 lets a server unify:
//
//   - native (XEP-0402 section 2): one item per room in the PEP node
//     urn:xmpp:bookmarks:1, the room's JID as item id, the payload
//     <conference xmlns='urn:xmpp:bookmarks:1' name='' autojoin=''>
//     <nick/><password/><extensions/></conference>;
//   - legacy (XEP-0048): one <storage xmlns='storage:bookmarks'/> holding
//     every <conference jid='' name='' autojoin=''><nick/><password/>
//     </conference>, kept whole in XEP-0049 private storage or as the item
//     "current" of the XEP-0223 PEP node storage:bookmarks.
//
// This file converts between them; bookmarks_unify.go decides what a
// change to one form writes to the others.

// Node names of the two PEP forms.
const (
	NodeBookmarks       = stanza.NSBookmarks
	NodeLegacyBookmarks = stanza.NSLegacyBookmarks
	// LegacyBookmarksItem is the id of the one item of the legacy node
	// (XEP-0048 section 3.3, after XEP-0223 section 4).
	LegacyBookmarksItem = "current"
)

// bookmarkLimits bound the parse of a stored bookmark payload, which the
// size limit on items and private XML already bounds in bytes.
var bookmarkLimits = stanza.Limits{MaxDepth: 16, MaxNodes: 1 << 16}

// bookmark is one room, as both formats can say it, plus the native
// <extensions/> which only XEP-0402 can hold (section 2: "Clients MUST
// preserve these").
type bookmark struct {
	jid, name, nick, password string
	autojoin                  bool
	hasNick, hasPassword      bool
	extensions                *stanza.Element // nil when there are none
}

// same reports whether b and o say the same in both formats: everything
// but the native extensions.
func (b bookmark) same(o bookmark) bool {
	return b.jid == o.jid && b.name == o.name && b.autojoin == o.autojoin &&
		b.nick == o.nick && b.hasNick == o.hasNick && b.password == o.password && b.hasPassword == o.hasPassword
}

// xsdBool reads an xs:boolean: "true" and "1" are true (XEP-0402 note 5,
// "implementations MUST support both styles"; XEP-0048 clients write
// either).
func xsdBool(v string) bool { return v == "true" || v == "1" }

// readConference fills b from a <conference/> of either namespace: the
// children are named alike in both.
func readConference(el *stanza.Element, b *bookmark) {
	b.name = el.Attr("name")
	b.autojoin = xsdBool(el.Attr("autojoin"))
	if n := el.Child("nick", el.Name.Space); n != nil {
		b.nick, b.hasNick = n.Text(), true
	}
	if p := el.Child("password", el.Name.Space); p != nil {
		b.password, b.hasPassword = p.Text(), true
	}
}

// parseNativeBookmark reads a native item: id is the room's JID (XEP-0402
// section 2); ok is false when the payload is not a XEP-0402 conference.
func parseNativeBookmark(id, xml string) (bookmark, bool) {
	el, err := stanza.ParseBytes([]byte(xml), bookmarkLimits)
	if err != nil || el.Name.Space != stanza.NSBookmarks || el.Name.Local != "conference" {
		return bookmark{}, false
	}
	b := bookmark{jid: id}
	readConference(el, &b)
	if ext := el.Child("extensions", stanza.NSBookmarks); ext != nil && len(ext.Elements()) > 0 {
		b.extensions = ext
	}
	return b, true
}

// parseLegacyBookmarks reads a XEP-0048 <storage/>: its conferences with
// a jid, in order, the first of any jid given twice, and the other
// children (<url/> bookmarks, which XEP-0402 dropped, or anything a client
// added) for the legacy form to keep. ok is false when xml is not a
// storage:bookmarks <storage/>.
func parseLegacyBookmarks(xml string) (rooms []bookmark, others []*stanza.Element, ok bool) {
	el, err := stanza.ParseBytes([]byte(xml), bookmarkLimits)
	if err != nil || el.Name.Space != stanza.NSLegacyBookmarks || el.Name.Local != "storage" {
		return nil, nil, false
	}
	for _, c := range el.Elements() {
		if c.Name.Space != stanza.NSLegacyBookmarks || c.Name.Local != "conference" {
			others = append(others, c)
			continue
		}
		b := bookmark{jid: c.Attr("jid")}
		if b.jid == "" || slices.ContainsFunc(rooms, func(r bookmark) bool { return r.jid == b.jid }) {
			continue
		}
		readConference(c, &b)
		rooms = append(rooms, b)
	}
	return rooms, others, true
}

// conference is b's <conference/> in namespace ns, its jid attribute set
// for the legacy one (XEP-0402 5.3.1: "setting the jid attribute to the
// item id"), its extensions kept in the native one. autojoin is written
// only when true (its default is false in both formats).
func (b bookmark) conference(ns string) *stanza.Element {
	el := stanza.New(ns, "conference")
	if ns == stanza.NSLegacyBookmarks {
		el.SetAttr("jid", b.jid)
	}
	if b.name != "" {
		el.SetAttr("name", b.name)
	}
	if b.autojoin {
		el.SetAttr("autojoin", "true")
	}
	if b.hasNick {
		el.AddChild(stanza.New(ns, "nick").AddText(b.nick))
	}
	if b.hasPassword {
		el.AddChild(stanza.New(ns, "password").AddText(b.password))
	}
	if ns == stanza.NSBookmarks && b.extensions != nil {
		el.AddChild(b.extensions.Copy())
	}
	return el
}

// legacyStorage is the XEP-0048 <storage/> of rooms, followed by others,
// serialised.
func legacyStorage(rooms []bookmark, others []*stanza.Element) string {
	st := stanza.New(stanza.NSLegacyBookmarks, "storage")
	for _, b := range rooms {
		st.AddChild(b.conference(stanza.NSLegacyBookmarks))
	}
	for _, o := range others {
		st.AddChild(o.Copy())
	}
	return st.String()
}
