package im_test

import (
	"encoding/xml"
	"testing"

	"xmppd/events"
	"xmppd/im"
	"xmppd/stanza"
)

// register sends a jabber:iq:register set before authentication on a
// fresh connection (the login that follows is refused or not: it does
// not matter) and returns the answer.
func registerInBand(t *testing.T, e *env, payload string) (answer, features *stanza.Element) {
	t.Helper()
	e.beforeAuth = func(c *client, d *xml.Decoder) {
		features = c.features
		c.send(`<iq type='set' id='reg'><query xmlns='jabber:iq:register'>%s</query></iq>`, payload)
		answer = next(t, d)
	}
	defer func() { e.beforeAuth = nil }()
	var auth *stanza.Element
	e.connect("nobody", "x", "", &auth)
	return answer, features
}

// XEP-0077 section 3.1, switched off (the default): no feature, and a
// registration attempt is answered service-unavailable.
func TestRegistrationOff_XEP0077_3_1(t *testing.T) {
	e := newEnv(t)
	e.start()
	res, features := registerInBand(t, e, `<username>eve</username><password>pw</password>`)
	if features.Child("register", stanza.NSRegisterFeature) != nil {
		t.Errorf("registration advertised while off: %s", features)
	}
	if stanzaErr(res) != "service-unavailable" {
		t.Fatalf("registration while off: %s", res)
	}
}

// XEP-0077 sections 3.1 and 4, switched on: the stream feature, the
// fields, an account created (and usable), a taken username refused with
// <conflict/>, missing fields with <not-acceptable/>, a second account
// from the same address within the interval with <resource-constraint/>,
// and account.created recorded with the registering address.
func TestRegistrationOn_XEP0077_3_1(t *testing.T) {
	e := newEnv(t)
	e.tuneIM = func(c *im.Config) { c.AllowRegistration = true }
	e.addUser("alice")
	e.start()
	e.beforeAuth = func(c *client, d *xml.Decoder) {
		if c.features.Child("register", stanza.NSRegisterFeature) == nil {
			t.Errorf("no registration feature in %s", c.features)
		}
		c.send(`<iq type='get' id='fields'><query xmlns='jabber:iq:register'/></iq>`)
		res := next(t, d)
		q := res.Child("query", stanza.NSRegister)
		if res.Attr("type") != "result" || q == nil || q.Child("username", stanza.NSRegister) == nil || q.Child("password", stanza.NSRegister) == nil {
			t.Errorf("fields: %s", res)
		}
	}
	e.connect("nobody", "x", "", new(*stanza.Element))
	e.beforeAuth = nil

	if res, _ := registerInBand(t, e, `<username>alice</username><password>pw</password>`); stanzaErr(res) != "conflict" {
		t.Errorf("taken username: %s", res)
	}
	if res, _ := registerInBand(t, e, `<username>eve</username>`); stanzaErr(res) != "not-acceptable" {
		t.Errorf("no password: %s", res)
	}
	if res, _ := registerInBand(t, e, `<username>eve</username><password>eve-pw</password>`); res.Attr("type") != "result" {
		t.Fatalf("registration: %s", res)
	}
	if res, _ := registerInBand(t, e, `<username>mallory</username><password>m-pw</password>`); stanzaErr(res) != "resource-constraint" {
		t.Errorf("second account from one address at once: %s", res)
	}
	c := e.connect("eve", "eve-pw", "laptop", nil)
	roundTrip(c, "p")
	envs, ps := e.readStream(events.AccountStream("eve@localhost"))
	if len(ofType[events.AccountCreated](ps)) != 1 || envs[0].ClientAddr == "" {
		t.Errorf("eve's stream: %+v", envs)
	}
}
