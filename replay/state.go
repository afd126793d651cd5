package replay

import (
	"fmt"
	"slices"
	"time"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
)

// State is one account's views at one moment of the log, as the server
// held them: the roster (RFC 6121 2.1), the unanswered inbound
// subscription requests (3.1.3), the pre-approvals (3.4) and the
// connected resources with their presence (4) and sessions.
type State struct {
	JID string `json:"jid"`
	// Position and Recorded are those of the last event of the account
	// folded in (0 and zero when the log held none yet).
	Position uint64    `json:"position"`
	Recorded time.Time `json:"recorded"`
	// Exists is false before account.created and after account.deleted.
	Exists        bool       `json:"exists"`
	RosterVersion uint64     `json:"roster_version"`
	Roster        []Item     `json:"roster"`
	Pending       []Request  `json:"pending"`
	Preapproved   []string   `json:"preapproved"`
	Resources     []Resource `json:"resources"`
	Offline       int        `json:"offline_queued"`
	// Blocked is the XEP-0191 block list, in the order blocked.
	Blocked []string `json:"blocked,omitempty"`
	// VCard is the user's vCard XML (XEP-0054) as of the cutoff.
	VCard string `json:"vcard,omitempty"`
	// PEP is the account's XEP-0163 nodes with their configuration and
	// items, by node name.
	PEP []projections.PEPNode `json:"pep,omitempty"`
}

// Item is a roster item as a client sees it (RFC 6121 2.1.2), with the
// Appendix A state it comes from.
type Item struct {
	JID          string   `json:"jid"`
	Name         string   `json:"name"`
	Groups       []string `json:"groups"`
	Subscription string   `json:"subscription"` // none, to, from, both
	Ask          bool     `json:"ask"`          // ask='subscribe' (Pending Out)
	Approved     bool     `json:"approved"`     // pre-approved (3.4)
	State        string   `json:"state"`        // as Appendix A spells it
}

// Request is an inbound subscription request the user has not answered
// (state "... + Pending In", RFC 6121 3.1.3).
type Request struct {
	From string `json:"from"`
	// Since is when the request arrived (the inbound_subscribe event).
	Since  time.Time `json:"since"`
	Stanza string    `json:"stanza"`
}

// Resource is one connected resource: its session and, once it has sent
// initial presence, its broadcast presence (RFC 6121 4.2, 4.4) and the
// entities it sent directed presence to (4.6).
type Resource struct {
	Name       string    `json:"resource"`
	Available  bool      `json:"available"`
	Show       string    `json:"show"`
	Status     string    `json:"status"`
	Priority   int       `json:"priority"`
	SessionID  string    `json:"session"`
	ClientAddr string    `json:"addr"`
	Node       string    `json:"node"`
	Since      time.Time `json:"since"` // session start
	// Suspended is when the session lost its connection while resumable
	// (XEP-0198): still available, waiting to be resumed. Nil otherwise.
	Suspended *time.Time `json:"suspended,omitempty"`
	Directed  []string   `json:"directed"`
}

// folder folds one account's history into projections.Views, the
// server's own views, and reads State back from them.
type folder struct {
	bare  string
	views *projections.Views
	// contacts holds every contact that may have a record outside the
	// roster (a pre-approval), since the domain keeps its contact map to
	// itself; pendingSince the arrival of each request.
	contacts     map[string]struct{}
	pendingSince map[string]time.Time
	last         events.Envelope
	read         uint64
}

func newFolder(bare string, keys events.KeyLookup) *folder {
	v := projections.NewViews(domain.DefaultPolicy())
	v.OpenWith(keys)
	return &folder{
		bare:         bare,
		views:        v,
		contacts:     map[string]struct{}{},
		pendingSince: map[string]time.Time{},
	}
}

// apply folds one event of the account, in position order.
func (f *folder) apply(e *events.Envelope) error {
	if err := f.views.Apply(e); err != nil {
		return fmt.Errorf("replay: fold the history of %s: %w", f.bare, err)
	}
	f.read++
	f.last = *e
	if e.Stream != events.AccountStream(f.bare) {
		return nil
	}
	switch e.Type {
	case events.TypeSubscriptionChanged, events.TypePreapprovalSet:
	default:
		return nil
	}
	p, err := events.Decode(e)
	if err != nil {
		return fmt.Errorf("replay: fold the history of %s: %w", f.bare, err)
	}
	switch p := p.(type) {
	case events.SubscriptionChanged:
		f.contacts[p.Contact] = struct{}{}
		if p.Cause == events.InSubscribe && domain.PendingIn(p.After) {
			f.pendingSince[p.Contact] = e.Recorded
		}
	case events.PreapprovalSet:
		f.contacts[p.Contact] = struct{}{}
	}
	return nil
}

// state reads the account's views as they are now.
func (f *folder) state() State {
	s := State{JID: f.bare, Position: f.last.Position, Recorded: f.last.Recorded.UTC(),
		Roster: []Item{}, Pending: []Request{}, Preapproved: []string{}, Resources: []Resource{}}
	if a, ok := f.views.Accounts.Get(f.bare); ok {
		s.Exists = a.Exists
	}
	sessions := map[string]projections.Session{}
	for _, x := range f.views.Sessions(f.bare) {
		sessions[x.Resource] = x
	}
	s.Offline = len(f.views.Offline(f.bare))
	s.VCard, _ = f.views.VCard(f.bare)
	if gone := f.views.VCardGone(f.bare); gone != "" {
		s.VCard = goneWords(gone)
	}
	f.views.WithAccount(f.bare, func(a *domain.Account, p *domain.PresenceView) {
		s.RosterVersion = a.Version
		s.Blocked = nonNil(a.BlockList())
		s.PEP = projections.PEPNodesOf(a)
		for _, c := range a.Roster() {
			it := c.Item()
			s.Roster = append(s.Roster, Item{JID: it.JID, Name: it.Name, Groups: nonNil(it.Groups),
				Subscription: it.Subscription, Ask: it.Ask, Approved: it.Approved, State: string(c.Subscription)})
		}
		for _, c := range a.PendingRequests() {
			s.Pending = append(s.Pending, Request{From: c.JID, Since: f.pendingSince[c.JID].UTC(), Stanza: c.PendingStanza})
		}
		for c := range f.contacts {
			if a.Contact(c).Approved {
				s.Preapproved = append(s.Preapproved, c)
			}
		}
		for _, r := range p.Connected() {
			x := sessions[r.Name]
			s.Resources = append(s.Resources, Resource{Name: r.Name, Available: r.Available, Show: r.Show,
				Status: r.Status, Priority: r.Priority, SessionID: x.SessionID, ClientAddr: x.ClientAddr,
				Node: x.Node, Since: x.Started.UTC(), Suspended: utcPtr(x.Suspended), Directed: nonNil(r.Directed)})
		}
	})
	slices.Sort(s.Preapproved)
	return s
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
