package domain

import (
	"fmt"
	"slices"

	"xmppd/events"
	"xmppd/stanza"
)

// XEP-0402 section 5.3: the server unifies the account's bookmarks across
// XEP-0049 private storage ("#compat") and the XEP-0223 node
// storage:bookmarks ("#compat-pep") with the native node. Private storage
// and PEP are both in the account's stream, so the decision that accepts
// a change to one form also holds the events that rewrite the others, and
// the log never shows one without the others:
//
//   - a legacy <storage/> set in private storage or published to the
//     legacy node: each room new or changed is published to the native
//     node, each room gone is retracted from it (with notifications),
//     rooms unchanged are left alone (5.3.2: "SHOULD NOT send
//     notifications for unchanged items"), and the other legacy form is
//     given the same <storage/>;
//   - a native publish or retract: every native item is cast into a
//     legacy <storage/> (5.3.1, "setting the jid attribute to the item
//     id"), written to private storage and to the legacy node.
//
// What a format cannot hold is dropped on the way into it, with two
// exceptions: a native item whose room a legacy write leaves unchanged is
// not rewritten, so its <extensions/> survive, and a changed one keeps
// them (section 2: they MUST be preserved when editing); the legacy form
// rebuilt from native items keeps the <url/> bookmarks and other
// non-conference children of the legacy node's item.
//
// Deleting a bookmark node, or retracting the legacy node's item, changes
// only that node: neither says which rooms the user meant to drop.
//
// The server creates the bookmark nodes it writes to whatever the node
// quota (PEPLimits.MaxNodes): refusing a client's bookmarks for nodes it
// never asked for would break it, and there are at most two.

// bookmarksConfig is the native node's configuration when the server
// creates it (XEP-0402 section 3.3's publish-options: whitelist,
// persist_items, max_items "max").
func bookmarksConfig(l PEPLimits) PEPConfig {
	return PEPConfig{AccessModel: AccessWhitelist, PersistItems: true, MaxItems: l.MaxItems}
}

// legacyBookmarksConfig is the legacy node's configuration when the
// server creates it (XEP-0223 section 3: whitelist and persistent; one
// item, "current").
var legacyBookmarksConfig = PEPConfig{AccessModel: AccessWhitelist, PersistItems: true, MaxItems: 1}

// defaultNodeConfig is what node is auto-created with before any
// publish-options apply: the bookmark nodes are private (whitelist)
// whatever the client asks first, the others take XEP-0163's defaults.
func (l PEPLimits) defaultNodeConfig(node string) PEPConfig {
	switch node {
	case NodeBookmarks:
		return bookmarksConfig(l)
	case NodeLegacyBookmarks:
		return legacyBookmarksConfig
	}
	return PEPConfig{AccessModel: DefaultPEPAccessModel, PersistItems: true, MaxItems: DefaultPEPNodeItems}
}

// isLegacyBookmarksPrivate reports whether a private storage element is
// XEP-0048's (section 3.2 of XEP-0048 stores it under XEP-0049).
func isLegacyBookmarksPrivate(local, space string) bool {
	return local == "storage" && space == stanza.NSLegacyBookmarks
}

// bookmarksFromLegacy adds to d what brings the native node, and the
// legacy form other than the one written (the legacy PEP node when
// fromPEP, else private storage), in line with storage, a legacy
// <storage/> the user wrote. It adds nothing when storage is not one.
func (a *Account) bookmarksFromLegacy(d *Decision, storage string, fromPEP bool, l PEPLimits) {
	rooms, _, ok := parseLegacyBookmarks(storage)
	if !ok {
		return
	}
	cfg := bookmarksConfig(l)
	var old []PEPItem
	if n, exists := a.pep[NodeBookmarks]; !exists {
		d.Events = append(d.Events, configured(NodeBookmarks, cfg, true))
	} else {
		cfg, old = n.Config, n.Items
		if !cfg.PersistItems || cfg.MaxItems < min(len(rooms), l.MaxItems) {
			// A node made before unification, with too few items for the
			// list, would silently drop rooms: XEP-0402 3.3 asks for
			// persistent items and max_items "max" anyway.
			cfg.PersistItems, cfg.MaxItems = true, l.MaxItems
			d.Events = append(d.Events, configured(NodeBookmarks, cfg, false))
		}
	}
	var published []PEPItem
	for _, r := range rooms {
		if i := slices.IndexFunc(old, func(it PEPItem) bool { return it.ID == r.jid }); i >= 0 {
			if was, ok := parseNativeBookmark(old[i].ID, old[i].XML); ok {
				if was.same(r) {
					continue // 5.3.2: unchanged, so neither written nor notified
				}
				r.extensions = was.extensions
			}
		}
		it := PEPItem{ID: r.jid, XML: r.conference(stanza.NSBookmarks).String()}
		d.Events = append(d.Events, events.PEPPublished{Node: NodeBookmarks, ID: it.ID, XML: it.XML})
		published = append(published, it)
	}
	var retracted []string
	for _, it := range old {
		if !slices.ContainsFunc(rooms, func(r bookmark) bool { return r.jid == it.ID }) {
			// 5.3.2: "sending ... retraction notifications as needed".
			d.Events = append(d.Events, events.PEPRetracted{Node: NodeBookmarks, ID: it.ID, Notify: true})
			retracted = append(retracted, it.ID)
		}
	}
	if len(published) > 0 {
		d.add(PEPNotify{Node: NodeBookmarks, Access: cfg.AccessModel, Items: published})
	}
	if len(retracted) > 0 {
		d.add(PEPNotify{Node: NodeBookmarks, Access: cfg.AccessModel, Retract: retracted})
	}
	if fromPEP {
		d.Events = append(d.Events, legacyPrivate(storage))
	} else {
		a.publishLegacyBookmarks(d, storage)
	}
}

// bookmarksFromNative adds to d what brings both legacy forms in line
// with items, the native node's items once the decision's own events are
// applied (XEP-0402 5.3.1). A legacy form over max bytes is refused: it
// is one stored element like any other. max 0 is no bound, for a
// retraction, which only shortens the list.
func (a *Account) bookmarksFromNative(d *Decision, items []PEPItem, max int, op string) error {
	var rooms []bookmark
	for _, it := range items {
		if b, ok := parseNativeBookmark(it.ID, it.XML); ok {
			rooms = append(rooms, b)
		}
	}
	var others []*stanza.Element
	if n, ok := a.pep[NodeLegacyBookmarks]; ok {
		if last, ok := n.Last(); ok {
			_, others, _ = parseLegacyBookmarks(last.XML)
		}
	}
	storage := legacyStorage(rooms, others)
	if max > 0 && len(storage) > max {
		return &Error{Op: op, Kind: PolicyViolation, Reason: fmt.Sprintf("the bookmarks would be over %d bytes in their XEP-0048 form", max)}
	}
	d.Events = append(d.Events, legacyPrivate(storage))
	a.publishLegacyBookmarks(d, storage)
	return nil
}

// legacyPrivate is the private storage event holding storage.
func legacyPrivate(storage string) events.PrivateSet {
	return events.PrivateSet{Local: "storage", Namespace: stanza.NSLegacyBookmarks, XML: storage}
}

// publishLegacyBookmarks adds to d the publish of storage as the legacy
// node's item "current", creating the node if need be; nothing when the
// node already holds exactly that.
func (a *Account) publishLegacyBookmarks(d *Decision, storage string) {
	cfg := legacyBookmarksConfig
	if n, ok := a.pep[NodeLegacyBookmarks]; !ok {
		d.Events = append(d.Events, configured(NodeLegacyBookmarks, cfg, true))
	} else {
		cfg = n.Config
		if last, ok := n.Last(); ok && last.ID == LegacyBookmarksItem && last.XML == storage {
			return
		}
	}
	it := PEPItem{ID: LegacyBookmarksItem, XML: storage}
	d.Events = append(d.Events, events.PEPPublished{Node: NodeLegacyBookmarks, ID: it.ID, XML: it.XML})
	d.add(PEPNotify{Node: NodeLegacyBookmarks, Access: cfg.AccessModel, Items: []PEPItem{it}})
}

// nativeAfter returns the native node's items once it is published to
// (it, the item) or retracted from (it.XML empty), under cfg.
func (a *Account) nativeAfter(cfg PEPConfig, it PEPItem) []PEPItem {
	after := PEPNode{Config: cfg}
	if n, ok := a.pep[NodeBookmarks]; ok {
		after.Items = slices.Clone(n.Items)
	}
	after.Items = slices.DeleteFunc(after.Items, func(o PEPItem) bool { return o.ID == it.ID })
	if it.XML != "" {
		after.Items = append(after.Items, it)
	}
	after.trim()
	return after.Items
}
