package im

import (
	"context"
	"sync"

	"xmppd/domain"
	"xmppd/stanza"
)

// XEP-0163 section 4.3.1 sends a contact notifications of a node only if
// its client's entity capabilities (XEP-0115) include "NODE+notify".
// When a client's presence carries <c/>, the server asks that client for
// the features behind its 'ver' (section 6.2, disco#info to node#ver)
// unless it learnt them before, and keeps them in a bounded cache: under
// the 'ver' alone when the answer hashes to it (5.4, shared by every
// account), otherwise only for the account whose client answered (9.3,
// caps poisoning).

// maxCapsEntries bounds the cache: a few hundred client versions are in
// use at any time; an entry is a few kilobytes of feature names.
const maxCapsEntries = 4096

// capsCache maps a caps key to its features. It is guarded by mu and
// shared by every session.
type capsCache struct {
	mu sync.Mutex
	m  map[string][]string
}

func (c *capsCache) get(key string) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.m[key]
	return f, ok
}

// put stores features under key; when full it forgets an arbitrary entry
// (Go's map order), which costs at most one more disco#info.
func (c *capsCache) put(key string, features []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]string{}
	}
	if _, ok := c.m[key]; !ok && len(c.m) >= maxCapsEntries {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = features
}

// capsKeys are the cache keys of a verified and of an account's own
// answer for one hash and ver.
func capsKeys(bare, algo, ver string) (shared, own string) {
	return algo + " " + ver, bare + " " + algo + " " + ver
}

// pepSession is what the core knows of one session's interest in PEP
// notifications; guarded by mu (the session's actor and its reader both
// touch it).
type pepSession struct {
	mu sync.Mutex
	// notify holds the nodes the client wants notifications of; nil until
	// its caps are known.
	notify map[string]bool
	// caps is the "hash ver" the client last announced.
	caps string
	// queryID is the id of the disco#info the server awaits the answer to,
	// and onAnswer what to do with it (on the session's reader).
	queryID  string
	onAnswer func(stanza.Stanza)
	// owed: the session became available, and the last published items
	// are sent once notify is known (XEP-0163 4.3.2).
	owed bool
}

// wants reports whether the session asked for notifications of node.
func (p *pepSession) wants(node string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.notify[node]
}

// answers takes the answer to the session's caps query, if st is it. It
// runs on the session's reader.
func (p *pepSession) answers(st stanza.Stanza) bool {
	p.mu.Lock()
	if p.queryID == "" || st.ID != p.queryID {
		p.mu.Unlock()
		return false
	}
	fn := p.onAnswer
	p.queryID, p.onAnswer = "", nil
	p.mu.Unlock()
	fn(st)
	return true
}

// setNotify records the nodes the session wants, if its caps are still
// caps, and reports whether the last items are now owed.
func (p *pepSession) setNotify(caps string, nodes map[string]bool) (owed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.caps != caps {
		return false // the client announced other caps meanwhile
	}
	p.notify = nodes
	owed, p.owed = p.owed, false
	return owed
}

// pepPresence learns what x's client wants from its available presence
// el; initial says the session just became available, which owes it the
// last published items of the nodes it wants (XEP-0163 4.3.2). It runs
// on x's actor.
func (s *Core) pepPresence(x *session, el *stanza.Element, initial bool) {
	c := el.Child("c", stanza.NSCaps)
	p := &x.pep
	p.mu.Lock()
	if initial {
		p.owed = true
	}
	if c == nil || c.Attr("ver") == "" {
		// No caps: no +notify (XEP-0163 4.3.1), nothing owed.
		p.caps, p.notify, p.owed, p.queryID = "", map[string]bool{}, false, ""
		p.mu.Unlock()
		return
	}
	algo, ver := c.Attr("hash"), c.Attr("ver")
	caps := algo + " " + ver
	if caps == p.caps && (p.notify != nil || p.queryID != "") {
		owed := p.notify != nil && p.owed
		if owed {
			p.owed = false
		}
		p.mu.Unlock()
		if owed {
			s.pepSendLast(x)
		}
		return
	}
	p.caps, p.notify = caps, nil
	shared, own := capsKeys(x.bare, algo, ver)
	features, ok := s.caps.get(shared)
	if !ok {
		features, ok = s.caps.get(own)
	}
	if ok {
		p.mu.Unlock()
		if p.setNotify(caps, domain.NotifyNodes(features)) {
			s.pepSendLast(x)
		}
		return
	}
	id := "caps-" + newID()[:16]
	p.queryID = id
	p.onAnswer = func(res stanza.Stanza) { s.capsAnswered(x, caps, algo, ver, res) }
	p.mu.Unlock()
	// XEP-0115 section 6.2: disco#info to the full JID, node "node#ver".
	q := stanza.New(stanza.NSClient, "iq", "type", "get", "id", id, "from", s.cfg.Domain, "to", x.fullStr)
	q.AddChild(stanza.New(stanza.NSDiscoInfo, "query", "node", c.Attr("node")+"#"+ver))
	x.sess.Send(q)
}

// capsAnswered caches the features of a caps query's answer and, if the
// session is owed them, sends it the last published items. It runs on
// x's reader, so the sending goes to x's actor.
func (s *Core) capsAnswered(x *session, caps, algo, ver string, res stanza.Stanza) {
	var features []string
	if q := res.El.Child("query", stanza.NSDiscoInfo); res.Type == "result" && q != nil {
		for _, f := range q.Elements() {
			if f.Name.Local == "feature" {
				features = append(features, f.Attr("var"))
			}
		}
		shared, own := capsKeys(x.bare, algo, ver)
		if got, ok := domain.CapsVer(q, algo); ok && got == ver {
			s.caps.put(shared, features)
		} else {
			s.caps.put(own, features)
		}
	}
	if x.pep.setNotify(caps, domain.NotifyNodes(features)) {
		s.actors.enqueue(x.bare, func(_ context.Context) {
			if !s.reg.IsEnded(x) {
				s.pepSendLast(x)
			}
		})
	}
}
