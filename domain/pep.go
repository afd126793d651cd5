package domain

import (
	"slices"

	"xmppd/events"
)

// XEP-0163 Personal Eventing Protocol: every account is a virtual
// pubsub service (section 1) whose nodes and items are folded from
// pep.* events in the account's stream. This file holds the state; the
// rules that decide a publish, retract, delete or configure are in
// pep_decide.go.

// The access models xmppd supports (XEP-0060 section 4.5; XEP-0163
// section 4.2 makes "presence" the default).
const (
	AccessPresence  = "presence"
	AccessOpen      = "open"
	AccessWhitelist = "whitelist"
)

// Defaults of the PEP quotas (PEPLimits). XEP-0163 and XEP-0060 give no
// number: they bound one account's share of the log. 256 nodes leave
// room for the few dozen a busy client uses (avatars, nick, OMEMO lists
// and a bundle per device, bookmarks, XEP-0223 private data); 1000 items
// is the most any one node keeps, and what "max" means for
// pubsub#max_items (XEP-0060 16.4.3).
const (
	DefaultPEPMaxNodes    = 256
	DefaultPEPMaxItems    = 1000
	DefaultPEPNodeItems   = 1 // pubsub#max_items of an auto-created node
	DefaultPEPAccessModel = AccessPresence
)

// PEPLimits are the operator's PEP quotas; a zero field takes its
// default.
type PEPLimits struct {
	// MaxItemBytes bounds one item's payload, serialised
	// (DefaultMaxStoredXML by default).
	MaxItemBytes int
	// MaxItems caps pubsub#max_items ("max" is this number).
	MaxItems int
	// MaxNodes bounds how many nodes one account holds.
	MaxNodes int
}

func (l PEPLimits) withDefaults() PEPLimits {
	if l.MaxItemBytes <= 0 {
		l.MaxItemBytes = DefaultMaxStoredXML
	}
	if l.MaxItems <= 0 {
		l.MaxItems = DefaultPEPMaxItems
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = DefaultPEPMaxNodes
	}
	return l
}

// PEPConfig is a node's configuration, as far as xmppd honours it
// (XEP-0060 16.4.3 field names in comments).
type PEPConfig struct {
	AccessModel  string // pubsub#access_model
	PersistItems bool   // pubsub#persist_items
	MaxItems     int    // pubsub#max_items
}

// PEPItem is one published item: its id and payload XML.
type PEPItem struct {
	ID  string `json:"id"`
	XML string `json:"xml"`
}

// PEPNode is one node with its items, oldest first.
type PEPNode struct {
	Name   string
	Config PEPConfig
	Items  []PEPItem
}

// Last returns the node's last published item (XEP-0060 6.1.7).
func (n *PEPNode) Last() (PEPItem, bool) {
	if len(n.Items) == 0 {
		return PEPItem{}, false
	}
	return n.Items[len(n.Items)-1], true
}

func (n *PEPNode) clone() PEPNode {
	out := *n
	out.Items = slices.Clone(n.Items)
	return out
}

// trim keeps the newest items the configuration allows. A node that does
// not persist items still keeps its last one: it is what XEP-0163
// section 4.3.2 sends to a contact coming online.
func (n *PEPNode) trim() {
	keep := n.Config.MaxItems
	if !n.Config.PersistItems || keep < 1 {
		keep = 1
	}
	if over := len(n.Items) - keep; over > 0 {
		n.Items = slices.Delete(n.Items, 0, over)
	}
}

// PEPNode returns a copy of the node called name.
func (a *Account) PEPNode(name string) (PEPNode, bool) {
	n, ok := a.pep[name]
	if !ok {
		return PEPNode{}, false
	}
	return n.clone(), true
}

// PEPNodes returns copies of every node, sorted by name.
func (a *Account) PEPNodes() []PEPNode {
	out := make([]PEPNode, 0, len(a.pep))
	for _, n := range a.pep {
		out = append(out, n.clone())
	}
	slices.SortFunc(out, func(x, y PEPNode) int {
		switch {
		case x.Name < y.Name:
			return -1
		case x.Name > y.Name:
			return 1
		}
		return 0
	})
	return out
}

// applyPEP folds a PEP event; it reports whether p was one.
func (a *Account) applyPEP(p events.Payload) bool {
	switch e := p.(type) {
	case events.PEPNodeConfigured:
		if a.pep == nil {
			a.pep = map[string]*PEPNode{}
		}
		n, ok := a.pep[e.Node]
		if !ok {
			n = &PEPNode{Name: e.Node}
			a.pep[e.Node] = n
		}
		n.Config = PEPConfig{AccessModel: e.AccessModel, PersistItems: e.PersistItems, MaxItems: e.MaxItems}
		n.trim()
	case events.PEPPublished:
		n, ok := a.pep[e.Node]
		if !ok {
			// Not written by xmppd (it configures a node before its first
			// item); kept with the defaults so replay shows what the log says.
			if a.pep == nil {
				a.pep = map[string]*PEPNode{}
			}
			n = &PEPNode{Name: e.Node, Config: PEPConfig{AccessModel: DefaultPEPAccessModel, PersistItems: true, MaxItems: DefaultPEPNodeItems}}
			a.pep[e.Node] = n
		}
		// XEP-0060 7.1.2: an item with the id of an existing one
		// replaces it, and becomes the newest.
		n.Items = slices.DeleteFunc(n.Items, func(it PEPItem) bool { return it.ID == e.ID })
		if events.GoneOf(e) != "" {
			// Its key was destroyed (issue 13): the item is served as if
			// it did not exist, and the one it replaced is gone too.
			break
		}
		n.Items = append(n.Items, PEPItem{ID: e.ID, XML: e.XML})
		n.trim()
	case events.PEPRetracted:
		if n, ok := a.pep[e.Node]; ok {
			n.Items = slices.DeleteFunc(n.Items, func(it PEPItem) bool { return it.ID == e.ID })
		}
	case events.PEPNodeDeleted:
		delete(a.pep, e.Node)
	case events.AccountDeleted:
		a.pep = nil
		return false // the roster rules fold it too
	default:
		return false
	}
	return true
}

// PEPMayRead reports whether requester (a bare JID) may read the node's
// items and receive its notifications under its access model (XEP-0060
// 4.5): the owner always; under "presence" a contact with a subscription
// from the owner ("from" or "both", XEP-0163 section 4.2); under "open"
// anyone; under "whitelist" nobody else (xmppd keeps no whitelist but the
// owner, which is what XEP-0402 and XEP-0223 ask for).
func (a *Account) PEPMayRead(requester string, n *PEPNode) bool {
	if requester == a.JID.String() {
		return true
	}
	switch n.Config.AccessModel {
	case AccessOpen:
		return true
	case AccessPresence:
		return HasFrom(a.Contact(requester).Subscription)
	}
	return false
}

// pepReadError is the refusal of a read of n by requester, under the
// node's access model (XEP-0060 6.5.9.4 presence, 6.5.9.6 whitelist).
func pepReadError(op string, n *PEPNode) *Error {
	if n.Config.AccessModel == AccessPresence {
		return &Error{Op: op, Kind: NotAuthorized, App: "presence-subscription-required", Reason: "the node is for contacts with a presence subscription"}
	}
	return &Error{Op: op, Kind: NotAllowed, App: "closed-node", Reason: "the node is for its owner only"}
}

// PEPItems returns the items of node that requester may read (XEP-0060
// 6.5): all of them, oldest first, the max newest (6.5.7) when max > 0,
// or those named in ids (6.5.8). A node that does not exist is
// item-not-found (6.5.9.11); an account that does not exist is
// service-unavailable (RFC 6121 8.5.1).
func (a *Account) PEPItems(requester, node string, max int, ids []string) ([]PEPItem, error) {
	const op = "pep items"
	if !a.Exists {
		return nil, newError(op, ServiceUnavailable, "no such account")
	}
	n, ok := a.pep[node]
	if !ok {
		return nil, newError(op, ItemNotFound, "no such node")
	}
	if !a.PEPMayRead(requester, n) {
		return nil, pepReadError(op, n)
	}
	items := slices.Clone(n.Items)
	if len(ids) > 0 {
		items = slices.DeleteFunc(items, func(it PEPItem) bool { return !slices.Contains(ids, it.ID) })
	}
	if max > 0 && len(items) > max {
		items = items[len(items)-max:]
	}
	return items, nil
}

// PEPVisible returns the nodes requester may read, sorted by name: what
// disco#items lists (XEP-0163 section 4.1 and XEP-0060 5.2), and whose
// last items are sent to a contact coming online (4.3.2).
func (a *Account) PEPVisible(requester string) []PEPNode {
	out := a.PEPNodes()
	return slices.DeleteFunc(out, func(n PEPNode) bool { return !a.PEPMayRead(requester, &n) })
}
