package projections

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"xmppd/domain"
	"xmppd/events"
)

// Dump writes every view as canonical JSON: the same views give the same
// bytes, whatever order accounts were created in or maps iterate in.
// Accounts are sorted by JID, contacts by JID, resources by name, sessions
// by resource; offline items keep queue order; times are UTC. Two Views
// are equal exactly when their dumps are (live views against views rebuilt
// after a restart, or `xmppd verify` against the server).
//
// Dump takes its snapshot between two events, holding Apply off while it
// copies (not while it encodes).
func (v *Views) Dump(w io.Writer) error {
	d := v.snapshot()
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	enc.SetEscapeHTML(false) // stanzas stay readable in a diff
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("projections: dump views: %w", err)
	}
	return nil
}

type dump struct {
	Position uint64        `json:"position"`
	Accounts []accountDump `json:"accounts"`
}

type accountDump struct {
	JID string `json:"jid"`
	// Account is the Accounts view's entry, if the account stream exists.
	Account *accountFacts `json:"account,omitempty"`
	// RosterExists and RosterVersion are the domain account's view.
	RosterExists  bool             `json:"roster_exists"`
	RosterVersion uint64           `json:"roster_version"`
	Contacts      []domain.Contact `json:"contacts"`
	Presence      presenceDump     `json:"presence"`
	Sessions      []Session        `json:"sessions"`
	Offline       []OfflineItem    `json:"offline"`
	// Blocked is the XEP-0191 block list, in the order blocked.
	Blocked []string `json:"blocked,omitempty"`
	// VCard and Private are what the user stored (storage.go): the vCard
	// XML and the private XML by "element namespace".
	VCard   string            `json:"vcard,omitempty"`
	Private map[string]string `json:"private,omitempty"`
	// PEP is the account's XEP-0163 nodes, by name, with their items.
	PEP []PEPNode `json:"pep,omitempty"`
}

// PEPNode is one PEP node as dumps and replay show it: its configuration
// and items, oldest first.
type PEPNode struct {
	Node         string           `json:"node"`
	AccessModel  string           `json:"access_model"`
	PersistItems bool             `json:"persist_items"`
	MaxItems     int              `json:"max_items"`
	Items        []domain.PEPItem `json:"items"`
}

// PEPNodesOf lists a's PEP nodes for a dump, nil if it has none.
func PEPNodesOf(a *domain.Account) []PEPNode {
	var out []PEPNode
	for _, n := range a.PEPNodes() {
		items := n.Items
		if items == nil {
			items = []domain.PEPItem{}
		}
		out = append(out, PEPNode{Node: n.Name, AccessModel: n.Config.AccessModel, PersistItems: n.Config.PersistItems, MaxItems: n.Config.MaxItems, Items: items})
	}
	return out
}

// accountFacts is Account without the SCRAM keys themselves: a dump may be
// shown or diffed in a terminal, and a StoredKey or ServerKey lets whoever
// reads it impersonate the server or attack the password offline. Their
// digest is enough to tell two views apart.
type accountFacts struct {
	Exists            bool      `json:"exists"`
	Created           time.Time `json:"created"`
	Version           uint64    `json:"version"`
	Mechanisms        []string  `json:"mechanisms"`
	CredentialsDigest string    `json:"credentials_sha256"`
}

type presenceDump struct {
	Resources         []domain.Resource `json:"resources"`
	LastUnavailable   string            `json:"last_unavailable,omitempty"`
	LastUnavailableAt time.Time         `json:"last_unavailable_at"`
}

// snapshot copies every view under applyMu, so that the copy is of one
// position.
func (v *Views) snapshot() dump {
	v.applyMu.Lock()
	defer v.applyMu.Unlock()
	d := dump{Position: v.pos.Load()}
	names := make(map[string]struct{}, len(v.accounts))
	for bare := range v.accounts {
		names[bare] = struct{}{}
	}
	v.Accounts.mu.RLock()
	for bare := range v.Accounts.m {
		names[bare] = struct{}{}
	}
	v.Accounts.mu.RUnlock()
	for bare := range names {
		d.Accounts = append(d.Accounts, v.dumpAccount(bare))
	}
	slices.SortFunc(d.Accounts, func(a, b accountDump) int { return cmp.Compare(a.JID, b.JID) })
	return d
}

// dumpAccount copies the views of bare. Called with applyMu held.
func (v *Views) dumpAccount(bare string) accountDump {
	d := accountDump{JID: bare, Contacts: []domain.Contact{}, Sessions: []Session{}, Offline: []OfflineItem{}}
	if a, ok := v.Accounts.Get(bare); ok {
		d.Account = factsOf(a)
	}
	s := v.accounts[bare]
	if s == nil {
		d.Presence.Resources = []domain.Resource{}
		return d
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	d.RosterExists, d.RosterVersion = s.roster.Exists, s.roster.Version
	d.Blocked = s.roster.BlockList()
	d.PEP = PEPNodesOf(s.roster)
	seen := make(map[string]bool)
	for _, x := range append(s.roster.Roster(), s.roster.PendingRequests()...) {
		if !seen[x.JID] {
			seen[x.JID] = true
			d.Contacts = append(d.Contacts, x)
		}
	}
	for c := range s.contacts {
		if x := s.roster.Contact(c); !seen[c] && (x.Subscription != events.StateNone || x.Approved) {
			seen[c] = true
			d.Contacts = append(d.Contacts, x)
		}
	}
	slices.SortFunc(d.Contacts, func(a, b domain.Contact) int { return cmp.Compare(a.JID, b.JID) })
	// An empty list is written one way, whether a fold left it nil or
	// empty.
	for i := range d.Contacts {
		d.Contacts[i].Groups = emptyAsNil(d.Contacts[i].Groups)
	}
	d.Presence.Resources = s.presence.Connected()
	for i := range d.Presence.Resources {
		d.Presence.Resources[i].Directed = emptyAsNil(d.Presence.Resources[i].Directed)
	}
	d.Presence.LastUnavailable = s.presence.LastUnavailable
	d.Presence.LastUnavailableAt = s.presence.LastUnavailableAt.UTC()
	d.Sessions = s.sessionList()
	for i := range d.Sessions {
		d.Sessions[i].Started = d.Sessions[i].Started.UTC()
	}
	for _, o := range s.offline {
		o.Recorded = o.Recorded.UTC()
		d.Offline = append(d.Offline, o)
	}
	d.VCard = s.storage.vcard
	if len(s.storage.private) > 0 {
		d.Private = maps.Clone(s.storage.private)
	}
	return d
}

func factsOf(a Account) *accountFacts {
	f := &accountFacts{Exists: a.Exists, Created: a.Created.UTC(), Version: a.StreamVersion, Mechanisms: []string{}}
	h := sha256.New()
	for _, k := range a.Credentials.Scram {
		f.Mechanisms = append(f.Mechanisms, k.Mechanism)
		// json.Marshal of a struct of strings, ints and byte slices
		// cannot fail.
		b, _ := json.Marshal(k)
		h.Write(b)
	}
	f.CredentialsDigest = hex.EncodeToString(h.Sum(nil))
	return f
}

func emptyAsNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
