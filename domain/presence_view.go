package domain

import (
	"slices"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/events"
)

// Resource is one connected resource of an account (RFC 6120 7) and, once
// it has sent initial presence, an available resource (RFC 6121 4.1).
type Resource struct {
	Name      string
	Available bool
	Priority  int
	Show      string
	Status    string
	// Stanza is the full XML of the last presence stanza with no 'to' the
	// resource sent (RFC 6121 4.3.2 #4 answers probes with it).
	Stanza string
	// AvailableAt is the log position of the event that made the resource
	// available (its initial presence, RFC 6121 4.2), and StanzaAt that of
	// the event that recorded Stanza (its last broadcast, 4.2.2 or
	// 4.4.2); 0 when the view was folded without positions. Views apply
	// events in position order, so a broadcast recorded at StanzaAt is
	// routed against a view that holds every resource made available at
	// an earlier position: probe answers (DecideProbe) and broadcast
	// routing (Route) compare the two so that a contact's resource gets a
	// presence stanza once, not once from each (4.3.2 crossing 4.2.2).
	AvailableAt uint64
	StanzaAt    uint64
	// Directed holds the addresses (full or bare JID strings) the resource
	// has sent directed available presence to during its presence session
	// (RFC 6121 4.6.1), which get its unavailable presence (4.6.3 #2).
	Directed []string
}

// PresenceView is the presence state of one account, folded from its
// presence stream: its connected and available resources and their
// directed presence. Decisions read it; only Apply changes it.
type PresenceView struct {
	resources map[string]*Resource
	// LastUnavailable and LastUnavailableAt record the account's last
	// unavailable presence, for answering probes (RFC 6121 4.3.2 #3).
	LastUnavailable   string
	LastUnavailableAt time.Time
}

// NewPresenceView returns the view of an account with no sessions.
func NewPresenceView() *PresenceView { return &PresenceView{resources: map[string]*Resource{}} }

// Apply folds one event of the account's presence stream into v. at is
// the event's recorded time (the envelope's Recorded), kept only for the
// delay stamp of probe answers. Events of other types are ignored. The
// event's log position is not known here: ApplyAt is Apply with it.
func (v *PresenceView) Apply(p events.Payload, at time.Time) { v.ApplyAt(p, at, 0) }

// ApplyAt is Apply for an event at log position pos (the envelope's
// Position; 0 if unknown), which the view keeps as Resource.AvailableAt
// and Resource.StanzaAt.
func (v *PresenceView) ApplyAt(p events.Payload, at time.Time, pos uint64) {
	if v.resources == nil {
		v.resources = map[string]*Resource{}
	}
	switch e := p.(type) {
	case events.SessionStarted:
		v.resources[e.Resource] = &Resource{Name: e.Resource}
	case events.SessionEnded:
		delete(v.resources, e.Resource)
	case events.PresenceAvailable:
		r := v.resource(e.Resource)
		if !r.Available {
			r.AvailableAt = pos
		}
		r.StanzaAt = pos
		r.Available, r.Priority, r.Show, r.Status, r.Stanza = true, e.Priority, e.Show, e.Status, e.Stanza
	case events.PresenceUnavailable:
		r := v.resource(e.Resource)
		// RFC 6121 4.6.1: the directed presence list is cleared "when the
		// user goes offline".
		*r = Resource{Name: e.Resource}
		v.LastUnavailable, v.LastUnavailableAt = e.Stanza, at
	case events.DirectedPresence:
		r := v.resource(e.Resource)
		// 4.6.1: "The server MUST remove from the directed presence list
		// ... any entity to which the user sends directed unavailable
		// presence".
		r.Directed = slices.DeleteFunc(r.Directed, func(s string) bool { return s == e.To })
		if e.Available {
			r.Directed = append(r.Directed, e.To)
		}
	}
}

func (v *PresenceView) resource(name string) *Resource {
	r, ok := v.resources[name]
	if !ok {
		r = &Resource{Name: name}
		v.resources[name] = r
	}
	return r
}

// without returns a view of v with the named resources left out; it
// shares the remaining resources with v, so it is for reading only.
func (v *PresenceView) without(names []string) *PresenceView {
	out := &PresenceView{resources: map[string]*Resource{}}
	if v == nil {
		return out
	}
	out.LastUnavailable, out.LastUnavailableAt = v.LastUnavailable, v.LastUnavailableAt
	for n, r := range v.resources {
		if !slices.Contains(names, n) {
			out.resources[n] = r
		}
	}
	return out
}

// Resource returns a copy of the named connected resource.
func (v *PresenceView) Resource(name string) (Resource, bool) {
	if v == nil {
		return Resource{}, false
	}
	r, ok := v.resources[name]
	if !ok {
		return Resource{}, false
	}
	c := *r
	c.Directed = slices.Clone(r.Directed)
	return c, true
}

// Connected returns copies of every connected resource, sorted by name.
func (v *PresenceView) Connected() []Resource {
	if v == nil {
		return nil
	}
	out := make([]Resource, 0, len(v.resources))
	for name := range v.resources {
		r, _ := v.Resource(name)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Resource) int { return compareStrings(a.Name, b.Name) })
	return out
}

// availableNames returns the names of the available resources, sorted,
// and with before > 0 only those available since a log position at or
// before it.
func (v *PresenceView) availableNames(before uint64) []string {
	if v == nil {
		return nil
	}
	var out []string
	for name, r := range v.resources {
		if r.Available && (before == 0 || r.AvailableAt <= before) {
			out = append(out, name)
		}
	}
	slices.SortFunc(out, compareStrings)
	return out
}

// Available returns copies of the available resources, sorted by name.
func (v *PresenceView) Available() []Resource {
	return slices.DeleteFunc(v.Connected(), func(r Resource) bool { return !r.Available })
}

// LatestAvailableAt returns the greatest AvailableAt of the available
// resources: every available resource became available at or before it.
// It is 0 (nothing can be assumed) when no resource is available or one
// was folded without a position.
func (v *PresenceView) LatestAvailableAt() uint64 {
	var latest uint64
	for _, r := range v.Available() {
		if r.AvailableAt == 0 {
			return 0
		}
		latest = max(latest, r.AvailableAt)
	}
	return latest
}

// SentDirectedTo returns the names of the available resources that have
// sent directed presence to addr, matched as given or by its bare JID
// (RFC 6121 4.6.6).
func (v *PresenceView) SentDirectedTo(addr jid.JID) []string {
	var names []string
	full, bare := addr.String(), addr.Bare().String()
	for _, r := range v.Available() {
		if slices.Contains(r.Directed, full) || slices.Contains(r.Directed, bare) {
			names = append(names, r.Name)
		}
	}
	return names
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ApplyEnvelope decodes a stored event of the account's presence stream
// and applies it with its recorded time.
func (v *PresenceView) ApplyEnvelope(e *events.Envelope) error {
	p, err := events.Decode(e)
	if err != nil {
		return err
	}
	v.ApplyAt(p, e.Recorded, e.Position)
	return nil
}
