package c2s

import (
	"encoding/xml"
	"errors"
	"fmt"
	"sync"
	"time"

	"xmppd/router"
	"xmppd/stanza"
)

// XEP-0077 in-band registration of new accounts (section 3.1), offered
// only when the server has a Registrar (switched off by default): on a
// TLS stream before authentication, a client asks for the fields and
// sends a username and password; the Registrar creates the account, and
// the client then authenticates as usual. One address (an IPv6 /64
// counts as one) may register one account per
// Config.RegistrationInterval, so a script cannot fill the server.

// registrationGate remembers when each address last registered.
type registrationGate struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// allow reports how long key must still wait, zero if it may register
// now (and then counts the registration as made).
func (g *registrationGate) allow(key string, now time.Time, interval time.Duration) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last == nil {
		g.last = map[string]time.Time{}
	}
	if len(g.last) > 100000 {
		for k, t := range g.last {
			if now.Sub(t) >= interval {
				delete(g.last, k)
			}
		}
	}
	if t, ok := g.last[key]; ok && now.Sub(t) < interval {
		return interval - now.Sub(t)
	}
	g.last[key] = now
	return 0
}

// forget undoes allow's count when the registration failed.
func (g *registrationGate) forget(key string, at time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last[key].Equal(at) {
		delete(g.last, key)
	}
}

func isRegisterIQ(el *stanza.Element) bool {
	return el.Name.Space == stanza.NSClient && el.Name.Local == "iq" &&
		len(el.Elements()) == 1 && el.Elements()[0].Name == xml.Name{Space: stanza.NSRegister, Local: "query"}
}

// register answers a jabber:iq:register IQ before authentication.
func (c *conn) register(iq *stanza.Element) error {
	// Errors carry no copy of the request (ErrorReply): it may hold a
	// password.
	answer := func(e *stanza.Error, payload *stanza.Element) error {
		var r *stanza.Element
		if e != nil {
			r = stanza.ErrorReply(iq, "", *e)
		} else {
			r = stanza.New(stanza.NSClient, "iq", "type", "result", "id", iq.Attr("id"))
			if payload != nil {
				r.AddChild(payload)
			}
		}
		if r == nil {
			return nil // an error answers nothing
		}
		return c.write(r.AppendXML(nil, stanza.NSClient))
	}
	reg := c.srv.registrar
	if reg == nil {
		// Section 3.1: a server that does not offer registration.
		return answer(&stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable}, nil)
	}
	q := iq.Elements()[0]
	switch iq.Attr("type") {
	case "get":
		f := stanza.New(stanza.NSRegister, "query")
		f.AddChild(stanza.New(stanza.NSRegister, "instructions").AddText("Choose a username and password for an account on " + c.srv.cfg.Domain + "."))
		f.AddChild(stanza.New(stanza.NSRegister, "username"))
		f.AddChild(stanza.New(stanza.NSRegister, "password"))
		return answer(nil, f)
	case "set":
	default:
		return answer(&stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest}, nil)
	}
	user, pass := q.Child("username", stanza.NSRegister), q.Child("password", stanza.NSRegister)
	if q.Child("remove", stanza.NSRegister) != nil {
		// Section 3.2: only an authenticated user cancels their account.
		return answer(&stanza.Error{Type: stanza.Auth, Condition: stanza.NotAuthorized}, nil)
	}
	if user == nil || pass == nil || user.Text() == "" || pass.Text() == "" {
		// Section 3.1: required information missing.
		return answer(&stanza.Error{Type: stanza.Modify, Condition: stanza.NotAcceptable}, nil)
	}
	key, now := addrKey(c.ip), c.srv.now()
	if wait := c.srv.registrations.allow(key, now, c.srv.cfg.RegistrationInterval); wait > 0 {
		e := stanza.Error{Type: stanza.Wait, Condition: stanza.ResourceConstraint,
			Text: map[string]string{"en": fmt.Sprintf("an account was registered from this address lately; try again in %v", wait.Round(time.Second))}}
		return answer(&e, nil)
	}
	err := reg.Register(c.ctx, user.Text(), pass.Text(), router.Origin{Addr: c.addr, TLS: c.tlsInfo})
	if err != nil {
		c.srv.registrations.forget(key, now)
		var se stanza.Error
		if !errors.As(err, &se) {
			c.srv.log.Warn("c2s: registration failed", "addr", c.addr, "err", err)
			se = stanza.Error{Type: stanza.Wait, Condition: stanza.InternalServerError}
		}
		return answer(&se, nil)
	}
	return answer(nil, nil)
}
