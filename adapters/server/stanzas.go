package server

import (
	"strconv"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/adapters/c2s"
	"xmppd/adapters/xmlnode"
)

// Namespaces the core speaks.
const (
	nsClient    = "jabber:client"
	nsRoster    = "jabber:iq:roster"
	nsDiscoInfo = "http://jabber.org/protocol/disco#info"
	// nsDiscoItems is XEP-0030's items query; nsPing is XEP-0199.
	nsDiscoItems = "http://jabber.org/protocol/disco#items"
	nsPing       = "urn:xmpp:ping"
	// nsMsgOffline is XEP-0160 section 5's disco feature: the server
	// stores messages for offline users.
	nsMsgOffline = "msgoffline"
	nsDelay      = "urn:xmpp:delay"
)

// parseStanza turns stored or forwarded XML back into an element; the
// limits are generous because the stanza passed c2s's limits once.
func parseStanza(raw string) (*xmlnode.Element, error) {
	return xmlnode.ParseBytes([]byte(raw), xmlnode.Limits{MaxDepth: 64, MaxNodes: 1 << 16})
}

// encode is the stored form of a stanza: standalone XML with its
// namespace declared, as the log keeps it.
func encode(el *xmlnode.Element) string { return el.String() }

// presenceEl builds a presence stanza: whole from raw if given (the RFC
// forwards subscription requests and broadcasts whole), else a bare one of
// type typ. from and to are set on it in both cases.
func presenceEl(raw string, from, to jid.JID, typ, id string) *xmlnode.Element {
	var el *xmlnode.Element
	if raw != "" {
		if p, err := parseStanza(raw); err == nil {
			el = p
		}
	}
	return addressPresence(el, from, to, typ, id)
}

// stanzaCache is presenceEl for many copies of one stored stanza: it
// parses raw once and hands out a copy of that parse each time. A
// broadcast sends the same stanza to every contact (RFC 6121 4.4.2), and
// parsing it again for each one was most of the time the broadcast's
// actor spent before the last contact's copy was on its way (issue 11:
// with 100 contacts, about 0.35 ms of CPU per broadcast). The zero value
// is ready; one goroutine uses it.
type stanzaCache struct {
	raw    string
	parsed *xmlnode.Element // nil when raw did not parse
	done   bool
}

func (c *stanzaCache) presenceEl(raw string, from, to jid.JID, typ, id string) *xmlnode.Element {
	if raw == "" {
		return presenceEl(raw, from, to, typ, id)
	}
	if !c.done || c.raw != raw {
		c.raw, c.parsed, c.done = raw, nil, true
		if p, err := parseStanza(raw); err == nil {
			c.parsed = p
		}
	}
	return addressPresence(c.parsed.Copy(), from, to, typ, id)
}

// addressPresence sets id, from and to on el, or on a bare presence of
// type typ when el is nil (raw was empty or did not parse).
func addressPresence(el *xmlnode.Element, from, to jid.JID, typ, id string) *xmlnode.Element {
	if el == nil {
		el = xmlnode.New(nsClient, "presence")
		if typ != "" {
			el.SetAttr("type", typ)
		}
		if id == "" {
			id = newID()
		}
	}
	if id != "" {
		el.SetAttr("id", id)
	}
	setAddrs(el, from, to)
	return el
}

// setAddrs sets 'from' and 'to' (removing 'to' for a zero JID).
func setAddrs(el *xmlnode.Element, from, to jid.JID) {
	el.SetAttr("from", from.String())
	if to.Equal(jid.JID{}) {
		el.RemoveAttr("to")
	} else {
		el.SetAttr("to", to.String())
	}
}

// withDelay adds a XEP-0203 <delay/> stamped at t (UTC, XEP-0082 format)
// from the server's domain.
func withDelay(el *xmlnode.Element, domain string, t time.Time) *xmlnode.Element {
	return el.AddChild(xmlnode.New(nsDelay, "delay", "from", domain, "stamp", t.UTC().Format(time.RFC3339)))
}

// iqResult is an empty IQ result to the request req.
func iqResult(req *xmlnode.Element, from jid.JID) *xmlnode.Element {
	res := xmlnode.New(nsClient, "iq", "type", "result", "id", req.Attr("id"))
	if !from.Equal(jid.JID{}) {
		res.SetAttr("from", from.String())
	}
	if to := req.Attr("from"); to != "" {
		res.SetAttr("to", to)
	}
	return res
}

// addrOf parses an address attribute of el (zero JID if absent or bad).
func addrOf(el *xmlnode.Element, attr string) jid.JID {
	j, err := c2s.ParseJID(el.Attr(attr))
	if err != nil {
		return jid.JID{}
	}
	return j
}

// presenceFields reads <show/>, <status/> and <priority/> (RFC 6121
// 4.7.2). An absent or unparsable priority is 0 (4.7.2.3).
func presenceFields(el *xmlnode.Element) (show, status string, priority int) {
	if c := el.Child("show", nsClient); c != nil {
		show = c.Text()
	}
	if c := el.Child("status", nsClient); c != nil {
		status = c.Text()
	}
	if c := el.Child("priority", nsClient); c != nil {
		if n, err := strconv.Atoi(c.Text()); err == nil && n >= -128 && n <= 127 {
			priority = n
		}
	}
	return show, status, priority
}
