package domain

import (
	"fmt"
	"strconv"

	"xmppd/events"
)

// The pubsub#node_config fields xmppd honours (XEP-0060 16.4.3), in
// publish-options (7.1.5) and node configuration (8.2).
const (
	FieldAccessModel  = "pubsub#access_model"
	FieldPersistItems = "pubsub#persist_items"
	FieldMaxItems     = "pubsub#max_items"
)

// PEPPublish is a publish request (XEP-0060 7.1) to the account's own
// service: one item, with its payload serialised, and the publish-options
// form's fields (7.1.5), nil when the request has none.
type PEPPublish struct {
	Node   string
	ItemID string // the caller makes one up when the client gave none (7.1.2)
	XML    string
	// Options are the publish-options fields by var, FORM_TYPE left out.
	Options map[string]string
}

// PEPNotify is the event notification a PEP change causes (XEP-0060
// 7.1.2.1, 7.2.2.1, 8.4.2): to the owner's resources and to the contacts
// the node's access model lets read it whose clients asked for it
// (XEP-0163 section 4.3: "NODE+notify"). Exactly one of Items, Retract
// and Deleted says what happened.
type PEPNotify struct {
	Node    string
	Access  string // the node's access model when it happened
	Items   []PEPItem
	Retract []string
	Deleted bool
}

func (PEPNotify) isEffect() {}

// pepOwner refuses a change to a's PEP service by anyone but its owner
// (XEP-0060 7.1.3.1, 7.2.3.1, 8.4.3.1: forbidden).
func pepOwner(a *Account, requester, op string) error {
	if !a.Exists {
		return newError(op, ServiceUnavailable, "no such account")
	}
	if requester != a.JID.String() {
		return newError(op, Forbidden, "only the account's user may change its PEP nodes")
	}
	return nil
}

// DecidePEPPublish publishes one item to the account's node cmd.Node,
// creating the node first if it does not exist (XEP-0163 section 4,
// XEP-0060 7.1.4 auto-create), with the publish-options applied to a new
// node and checked as preconditions against an existing one (7.1.5).
func DecidePEPPublish(a *Account, requester string, cmd PEPPublish, l PEPLimits) (Decision, error) {
	const op = "pep publish"
	l = l.withDefaults()
	if err := pepOwner(a, requester, op); err != nil {
		return Decision{}, err
	}
	switch {
	case cmd.Node == "":
		// 7.1.3.3 is about a node that does not exist; PEP auto-creates,
		// so a missing node name is the request's fault (nodeid-required).
		return Decision{}, &Error{Op: op, Kind: BadRequest, App: "nodeid-required", Reason: "publish without a node"}
	case cmd.XML == "":
		// 7.1.3.6: a PEP item carries a payload.
		return Decision{}, &Error{Op: op, Kind: BadRequest, App: "payload-required", Reason: "an item needs a payload"}
	case len(cmd.XML) > l.MaxItemBytes:
		// 7.1.3.4.
		return Decision{}, &Error{Op: op, Kind: NotAcceptable, App: "payload-too-big", Reason: fmt.Sprintf("the item is over %d bytes", l.MaxItemBytes)}
	}
	if err := checkBookmarkPayload(cmd, op); err != nil {
		return Decision{}, err
	}
	var d Decision
	n, exists := a.pep[cmd.Node]
	var cfg PEPConfig
	if exists {
		cfg = n.Config
		if cmd.Options != nil {
			// 7.1.5: "If the node exists and the precondition is not met,
			// the service MUST NOT publish the item" (conflict +
			// precondition-not-met); the client may then reconfigure.
			want, err := l.parseConfig(cfg, cmd.Options)
			if err != nil || want != cfg {
				return Decision{}, &Error{Op: op, Kind: Conflict, App: "precondition-not-met", Reason: "the node's configuration differs from the publish-options"}
			}
		}
	} else {
		if len(a.pep) >= l.MaxNodes {
			return Decision{}, &Error{Op: op, Kind: PolicyViolation, App: "max-nodes-exceeded", Reason: fmt.Sprintf("an account may have at most %d PEP nodes", l.MaxNodes)}
		}
		cfg = l.defaultNodeConfig(cmd.Node)
		if cmd.Options != nil {
			// 7.1.5: a node that does not exist is created with the
			// options as its configuration.
			var err error
			if cfg, err = l.parseConfig(cfg, cmd.Options); err != nil {
				return Decision{}, &Error{Op: op, Kind: Conflict, App: "precondition-not-met", Reason: err.Error()}
			}
		}
		d.Events = append(d.Events, configured(cmd.Node, cfg, true))
	}
	item := PEPItem{ID: cmd.ItemID, XML: cmd.XML}
	d.Events = append(d.Events, events.PEPPublished{Node: cmd.Node, ID: cmd.ItemID, XML: cmd.XML})
	d.add(PEPNotify{Node: cmd.Node, Access: cfg.AccessModel, Items: []PEPItem{item}})
	// XEP-0402 5.3: the other bookmark forms follow (bookmarks_unify.go).
	switch cmd.Node {
	case NodeBookmarks:
		if err := a.bookmarksFromNative(&d, a.nativeAfter(cfg, item), l.MaxItemBytes, op); err != nil {
			return Decision{}, err
		}
	case NodeLegacyBookmarks:
		a.bookmarksFromLegacy(&d, cmd.XML, true, l)
	}
	return d, nil
}

// checkBookmarkPayload refuses a publish to a bookmark node whose payload
// is not that node's (XEP-0060 7.1.3.6, invalid-payload): the server
// casts it into the other forms, so it must be able to read it.
// XEP-0402 section 2: "The payload of the item SHALL be a conference
// element qualified by the 'urn:xmpp:bookmarks:1' namespace"; XEP-0048's
// is a <storage xmlns='storage:bookmarks'/>.
func checkBookmarkPayload(cmd PEPPublish, op string) error {
	ok := true
	switch cmd.Node {
	case NodeBookmarks:
		_, ok = parseNativeBookmark(cmd.ItemID, cmd.XML)
	case NodeLegacyBookmarks:
		_, _, ok = parseLegacyBookmarks(cmd.XML)
	}
	if !ok {
		return &Error{Op: op, Kind: BadRequest, App: "invalid-payload", Reason: "not a bookmark of the node's format"}
	}
	return nil
}

// DecidePEPRetract deletes the item id from node (XEP-0060 7.2); with
// notify, subscribers are told (7.2.2.1).
func DecidePEPRetract(a *Account, requester, node, id string, notify bool) (Decision, error) {
	const op = "pep retract"
	if err := pepOwner(a, requester, op); err != nil {
		return Decision{}, err
	}
	switch {
	case node == "":
		return Decision{}, &Error{Op: op, Kind: BadRequest, App: "nodeid-required", Reason: "retract without a node"} // 7.2.3.3
	case id == "":
		return Decision{}, &Error{Op: op, Kind: BadRequest, App: "item-required", Reason: "retract without an item id"} // 7.2.3.4
	}
	n, ok := a.pep[node]
	if !ok {
		return Decision{}, newError(op, ItemNotFound, "no such node") // 7.2.3.5
	}
	found := false
	for _, it := range n.Items {
		found = found || it.ID == id
	}
	if !found {
		return Decision{}, newError(op, ItemNotFound, "no such item") // 7.2.3.6
	}
	d := Decision{Events: []events.Payload{events.PEPRetracted{Node: node, ID: id, Notify: notify}}}
	if notify {
		d.add(PEPNotify{Node: node, Access: n.Config.AccessModel, Retract: []string{id}})
	}
	if node == NodeBookmarks {
		// XEP-0402 5.3.1; no size bound: the list only got shorter.
		if err := a.bookmarksFromNative(&d, a.nativeAfter(n.Config, PEPItem{ID: id}), 0, op); err != nil {
			return Decision{}, err
		}
	}
	return d, nil
}

// DecidePEPDeleteNode deletes node and its items (XEP-0060 8.4) and
// notifies subscribers (8.4.2).
func DecidePEPDeleteNode(a *Account, requester, node string) (Decision, error) {
	const op = "pep delete node"
	n, err := ownNode(a, requester, node, op) // 8.4.3.3
	if err != nil {
		return Decision{}, err
	}
	d := Decision{Events: []events.Payload{events.PEPNodeDeleted{Node: node}}}
	d.add(PEPNotify{Node: node, Access: n.Config.AccessModel, Deleted: true})
	return d, nil
}

// DecidePEPConfigure changes node's configuration (XEP-0060 8.2.4) to
// the form's fields; fields it leaves out keep their values. A value
// xmppd does not support is not-acceptable (8.2.5.4).
func DecidePEPConfigure(a *Account, requester, node string, fields map[string]string, l PEPLimits) (Decision, error) {
	const op = "pep configure"
	l = l.withDefaults()
	n, err := ownNode(a, requester, node, op) // 8.2.3.4
	if err != nil {
		return Decision{}, err
	}
	cfg, err := l.parseConfig(n.Config, fields)
	if err != nil {
		return Decision{}, &Error{Op: op, Kind: NotAcceptable, Reason: err.Error()}
	}
	if cfg == n.Config {
		return Decision{}, nil
	}
	return Decision{Events: []events.Payload{configured(node, cfg, false)}}, nil
}

// PEPConfigOf returns node's configuration for the owner's configure get
// (XEP-0060 8.2.1).
func PEPConfigOf(a *Account, requester, node string) (PEPConfig, error) {
	n, err := ownNode(a, requester, node, "pep configure")
	if err != nil {
		return PEPConfig{}, err
	}
	return n.Config, nil
}

// ownNode returns node of a's service for its owner; a node that does not
// exist is item-not-found (XEP-0060 8.2.3.4, 8.4.3.3: the owner may know).
func ownNode(a *Account, requester, node, op string) (*PEPNode, error) {
	if err := pepOwner(a, requester, op); err != nil {
		return nil, err
	}
	n, ok := a.pep[node]
	if !ok {
		return nil, newError(op, ItemNotFound, "no such node")
	}
	return n, nil
}

func configured(node string, c PEPConfig, created bool) events.PEPNodeConfigured {
	return events.PEPNodeConfigured{Node: node, AccessModel: c.AccessModel, PersistItems: c.PersistItems, MaxItems: c.MaxItems, Created: created}
}

// parseConfig returns base with the fields xmppd honours set from the
// form. Fields it does not know are left alone: XEP-0060 16.4.3 lists
// many that clients send and a PEP service need not act on
// (pubsub#send_last_published_item, pubsub#notify_retract, ...); refusing
// them would break Conversations and Gajim for no gain.
func (l PEPLimits) parseConfig(base PEPConfig, fields map[string]string) (PEPConfig, error) {
	c := base
	if v, ok := fields[FieldAccessModel]; ok {
		switch v {
		case AccessPresence, AccessOpen, AccessWhitelist:
			c.AccessModel = v
		default:
			return base, fmt.Errorf("access model %q is not supported", v)
		}
	}
	if v, ok := fields[FieldPersistItems]; ok {
		switch v {
		case "1", "true":
			c.PersistItems = true
		case "0", "false":
			c.PersistItems = false
		default:
			return base, fmt.Errorf("persist_items %q is not a boolean", v)
		}
	}
	if v, ok := fields[FieldMaxItems]; ok {
		if v == "max" {
			// XEP-0060 16.4.3: "max" is the most the service allows.
			c.MaxItems = l.MaxItems
		} else {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > l.MaxItems {
				return base, fmt.Errorf("max_items %q is not a number from 1 to %d", v, l.MaxItems)
			}
			c.MaxItems = n
		}
	}
	return c, nil
}
