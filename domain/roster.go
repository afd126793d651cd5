package domain

import (
	"slices"

	"mellium.im/xmpp/jid"

	"xmppd/events"
)

// RosterGet is a roster get (RFC 6121 2.1.3) from a resource.
type RosterGet struct {
	From jid.JID // the requesting resource, stamped by the server
	To   jid.JID // the 'to' address; zero if absent
	// Ver is the client's cached roster version (2.6.2); HasVer is false
	// when the client sent no 'ver' attribute.
	Ver    string
	HasVer bool
}

// RosterResult answers a roster get.
type RosterResult struct {
	// Unchanged: answer with an empty IQ result (2.6.3), then send Pushes,
	// the interim roster pushes, in order (none if the client's cached
	// roster is current). Otherwise answer with Items in a <query/>
	// carrying Ver.
	Unchanged bool
	Pushes    []RosterPush
	Items     []RosterItem
	Ver       string
}

// PlanRosterGet says, before any item is built, whether the answer to a
// roster get is the complete roster at version ver (full): a get without
// 'ver' (2.1.3). A versioned get (2.6.3) is not full here: DecideRosterGet
// decides between the interim pushes and the whole roster. The complete
// roster at one version is always the same, so the core may answer a
// full get from what it rendered for that version before.
func PlanRosterGet(a *Account, cmd RosterGet) (full bool, ver string, err error) {
	if err := authorise(a, "roster get", cmd.From, cmd.To); err != nil {
		return false, "", err
	}
	return !cmd.HasVer, a.Ver(), nil
}

// DecideRosterGet answers a roster get (RFC 6121 2.1.3, 2.1.4) with roster
// versioning (2.6.3). A client that sent a 'ver' this roster has had gets
// an empty result and the interim pushes for what changed since, unless
// the full roster is smaller ("unless returning the complete roster would
// (1) use less bandwidth than sending individual roster pushes"); a client
// with no 'ver', ver=” or a version the server "cannot associate ... with
// any previous version" gets the full roster.
func DecideRosterGet(a *Account, cmd RosterGet) (RosterResult, error) {
	const op = "roster get"
	if err := authorise(a, op, cmd.From, cmd.To); err != nil {
		return RosterResult{}, err
	}
	inRoster := func(c *Contact) bool { return c.InRoster }
	if cmd.HasVer {
		n := 0
		a.eachContact(inRoster, func(*Contact, jid.JID) { n++ })
		if pushes, ok := a.changesSince(cmd.Ver); ok && (len(pushes) == 0 || len(pushes) < n) {
			return RosterResult{Unchanged: true, Pushes: pushes, Ver: a.Ver()}, nil
		}
	}
	res := RosterResult{Ver: a.Ver(), Items: make([]RosterItem, 0, len(a.order))}
	a.eachContact(inRoster, func(c *Contact, _ jid.JID) { res.Items = append(res.Items, c.Item()) })
	return res, nil
}

// RosterSet is a roster set (RFC 6121 2.1.5) as parsed by the adapter,
// unvalidated: the rules of 2.1.5 and 2.3.3 are checked here.
type RosterSet struct {
	From  jid.JID // the requesting resource, stamped by the server
	To    jid.JID // the 'to' address; zero if absent
	Items []RosterSetItem
}

// RosterSetItem is one <item/> of a roster set, attributes as received.
type RosterSetItem struct {
	JID          string
	Name         string
	Subscription string // only "remove" means anything (2.1.2.5)
	Ask          string // ignored (2.1.2.2: "A client MUST NOT include")
	Approved     string // ignored (2.1.2.1: "A client MUST NOT include")
	Groups       []string
}

// DecideRosterSet decides a roster set: adding or updating an item (2.3,
// 2.4) or, with subscription='remove', deleting it (2.5). On success the
// adapter returns an IQ result to the sender, and carries out the effects.
func DecideRosterSet(a *Account, cmd RosterSet) (Decision, error) {
	const op = "roster set"
	if err := authorise(a, op, cmd.From, cmd.To); err != nil {
		return Decision{}, err
	}
	// 2.1.5 rule 1: "The <query/> element MUST contain one and only one
	// <item/> element" (2.3.3: bad-request).
	if len(cmd.Items) != 1 {
		return Decision{}, newError(op, BadRequest, "a roster set holds exactly one item")
	}
	it := cmd.Items[0]
	contact, err := itemJID(a, op, it.JID)
	if err != nil {
		return Decision{}, err
	}
	// 2.1.5 rule 2: "The server MUST ignore any value of the
	// 'subscription' attribute other than 'remove'".
	if it.Subscription == "remove" {
		return decideRosterRemove(a, contact)
	}
	if len(it.Name) > a.Policy.MaxNameLength {
		return Decision{}, newError(op, NotAcceptable, "the name is longer than the server allows")
	}
	seen := map[string]bool{}
	for _, g := range it.Groups {
		switch {
		case g == "":
			return Decision{}, newError(op, NotAcceptable, "empty group; to remove the item from all groups send no <group/>")
		case len(g) > a.Policy.MaxGroupLength:
			return Decision{}, newError(op, NotAcceptable, "a group name is longer than the server allows")
		case seen[groupKey(g)]:
			// 2.3.3: duplicate groups are a bad-request (not not-acceptable).
			return Decision{}, newError(op, BadRequest, "duplicate group "+g)
		}
		seen[groupKey(g)] = true
	}
	if err := checkGroupCount(a, op, it.Groups); err != nil {
		return Decision{}, err
	}
	if err := checkRosterRoom(a, op, contact); err != nil {
		return Decision{}, err
	}
	var groups []string
	if len(it.Groups) > 0 {
		groups = append(groups, it.Groups...)
	}
	// 2.4.1: "the item MUST be updated exactly as provided"; a set that
	// changes nothing is answered with a result and records nothing.
	cur := a.Contact(contact)
	if cur.InRoster && cur.Name == it.Name && slices.Equal(cur.Groups, groups) {
		return Decision{}, nil
	}
	d := Decision{Events: []events.Payload{events.RosterItemSet{Contact: contact, Name: it.Name, Groups: groups}}}
	d.add(a.pushes(contact, d.Events)...)
	return d, nil
}

// decideRosterRemove is 2.5: delete the item and send the contact the
// "unsubscribe" and "unsubscribed" that end both directions of the
// subscription (2.5.2), each recorded as its Appendix A transition.
// xmppd also withdraws a pending outbound request (unsubscribe) and
// declines a pending inbound one (unsubscribed), so that the contact's
// server is not left holding a request the user can no longer see.
func decideRosterRemove(a *Account, contact string) (Decision, error) {
	c := a.Contact(contact)
	if !c.InRoster {
		// 2.5.3: "the server MUST return an <item-not-found/> stanza error"
		// (the user's own roster: nothing is hidden from the user).
		return Decision{}, newError("roster remove", ItemNotFound, "no such item")
	}
	var d Decision
	peer, user := mustBare(contact), a.JID
	s := c.Subscription
	if HasTo(s) || Ask(s) {
		t := Subscription(s, events.OutUnsubscribe)
		d.Events = append(d.Events, changed(contact, events.OutUnsubscribe, t, ""))
		d.add(SendPresence{From: user, To: peer, Type: "unsubscribe"})
		s = t.After
	}
	if HasFrom(s) || PendingIn(s) {
		if HasFrom(s) {
			// 3.2.2: unavailable presence goes "while the user is still
			// subscribed", before the "unsubscribed".
			d.add(SendUnavailableTo{Contact: peer})
		}
		t := Subscription(s, events.OutUnsubscribed)
		d.Events = append(d.Events, changed(contact, events.OutUnsubscribed, t, ""))
		d.add(SendPresence{From: user, To: peer, Type: "unsubscribed"})
	}
	if c.Approved {
		d.Events = append(d.Events, events.PreapprovalCleared{Contact: contact, Reason: "item removed"})
	}
	d.Events = append(d.Events, events.RosterItemRemoved{Contact: contact})
	d.add(a.pushes(contact, d.Events)...)
	return d, nil
}

// authorise checks that a roster request comes from the account itself
// (2.1.5 Security Warning: "the entity that processes a roster set MUST
// verify that the sender of the roster set is authorized to update the
// roster, and if not return a <forbidden/> error").
func authorise(a *Account, op string, from, to jid.JID) error {
	if !from.Bare().Equal(a.JID) || (to.String() != "" && !to.Bare().Equal(a.JID)) {
		return newError(op, Forbidden, "only the account itself may read or change its roster")
	}
	if !a.Exists {
		// 2.1.4: "If the roster does not exist, then the server MUST return
		// a stanza error with a condition of <item-not-found/>."
		return newError(op, ItemNotFound, "no roster")
	}
	return nil
}

// itemJID validates an item's 'jid' attribute (2.1.2.3: REQUIRED) and
// returns its canonical form.
func itemJID(a *Account, op, raw string) (string, error) {
	if raw == "" {
		return "", newError(op, BadRequest, "the item has no jid")
	}
	j, err := jid.Parse(raw)
	if err != nil {
		return "", &Error{Op: op, Kind: JIDMalformed, Reason: "invalid item jid", Err: err}
	}
	if j.Resourcepart() != "" {
		// Subscriptions, and so roster items, are between bare JIDs
		// (3.1.1: "the value of the 'to' attribute MUST be a bare JID").
		return "", newError(op, BadRequest, "a roster item's jid has no resourcepart")
	}
	if j.Equal(a.JID) {
		// 2.3.3 Interoperability Note: "Some servers return a <not-allowed/>
		// stanza error ... if the value of the <item/> element's 'jid'
		// attribute matches the bare JID" of the account. xmppd is one: the
		// account is implicitly subscribed to its own presence (4.2.2).
		return "", newError(op, NotAllowed, "the account cannot be its own contact")
	}
	return j.String(), nil
}

// groupKey is the form in which two group names are compared for
// duplicates: 2.3.3 suggests "the comparison method described for XMPP
// resourceparts", so the name is prepared as a resourcepart (RFC 7622
// 3.4, the OpaqueString profile) by the jid package. A name that is not a
// valid resourcepart is compared as is.
func groupKey(g string) string {
	if j, err := jid.New("", "group.invalid", g); err == nil {
		return j.Resourcepart()
	}
	return g
}

// changed is the event of an Appendix A input, a transition or an ignored
// input, for the audit trail (DESIGN.md: "Inputs that change nothing per
// Appendix A are not transitions, but are still worth an audit event").
func changed(contact string, in events.SubscriptionInput, t Transition, stanza string) events.Payload {
	if !t.Changed {
		return events.SubscriptionIgnored{Contact: contact, Cause: in, State: t.Before}
	}
	return events.SubscriptionChanged{Contact: contact, Cause: in, Before: t.Before, After: t.After, Stanza: stanza}
}

// mustBare parses a canonical bare JID the account itself stored.
func mustBare(s string) jid.JID {
	j, err := jid.Parse(s)
	if err != nil {
		return jid.JID{}
	}
	return j
}
