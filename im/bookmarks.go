package im

import "xmppd/stanza"

// XEP-0402 PEP Native Bookmarks needs nothing of its own from the IQ
// handlers: the native node urn:xmpp:bookmarks:1 and XEP-0048's over
// XEP-0223 (storage:bookmarks) are PEP nodes (pep.go), and XEP-0048's in
// private storage is a jabber:iq:private element (storage.go). What ties
// them together is the domain's (domain/bookmarks_unify.go): a change to
// one form is committed with the events that rewrite the other two, and
// the notifications of all of them are sent as any PEP notification.

// bookmarksFeatures are the account's disco#info features of that
// unification (XEP-0402 section 6: "on the account"): #compat for
// XEP-0049 private storage, #compat-pep for XEP-0223.
var bookmarksFeatures = []string{stanza.NSBookmarksCompat, stanza.NSBookmarksCompatPEP}
