package replay

import (
	"fmt"

	"xmppd/events"
)

// pepWords tells a XEP-0163 event: its node, its item (if any) and what
// happened, for audit.
func pepWords(p events.Payload) (node, item, text string) {
	switch p := p.(type) {
	case events.PEPNodeConfigured:
		verb := "configured"
		if p.Created {
			verb = "created"
		}
		return p.Node, "", fmt.Sprintf("PEP node %s %s: access %s, persist_items %t, max_items %d (XEP-0060 8.2)", p.Node, verb, p.AccessModel, p.PersistItems, p.MaxItems)
	case events.PEPPublished:
		if gone := events.GoneOf(p); gone != "" {
			return p.Node, p.ID, fmt.Sprintf("published item %s to PEP node %s: content %s (XEP-0060 7.1)", p.ID, p.Node, goneWords(gone))
		}
		return p.Node, p.ID, fmt.Sprintf("published item %s to PEP node %s (%d bytes, XEP-0060 7.1)", p.ID, p.Node, len(p.XML))
	case events.PEPRetracted:
		notified := ""
		if p.Notify {
			notified = ", subscribers notified"
		}
		return p.Node, p.ID, fmt.Sprintf("retracted item %s from PEP node %s%s (XEP-0060 7.2)", p.ID, p.Node, notified)
	case events.PEPNodeDeleted:
		return p.Node, "", fmt.Sprintf("deleted PEP node %s with its items (XEP-0060 8.4)", p.Node)
	}
	return "", "", p.EventType()
}
