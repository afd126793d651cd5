package domain

import (
	"slices"

	"mellium.im/xmpp/jid"

	"xmppd/events"
)

// PresenceBroadcast is a presence stanza with no 'to' from one of the
// account's resources: available (no 'type') or unavailable (RFC 6121
// 4.2, 4.4, 4.5).
type PresenceBroadcast struct {
	Resource  string
	Available bool
	Show      string
	Status    string
	Priority  int
	Stanza    string // the full XML, broadcast whole (4.4.2, 4.5.2)
}

// DirectedPresence is a presence stanza with a 'to' and no 'type' or type
// "unavailable" from one of the account's resources (4.6.2).
type DirectedPresence struct {
	Resource  string
	To        jid.JID
	Available bool
	Stanza    string
}

// Probe is a presence probe received for the account (4.3.2), from the
// bare or full JID From, to the account's bare JID or one of its full JIDs.
type Probe struct {
	From jid.JID
	To   jid.JID
	ID   string // the probe's 'id', mirrored where 4.3.2.1 says so
	// ProberAvailableAt is, when the prober is a local account, the
	// prober's PresenceView.LatestAvailableAt read after the probe was
	// sent; 0 when it is not known (a remote prober, or no position).
	ProberAvailableAt uint64
}

// Presence decisions record events in the account's presence stream and
// read the roster (a) for who is subscribed; they never change a.

// DecideBroadcast decides broadcast presence. Available presence from a
// resource that is not yet available is initial presence (4.2.2; and
// 4.5.2's note: presence after unavailable "MUST be treated as equivalent
// to initial presence"); from an available resource it is subsequent
// presence (4.4.2); unavailable presence ends the presence session (4.5.2).
func DecideBroadcast(a *Account, v *PresenceView, cmd PresenceBroadcast) (Decision, error) {
	if cmd.Resource == "" {
		return Decision{}, newError("presence", BadRequest, "no resource")
	}
	if !cmd.Available {
		return unavailable(a, v, cmd.Resource, cmd.Stanza, true), nil
	}
	from := fullJID(a.JID, cmd.Resource)
	r, _ := v.Resource(cmd.Resource)
	initial := !r.Available
	d := Decision{Events: []events.Payload{events.PresenceAvailable{
		Resource: cmd.Resource, Show: cmd.Show, Status: cmd.Status, Priority: cmd.Priority, Stanza: cmd.Stanza}}}
	// 4.2.2 / 4.4.2: to "all contacts that are subscribed to the user's
	// presence ... with the 'subscription' attribute set to a value of
	// 'from' or 'both'".
	a.eachContact(func(c *Contact) bool { return HasFrom(c.Subscription) }, func(_ *Contact, to jid.JID) {
		if a.Blocks(to) {
			return // XEP-0191 3.3: nothing is routed to a blocked JID
		}
		d.add(SendPresence{From: from, To: to, Stanza: cmd.Stanza, Broadcast: true})
	})
	// "to all of the user's available resources, including the resource
	// that generated the presence notification".
	others := slices.DeleteFunc(v.Available(), func(o Resource) bool { return o.Name == cmd.Resource })
	for _, name := range sortedNames(append(names(others), cmd.Resource)) {
		d.add(DeliverToResource{Resource: name, From: from, Stanza: cmd.Stanza})
	}
	if !initial {
		return d, nil
	}
	// The new resource learns its other resources' presence: "an entity
	// is implicitly subscribed to its own presence" (4.2.2).
	for _, o := range others {
		d.add(DeliverToResource{Resource: cmd.Resource, From: fullJID(a.JID, o.Name), Stanza: o.Stanza})
	}
	// 4.2.2: "the user's server MUST also send presence probes to the
	// user's contacts", those the user is subscribed to (4.3.1).
	a.eachContact(func(c *Contact) bool { return HasTo(c.Subscription) }, func(_ *Contact, to jid.JID) {
		if !a.Blocks(to) { // XEP-0191 3.3
			d.add(SendProbe{Contact: to})
		}
	})
	// 3.1.3 #4: "The contact's server MUST continue to deliver the
	// subscription request whenever the contact creates an available
	// resource, until the contact either approves or denies the request."
	for _, c := range a.PendingRequests() {
		d.add(DeliverToResource{Resource: cmd.Resource, From: mustBare(c.JID), Type: "subscribe", Stanza: c.PendingStanza})
	}
	return d, nil
}

// DecideSessionEnd decides the end of a session, graceful or not. If the
// resource was available, 4.5.2 applies: "If the server detects that the
// user has gone offline ungracefully, then the server MUST generate the
// unavailable presence broadcast on the user's behalf" (Stanza is empty in
// the effects: the adapter builds <presence type='unavailable'/>).
// end is the session.ended to record: the resource, and the cause and
// stream error condition the adapter observed.
func DecideSessionEnd(a *Account, v *PresenceView, end events.SessionEnded) Decision {
	d := unavailable(a, v, end.Resource, "", false)
	d.Events = append(d.Events, end)
	return d
}

// unavailable is 4.5.2 with 4.6.3 #2: unavailable presence goes to the
// subscribers and to every entity the resource sent directed presence to
// and has not sent directed unavailable presence since. A resource that is
// neither available nor has directed presence out changes nothing.
func unavailable(a *Account, v *PresenceView, resource, stanza string, self bool) Decision {
	var d Decision
	r, ok := v.Resource(resource)
	if !ok || (!r.Available && len(r.Directed) == 0) {
		return d
	}
	from := fullJID(a.JID, resource)
	d.Events = append(d.Events, events.PresenceUnavailable{Resource: resource, Stanza: stanza})
	sent := map[string]bool{}
	if r.Available {
		a.eachContact(func(c *Contact) bool { return HasFrom(c.Subscription) }, func(c *Contact, to jid.JID) {
			sent[c.JID] = true
			if !a.Blocks(to) { // XEP-0191 3.3: it had unavailable presence at the block
				d.add(SendPresence{From: from, To: to, Type: "unavailable", Stanza: stanza})
			}
		})
	}
	for _, to := range r.Directed {
		if j, err := jid.Parse(to); err == nil && !sent[to] && !j.Bare().Equal(a.JID) {
			sent[to] = true
			d.add(SendPresence{From: from, To: j, Type: "unavailable", Stanza: stanza})
		}
	}
	if r.Available {
		for _, o := range v.Available() {
			if o.Name != resource || self {
				d.add(DeliverToResource{Resource: o.Name, From: from, Type: "unavailable", Stanza: stanza})
			}
		}
	}
	return d
}

// DecideDirected decides directed presence (4.6.3): the full XML goes to
// the entity, and is recorded so that the resource's unavailable presence
// reaches the entity too (4.6.3 #2, #3); directed unavailable presence
// takes the entity off that list (4.6.1).
func DecideDirected(a *Account, v *PresenceView, cmd DirectedPresence) (Decision, error) {
	if cmd.Resource == "" || cmd.To.Domainpart() == "" {
		return Decision{}, newError("directed presence", BadRequest, "no resource or no address")
	}
	typ := ""
	if !cmd.Available {
		typ = "unavailable"
	}
	var d Decision
	if !cmd.To.Bare().Equal(a.JID) {
		// Presence to the user's own resources needs no list: they are
		// always sent the user's broadcasts (4.2.2).
		d.Events = append(d.Events, events.DirectedPresence{Resource: cmd.Resource, To: cmd.To.String(), Available: cmd.Available, Stanza: cmd.Stanza})
	}
	d.add(SendPresence{From: fullJID(a.JID, cmd.Resource), To: cmd.To, Type: typ, Stanza: cmd.Stanza})
	return d, nil
}

// DecideProbe answers a presence probe (4.3.2, 4.6.6) without leaking
// presence: only an entity with a subscription to the user's presence
// ("From", "From + Pending Out" or "Both") or the user's own resources
// learn it; an entity that received directed presence from a resource
// learns only that resource's bare availability (4.6.6); anyone else gets
// "unsubscribed" from the bare JID, as for an account that does not exist
// (4.3.2 #1, 8.5.1), which changes no state: it "MUST NOT result in
// cancellation of a subscription pre-approval". No events are recorded.
func DecideProbe(a *Account, v *PresenceView, p Probe) Decision {
	var d Decision
	authorised := HasFrom(a.Contact(p.From.Bare().String()).Subscription) || p.From.Bare().Equal(a.JID)
	res := p.To.Resourcepart()
	switch {
	case authorised && res != "":
		// 4.3.2: for a full JID probe "the server MUST NOT return presence
		// information about any resource except the resource specified",
		// and SHOULD communicate "only the fact that the resource is
		// available".
		if r, ok := v.Resource(res); ok && r.Available {
			d.add(SendPresence{From: fullJID(a.JID, res), To: p.From})
		} else {
			d.add(SendPresence{From: fullJID(a.JID, res), To: p.From, Type: "unavailable", ID: p.ID})
		}
	case authorised:
		avail := v.Available()
		if len(avail) == 0 {
			// 4.3.2 #3: unavailable from the bare JID with the time of the
			// last unavailable presence; xmppd's policy is to give no
			// details of it ("SHOULD simply indicate that the contact is
			// unavailable").
			d.add(SendPresence{From: a.JID, To: p.From, Type: "unavailable", ID: p.ID, Delay: v.LastUnavailableAt})
		}
		// 4.3.2 #4: "the full XML of the last presence stanza with no 'to'
		// attribute ... from each of the contact's available resources".
		for _, r := range avail {
			if crossed(p, r) {
				continue
			}
			d.add(SendPresence{From: fullJID(a.JID, r.Name), To: p.From, Stanza: r.Stanza})
		}
	default:
		directed := v.SentDirectedTo(p.From)
		if res != "" {
			directed = slices.DeleteFunc(directed, func(n string) bool { return n != res })
		}
		if len(directed) == 0 {
			d.add(SendPresence{From: a.JID, To: p.From, Type: "unsubscribed", ID: p.ID})
		}
		// 4.6.6: "answer the probe with only mere presence of type
		// 'available' ... and only for that full JID".
		for _, n := range directed {
			d.add(SendPresence{From: fullJID(a.JID, n), To: p.From})
		}
	}
	return d
}

// crossed reports whether a server's probe (4.3.1: from the prober's bare
// JID) crossed the broadcast of r's current presence: the broadcast was
// recorded after every resource of the prober became available, so it was
// routed to all of them (4.2.2, 4.4.2; Route delivers a broadcast to the
// resources available before it) and the answer would be a second copy of
// the same stanza. A probe whose answer would tell some resource something
// new (one made available after the broadcast, which Route kept it from)
// is answered as 4.3.2 #4 says. A client's own probe (from a full JID)
// asked for an answer and always gets one.
func crossed(p Probe, r Resource) bool {
	if p.From.Resourcepart() != "" || p.ProberAvailableAt == 0 || r.StanzaAt == 0 {
		return false
	}
	return r.StanzaAt > p.ProberAvailableAt
}

// CurrentPresenceTo expands SendCurrentPresenceTo (3.1.5): the last
// presence of each available resource of the account user, to contact.
func (v *PresenceView) CurrentPresenceTo(user, contact jid.JID) []SendPresence {
	var out []SendPresence
	for _, r := range v.Available() {
		out = append(out, SendPresence{From: fullJID(user, r.Name), To: contact, Stanza: r.Stanza})
	}
	return out
}

// UnavailableTo expands SendUnavailableTo (3.2.2, 3.3.3 #3): unavailable
// presence from each available resource of the account user, to contact.
func (v *PresenceView) UnavailableTo(user, contact jid.JID) []SendPresence {
	var out []SendPresence
	for _, r := range v.Available() {
		out = append(out, SendPresence{From: fullJID(user, r.Name), To: contact, Type: "unavailable"})
	}
	return out
}

// contactsWhere returns the contacts satisfying keep, sorted by JID.
// It sorts the keys and copies each kept contact once, in order: sorting
// the copies themselves (a Contact is about a hundred bytes, and each copy
// clones its groups) was most of the time of a roster get and of a
// broadcast's decision with a hundred contacts (issue 11).
func (a *Account) contactsWhere(keep func(Contact) bool) []Contact {
	var out []Contact
	for _, k := range a.order {
		if c := a.contacts[k]; keep(*c) {
			if out == nil {
				out = make([]Contact, 0, len(a.order))
			}
			out = append(out, a.Contact(k))
		}
	}
	return out
}

// eachContact calls fn, in the order of their JIDs, with the contacts
// satisfying keep and their parsed JIDs, without copying them: fn must
// not keep c.
func (a *Account) eachContact(keep func(*Contact) bool, fn func(c *Contact, addr jid.JID)) {
	for _, k := range a.order {
		if c := a.contacts[k]; keep(c) {
			fn(c, a.addr(k))
		}
	}
}

func fullJID(bare jid.JID, resource string) jid.JID {
	j, err := bare.WithResource(resource)
	if err != nil {
		return bare
	}
	return j
}

func sortedNames(ns []string) []string {
	slices.Sort(ns)
	return ns
}
