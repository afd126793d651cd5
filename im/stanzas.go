package im

import (
	"strconv"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/stanza"
)

// parseStanza turns stored or forwarded XML back into an element; the
// limits are generous because the stanza passed c2s's limits once.
func parseStanza(raw string) (*stanza.Element, error) {
	return stanza.ParseBytes([]byte(raw), stanza.Limits{MaxDepth: 64, MaxNodes: 1 << 16})
}

// encode is the stored form of a stanza: standalone XML with its
// namespace declared, as the log keeps it.
func encode(el *stanza.Element) string { return el.String() }

// presenceEl builds a presence stanza: whole from raw if given (the RFC
// forwards subscription requests and broadcasts whole), else a bare one of
// type typ. from and to are set on it in both cases.
func presenceEl(raw string, from, to jid.JID, typ, id string) *stanza.Element {
	var el *stanza.Element
	if raw != "" {
		if p, err := parseStanza(raw); err == nil {
			el = p
		}
	}
	return addressPresence(el, from, to, typ, id)
}

// stanzaCache is presenceEl for many copies of one stored stanza: it
// parses raw once, addresses it (id, from) once, and hands out a copy of
// that for each recipient with only 'to' set. A broadcast sends the same
// stanza to every contact (RFC 6121 4.4.2), and parsing it again for each
// one was most of the time the broadcast's actor spent before the last
// contact's copy was on its way (issue 11: with 100 contacts, about 0.35
// ms of CPU per broadcast); copying the whole tree for each was a fifth
// of the garbage a fan-out made, and the garbage collector's work is what
// set its p99. So the copies share their child elements (CopyRoot): a
// contact's path may set attributes and add, remove or replace children
// of its copy (withDelay, withPhoto), but must not change a child in
// place. The zero value is ready; one goroutine uses it.
type stanzaCache struct {
	raw    string
	from   jid.JID
	id     string
	typ    string
	parsed *stanza.Element // addressed but for 'to'; nil when raw did not parse
	done   bool
}

func (c *stanzaCache) presenceEl(raw string, from, to jid.JID, typ, id string) *stanza.Element {
	if raw == "" {
		return presenceEl(raw, from, to, typ, id)
	}
	if !c.done || c.raw != raw || !c.from.Equal(from) || c.id != id || c.typ != typ {
		c.raw, c.from, c.id, c.typ, c.parsed, c.done = raw, from, id, typ, nil, true
		if p, err := parseStanza(raw); err == nil {
			c.parsed = addressPresence(p, from, jid.JID{}, typ, id)
		}
	}
	if c.parsed == nil {
		return presenceEl(raw, from, to, typ, id)
	}
	el := c.parsed.CopyRoot(1)
	if !to.Equal(jid.JID{}) {
		el.SetAttr("to", to.String())
	}
	return el
}

// addressPresence sets id, from and to on el, or on a bare presence of
// type typ when el is nil (raw was empty or did not parse).
func addressPresence(el *stanza.Element, from, to jid.JID, typ, id string) *stanza.Element {
	if el == nil {
		el = stanza.New(stanza.NSClient, "presence")
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
func setAddrs(el *stanza.Element, from, to jid.JID) {
	el.SetAttr("from", from.String())
	if to.Equal(jid.JID{}) {
		el.RemoveAttr("to")
	} else {
		el.SetAttr("to", to.String())
	}
}

// withDelay adds a XEP-0203 <delay/> stamped at t (UTC, XEP-0082 format)
// from the server's domain.
func withDelay(el *stanza.Element, domain string, t time.Time) *stanza.Element {
	return el.AddChild(stanza.New(stanza.NSDelay, "delay", "from", domain, "stamp", t.UTC().Format(time.RFC3339)))
}

// iqResult is an empty IQ result to the request req.
func iqResult(req *stanza.Element, from jid.JID) *stanza.Element {
	res := stanza.New(stanza.NSClient, "iq", "type", "result", "id", req.Attr("id"))
	if !from.Equal(jid.JID{}) {
		res.SetAttr("from", from.String())
	}
	if to := req.Attr("from"); to != "" {
		res.SetAttr("to", to)
	}
	return res
}

// addrOf parses an address attribute of el (zero JID if absent or bad).
func (s *Core) addrOf(el *stanza.Element, attr string) jid.JID {
	j, err := s.addrs.ParseJID(el.Attr(attr))
	if err != nil {
		return jid.JID{}
	}
	return j
}

// presenceFields reads <show/>, <status/> and <priority/> (RFC 6121
// 4.7.2). An absent or unparsable priority is 0 (4.7.2.3).
func presenceFields(el *stanza.Element) (show, status string, priority int) {
	if c := el.Child("show", stanza.NSClient); c != nil {
		show = c.Text()
	}
	if c := el.Child("status", stanza.NSClient); c != nil {
		status = c.Text()
	}
	if c := el.Child("priority", stanza.NSClient); c != nil {
		if n, err := strconv.Atoi(c.Text()); err == nil && n >= -128 && n <= 127 {
			priority = n
		}
	}
	return show, status, priority
}
