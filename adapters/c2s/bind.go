package c2s

import (
	"crypto/rand"
	"encoding/hex"
	"errors"

	"mellium.im/xmpp/jid"

	"xmppd/stanza"
)

func isBindIQ(el *stanza.Element) bool {
	return el.Name.Space == stanza.NSClient && el.Name.Local == "iq" && el.Attr("type") == "set" &&
		el.Child("bind", stanza.NSBind) != nil
}

// bind handles resource binding (RFC 6120 section 7). It returns the
// session once bound, or (nil, nil) after answering an error the client
// may recover from by trying again.
func (c *conn) bind(iq *stanza.Element) (*Session, error) {
	refuse := func(e stanza.Error) (*Session, error) {
		return nil, c.write(stanza.ErrorReply(iq, "", e).AppendXML(nil, stanza.NSClient))
	}
	if iq.Attr("id") == "" {
		return refuse(stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest})
	}
	var resource string
	if r := iq.Child("bind", stanza.NSBind).Child("resource", stanza.NSBind); r != nil {
		resource = r.Text()
	}
	if resource == "" {
		// RFC 6120 section 7.6: the server makes one up.
		resource = randomID()
	}
	// PRECIS OpaqueString for the resourcepart (RFC 7622 section 3.4).
	j, err := jid.New(c.user, c.srv.cfg.Domain, resource)
	if err != nil {
		// RFC 6120 section 7.7.2.1.
		return refuse(stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest})
	}
	sess := newSession(c, j)
	if err := c.srv.register(c, sess); err != nil {
		return nil, err
	}
	if err := c.srv.core.Bound(c.ctx, sess); err != nil {
		c.srv.unregister(c)
		var se stanza.Error
		if !errors.As(err, &se) {
			c.srv.log.Warn("c2s: core refused a session", "jid", j.String(), "err", err)
			se = stanza.Error{Type: stanza.Wait, Condition: stanza.InternalServerError}
		}
		return refuse(se)
	}
	res := stanza.New(stanza.NSClient, "iq", "type", "result", "id", iq.Attr("id"))
	res.AddChild(stanza.New(stanza.NSBind, "bind").AddChild(stanza.New(stanza.NSBind, "jid").AddText(j.String())))
	if err := c.write(res.AppendXML(nil, stanza.NSClient)); err != nil {
		// The core accepted the session; it must also hear it end.
		sess.end(writeEnd(err))
		c.srv.unregister(c)
		return nil, quietError{err}
	}
	return sess, nil
}

// randomID is 128 random bits in hex: stream ids, session ids, resources.
func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
