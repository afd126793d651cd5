package im_test

import (
	"fmt"
	"sync/atomic"
)

// A barrier is a round trip that ends with a stanza arriving at the
// client under test; it returns once that stanza has been taken. A
// client reads one ordered stream, so whatever the server wrote to it
// before the barrier's stanza is in its backlog by then. A barrier proves
// something only if the stanza that must not arrive would have been
// written before it: that is, if the barrier passes through every queue
// that stanza would (RFC 6120 10.1: the server delivers a session's
// stanzas in order; each account's commands run one at a time on its
// actor, DESIGN.md flow step 2). So each call of never names the path:
//
//   - pingSelf: stanzas the client's own account's actor sends it (roster
//     pushes, offline delivery, stanzas another account's actor has
//     already handed to it);
//   - pingThrough: answers that another account's actor would send back
//     for what this client sent it (probe answers, bounces);
//   - messageFrom: what another client's stanzas would cause to be sent
//     to this one (presence broadcasts, messages routed to the wrong
//     resource).
type barrier struct {
	desc string
	run  func()
}

// barriers numbers barrier stanzas, so that no two share an id or body.
var barriers atomic.Int64

func barrierID() string { return fmt.Sprintf("barrier-%d", barriers.Add(1)) }

// pingSelf is a XEP-0199 ping to c's own bare JID: the server answers it
// on the account's behalf (RFC 6121 8.5.2.1.3) on the account's actor,
// after every command queued there before it.
func (c *client) pingSelf() barrier {
	return barrier{"a ping to " + bare(c.jid), func() {
		c.t.Helper()
		id := barrierID()
		if res := c.iq(id, `<iq type='get' id='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>`, id, bare(c.jid)); res.Attr("type") != "result" {
			c.t.Fatalf("%s: barrier ping to own account: %s", c.name, res)
		}
	}}
}

// pingThrough is a XEP-0199 ping to addr, a full JID of a local address
// with no such resource: it goes through c's account's actor to addr's
// account's actor, which bounces it with service-unavailable (RFC 6121
// 8.5.3.2.3; 8.5.1 for an account that does not exist) through c's
// account's actor back to c, the way an answer to anything c sent that
// account before would come.
func (c *client) pingThrough(addr string) barrier {
	return barrier{"a ping bounced by " + addr, func() {
		c.t.Helper()
		id := barrierID()
		if res := c.iq(id, `<iq type='get' id='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>`, id, addr); stanzaErr(res) != "service-unavailable" || res.Attr("from") != addr {
			c.t.Fatalf("%s: barrier ping through %s: want service-unavailable from it, got %s", c.name, addr, res)
		}
	}}
}

// messageFrom is a chat message from sender to c's full JID (RFC 6121
// 8.5.3.1: delivered to that resource whoever sends it): it follows
// everything sender sent before (RFC 6120 10.1) through sender's
// account's actor, if anything is still waiting there, and c's.
func (c *client) messageFrom(sender *client) barrier {
	return barrier{"a message from " + sender.jid, func() {
		c.t.Helper()
		body := barrierID()
		sender.send(`<message to='%s' type='chat' id='%s'><body>%s</body></message>`, c.jid, body, body)
		c.expect(message(sender.jid, body))
	}}
}

// never checks that no element matching m has arrived once each barrier
// has made its round trip: it would have arrived before the barrier's
// stanza (see barrier). It does not wait on a clock.
func (c *client) never(m match, b barrier, more ...barrier) {
	c.t.Helper()
	for _, b := range append([]barrier{b}, more...) {
		b.run()
		if el, ok, _ := c.take(m); ok {
			c.t.Fatalf("%s: unexpected %s (arrived before %s): %s", c.name, m.desc, b.desc, el)
		}
	}
}
