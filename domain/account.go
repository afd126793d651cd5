package domain

import (
	"slices"
	"strconv"

	"mellium.im/xmpp/jid"

	"xmppd/events"
)

// Policy is the server configuration the account rules read. It is not
// part of the account's state: the caller passes the same policy to
// NewAccount every time.
type Policy struct {
	// MaxNameLength and MaxGroupLength are the "server-configured limit"s
	// of RFC 6121 2.3.3 on a roster item's handle and group names, in
	// bytes of UTF-8.
	MaxNameLength  int
	MaxGroupLength int
	// MaxRosterItems bounds how many items one roster may hold, and
	// MaxGroupsPerItem how many groups one item may name; zero means no
	// limit. RFC 6121 sets no such number: they are the operator's
	// quota, so that one account cannot fill the log (see limits.go).
	MaxRosterItems   int
	MaxGroupsPerItem int
	// Preapproval enables subscription pre-approval (RFC 6121 3.4); the
	// server then advertises <sub xmlns='urn:xmpp:features:pre-approval'/>.
	Preapproval bool
}

// DefaultPolicy is the policy xmppd runs with when not configured.
func DefaultPolicy() Policy {
	return Policy{MaxNameLength: 1023, MaxGroupLength: 1023, Preapproval: true,
		MaxRosterItems: DefaultMaxRosterItems, MaxGroupsPerItem: DefaultMaxGroupsPerItem}
}

// Contact is what the account knows about one other entity: its roster
// item if the user has one (InRoster), and the subscription state, which
// can exist without an item ("None + Pending In" for a request the user
// has not answered: A.1 #3 forbids creating the item before approval).
type Contact struct {
	JID          string // bare JID, canonical
	InRoster     bool
	Name         string
	Groups       []string
	Subscription events.SubscriptionState
	// Approved is a subscription pre-approval (RFC 6121 3.4).
	Approved bool
	// PendingStanza is the full XML of the unanswered inbound subscription
	// request while the state has "Pending In" (RFC 6121 3.1.3 #4: "keep a
	// record of the complete presence stanza").
	PendingStanza string
	// Modified is the roster version of the item's last change, for
	// interim roster pushes (2.6.3).
	Modified uint64
}

// Item returns the contact as a roster item.
func (c Contact) Item() RosterItem {
	return RosterItem{JID: c.JID, Name: c.Name, Groups: slices.Clone(c.Groups),
		Subscription: SubscriptionAttr(c.Subscription), Ask: Ask(c.Subscription), Approved: c.Approved}
}

// RosterItem is a roster item as a client sees it (RFC 6121 2.1.2), for
// roster results and pushes.
type RosterItem struct {
	JID    string
	Name   string
	Groups []string
	// Subscription is "none", "to", "from", "both", or "remove" in the push
	// of a deleted item (2.1.2.5, 2.5.2).
	Subscription string
	Ask          bool // ask='subscribe'
	Approved     bool // approved='true'
}

// sameItem reports whether a and b give the same roster item (Item),
// without building either: change asks it of every event a rebuild folds.
func sameItem(a, b *Contact) bool {
	return a.JID == b.JID && a.Name == b.Name && slices.Equal(a.Groups, b.Groups) &&
		SubscriptionAttr(a.Subscription) == SubscriptionAttr(b.Subscription) &&
		Ask(a.Subscription) == Ask(b.Subscription) && a.Approved == b.Approved
}

// Account is the aggregate of one account's stream: whether it exists,
// its contacts and roster, and the roster version (RFC 6121 2.6). It is
// changed only by Apply; decisions read it.
type Account struct {
	JID    jid.JID // bare
	Policy Policy
	Exists bool
	// Version increases by one with every roster modification ("any change
	// to the roster data that would result in a roster push", 2.6.3).
	Version  uint64
	contacts map[string]*Contact
	// order is the keys of contacts, sorted, and addrs their parsed JIDs:
	// kept as contacts come and go (Apply holds the views' write lock), so
	// that the many readers of one account (broadcasts, roster gets, under
	// a read lock each) neither sort nor parse.
	order []string
	addrs map[string]jid.JID
	// removed holds the roster version at which each item now gone was
	// removed, and reset the version at which the account was deleted:
	// together with Contact.Modified they say what changed since any
	// version (2.6.3).
	removed map[string]uint64
	reset   uint64
	// blocked is the XEP-0191 block list, in the order blocked.
	blocked []string
	// pep is the account's XEP-0163 service: its nodes by name (pep.go).
	pep map[string]*PEPNode
	// avatar is the XEP-0153/XEP-0398 avatar, folded from the vCard and
	// the XEP-0084 nodes (avatar.go).
	avatar avatar
}

// NewAccount returns the empty state of the account bare, before any
// event; fold its stream in with Apply.
func NewAccount(bare jid.JID, p Policy) *Account {
	return &Account{JID: bare.Bare(), Policy: p, contacts: map[string]*Contact{}, removed: map[string]uint64{}}
}

// Ver is the roster version string sent in the 'ver' attribute (2.1.1).
func (a *Account) Ver() string { return strconv.FormatUint(a.Version, 10) }

// Contact returns what the account knows of the bare JID contact; an
// unknown entity is in state "None" and not in the roster (A.1).
func (a *Account) Contact(contact string) Contact {
	if c, ok := a.contacts[contact]; ok {
		out := *c
		out.Groups = slices.Clone(c.Groups)
		return out
	}
	return Contact{JID: contact, Subscription: events.StateNone}
}

// Roster returns the roster items, sorted by JID.
func (a *Account) Roster() []Contact {
	return a.contactsWhere(func(c Contact) bool { return c.InRoster })
}

// PendingRequests returns the contacts with an unanswered subscription
// request, sorted by JID: the server delivers them whenever the user
// creates an available resource (RFC 6121 3.1.3 #4).
func (a *Account) PendingRequests() []Contact {
	return a.contactsWhere(func(c Contact) bool { return PendingIn(c.Subscription) })
}

// Apply folds one event of the account's stream into a. Events of other
// types are ignored. Apply never fails: the events were decided against
// this same state, and replay must rebuild it whatever the log holds.
func (a *Account) Apply(p events.Payload) {
	if a.contacts == nil {
		a.contacts = map[string]*Contact{}
	}
	if a.removed == nil {
		a.removed = map[string]uint64{}
	}
	a.Exists = ExistsAfter(p, a.Exists)
	defer a.applyAvatar(p) // after the PEP nodes it reads are folded
	if a.applyBlocking(p) || a.applyPEP(p) {
		return
	}
	switch e := p.(type) {
	case events.AccountDeleted:
		if len(a.Roster()) > 0 {
			a.Version++
		}
		clear(a.contacts)
		clear(a.addrs)
		a.order = a.order[:0]
		clear(a.removed)
		a.reset = a.Version
	case events.RosterItemSet:
		a.change(e.Contact, func(c *Contact) {
			c.InRoster, c.Name, c.Groups = true, e.Name, slices.Clone(e.Groups)
		})
	case events.RosterItemRemoved:
		if c, ok := a.contacts[e.Contact]; ok {
			a.dropContact(e.Contact)
			if c.InRoster {
				a.Version++
				a.removed[e.Contact] = a.Version
			}
		}
	case events.SubscriptionChanged:
		a.change(e.Contact, func(c *Contact) {
			c.Subscription = e.After
			switch {
			case !PendingIn(e.After):
				c.PendingStanza = ""
			case e.Cause == events.InSubscribe:
				c.PendingStanza = e.Stanza
			}
		})
	case events.PreapprovalSet:
		a.change(e.Contact, func(c *Contact) { c.Approved = true })
	case events.PreapprovalCleared:
		a.change(e.Contact, func(c *Contact) { c.Approved = false })
	}
}

// change applies fn to the contact, creating it if needed, counts a
// roster modification if the item as a client sees it changed, and
// forgets a contact that is no longer in the roster and carries no state
// (3.3.3: "remove any record of the inbound presence subscription
// request").
func (a *Account) change(contact string, fn func(*Contact)) {
	c, ok := a.contacts[contact]
	if !ok {
		c = &Contact{JID: contact, Subscription: events.StateNone}
		a.addContact(c)
	}
	before, wasIn := *c, c.InRoster // fn replaces Groups, never edits it
	fn(c)
	if c.InRoster && (!wasIn || !sameItem(&before, c)) {
		a.Version++
		c.Modified = a.Version
		delete(a.removed, contact)
	}
	if !c.InRoster && c.Subscription == events.StateNone && !c.Approved {
		a.dropContact(contact)
	}
}

// addContact files c, which is not yet known.
func (a *Account) addContact(c *Contact) {
	if a.addrs == nil {
		a.addrs = map[string]jid.JID{}
	}
	a.contacts[c.JID] = c
	a.addrs[c.JID] = mustBare(c.JID)
	i, _ := slices.BinarySearch(a.order, c.JID)
	a.order = slices.Insert(a.order, i, c.JID)
}

// dropContact forgets the contact with key k.
func (a *Account) dropContact(k string) {
	delete(a.contacts, k)
	delete(a.addrs, k)
	if i, ok := slices.BinarySearch(a.order, k); ok {
		a.order = slices.Delete(a.order, i, i+1)
	}
}

// addr is the parsed JID of the contact with key k.
func (a *Account) addr(k string) jid.JID {
	if j, ok := a.addrs[k]; ok {
		return j
	}
	return mustBare(k)
}

// scratch returns a copy of a holding only contact, for previewing the
// effect of a decision's events without touching a.
func (a *Account) scratch(contact string) *Account {
	s := &Account{JID: a.JID, Policy: a.Policy, Exists: a.Exists, Version: a.Version, contacts: map[string]*Contact{}, removed: map[string]uint64{}}
	if _, ok := a.contacts[contact]; ok {
		cp := a.Contact(contact)
		s.addContact(&cp)
	}
	return s
}

// pushes returns the roster push that evs cause for contact, if any: the
// item as it will be, or subscription='remove' if it leaves the roster
// (RFC 6121 2.1.6, 2.5.2).
func (a *Account) pushes(contact string, evs []events.Payload) []Effect {
	s := a.scratch(contact)
	for _, e := range evs {
		s.Apply(e)
	}
	if s.Version == a.Version {
		return nil
	}
	before, after := a.Contact(contact), s.Contact(contact)
	switch {
	case after.InRoster:
		return []Effect{RosterPush{Item: after.Item(), Ver: s.Ver()}}
	case before.InRoster:
		return []Effect{RosterPush{Item: RosterItem{JID: contact, Subscription: "remove"}, Ver: s.Ver()}}
	}
	return nil
}

// ApplyEnvelope decodes a stored event of the account's stream and
// applies it, for projections and replay that read envelopes.
func (a *Account) ApplyEnvelope(e *events.Envelope) error {
	p, err := events.Decode(e)
	if err != nil {
		return err
	}
	a.Apply(p)
	return nil
}

// changesSince returns the interim roster pushes that bring a client from
// roster version ver to the current one, one per item changed or removed
// since, in order of modification (2.6.3: "one roster push to the client
// for each roster item that has been modified since the version ID"), or
// ok=false if ver is not a version of this roster.
func (a *Account) changesSince(ver string) (pushes []RosterPush, ok bool) {
	n, err := strconv.ParseUint(ver, 10, 64)
	if err != nil || n > a.Version || n < a.reset {
		return nil, false
	}
	type change struct {
		at   uint64
		push RosterPush
	}
	var cs []change
	for _, c := range a.Roster() {
		if c.Modified > n {
			cs = append(cs, change{c.Modified, RosterPush{Item: c.Item(), Ver: strconv.FormatUint(c.Modified, 10)}})
		}
	}
	for k, at := range a.removed {
		if at > n {
			cs = append(cs, change{at, RosterPush{Item: RosterItem{JID: k, Subscription: "remove"}, Ver: strconv.FormatUint(at, 10)}})
		}
	}
	slices.SortFunc(cs, func(x, y change) int { return compareUint(x.at, y.at) })
	for _, c := range cs {
		pushes = append(pushes, c.push)
	}
	return pushes, true
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
