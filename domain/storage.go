package domain

import (
	"fmt"
	"strings"

	"xmppd/events"
)

// DefaultMaxStoredXML bounds one stored vCard or private XML element
// (serialised), when the operator sets no other bound.
const DefaultMaxStoredXML = 64 << 10

// DecideVCardSet records the vCard a user publishes for their own
// account (XEP-0054 section 3.2: only the user sets it). xml is the
// serialised <vCard/>; a vCard over max bytes is a policy violation.
func DecideVCardSet(a *Account, requester, xml string, max int) (Decision, error) {
	const op = "vcard set"
	if err := ownStorage(a, requester, op); err != nil {
		return Decision{}, err
	}
	if len(xml) > max {
		return Decision{}, &Error{Op: op, Kind: PolicyViolation, Reason: fmt.Sprintf("the vCard is over %d bytes", max)}
	}
	return Decision{Events: []events.Payload{events.VCardSet{XML: xml}}}, nil
}

// DecidePrivateSet records an element of private XML storage (XEP-0049
// section 2) for the user only. Reserved namespaces are refused with
// not-acceptable (section 2, example 5 and table 2): those beginning with
// 'jabber:' or 'http://jabber.org/', and 'vcard-temp'. l.MaxItemBytes
// bounds the element, as it does a PEP item (both are the operator's
// bound on one stored element).
//
// XEP-0048 bookmarks (<storage xmlns='storage:bookmarks'/>) are also
// written to the XEP-0402 and XEP-0223 bookmark nodes, whose limits l
// holds (XEP-0402 5.3.2, bookmarks_unify.go).
func DecidePrivateSet(a *Account, requester, local, space, xml string, l PEPLimits) (Decision, error) {
	const op = "private set"
	if err := ownStorage(a, requester, op); err != nil {
		return Decision{}, err
	}
	if ReservedPrivateNamespace(space) {
		return Decision{}, &Error{Op: op, Kind: NotAcceptable, Reason: "reserved namespace"}
	}
	l = l.withDefaults()
	if len(xml) > l.MaxItemBytes {
		return Decision{}, &Error{Op: op, Kind: PolicyViolation, Reason: fmt.Sprintf("the element is over %d bytes", l.MaxItemBytes)}
	}
	d := Decision{Events: []events.Payload{events.PrivateSet{Local: local, Namespace: space, XML: xml}}}
	if isLegacyBookmarksPrivate(local, space) {
		a.bookmarksFromLegacy(&d, xml, false, l)
	}
	return d, nil
}

// ReservedPrivateNamespace reports whether XEP-0049 section 2 reserves
// space (no private data may be stored or read under it).
func ReservedPrivateNamespace(space string) bool {
	return space == "" || strings.HasPrefix(space, "jabber:") || strings.HasPrefix(space, "http://jabber.org/") || space == "vcard-temp"
}

// ownStorage refuses a store into a's account by anyone but its owner
// (XEP-0049 section 2: forbidden).
func ownStorage(a *Account, requester, op string) error {
	if !a.Exists {
		return &Error{Op: op, Kind: ServiceUnavailable, Reason: "no such account"}
	}
	if requester != a.JID.String() {
		return &Error{Op: op, Kind: Forbidden, Reason: "only the account's user may store its data"}
	}
	return nil
}
