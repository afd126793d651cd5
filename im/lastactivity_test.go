package im_test

import (
	"strconv"
	"testing"
)

// XEP-0012 section 3: a last activity query to a bare JID is answered by
// the server: seconds='0' while the user is online; after they leave,
// the seconds since and their last unavailable status; forbidden to an
// entity without a presence subscription; the user may ask about
// themselves. Restarting rebuilds it from the log.
func TestLastActivityOfAccount(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.addUser("carol")
	e.start()
	a, b, c := e.login("alice", "phone"), e.login("bob", "pc"), e.login("carol", "pc")
	a.online(0)
	b.online(0)
	c.online(0)
	subscribeBoth(a, b)

	const ask = `<iq type='get' id='%s' to='alice@localhost'><query xmlns='jabber:iq:last'/></iq>`
	if res := b.iq("l1", ask, "l1"); res.Attr("type") != "result" || res.Child("query", "jabber:iq:last") == nil ||
		res.Child("query", "jabber:iq:last").Attr("seconds") != "0" {
		t.Fatalf("online alice: %s", res)
	}
	if res := a.iq("l2", ask, "l2"); res.Attr("type") != "result" {
		t.Errorf("alice about herself: %s", res)
	}
	if res := c.iq("l3", ask, "l3"); stanzaErr(res) != "forbidden" {
		t.Errorf("stranger: %s", res)
	}

	a.send(`<presence type='unavailable'><status>Heading Home</status></presence>`)
	a.quit()
	check := func(id string) {
		t.Helper()
		res := b.iq(id, ask, id)
		q := res.Child("query", "jabber:iq:last")
		if res.Attr("type") != "result" || q == nil {
			t.Fatalf("offline alice: %s", res)
		}
		if n, err := strconv.Atoi(q.Attr("seconds")); err != nil || n < 0 || n > 60 {
			t.Errorf("seconds=%q", q.Attr("seconds"))
		}
		if q.Text() != "Heading Home" {
			t.Errorf("status %q: %s", q.Text(), res)
		}
	}
	check("l4")
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	e.start()
	b = e.login("bob", "pc")
	check("l5")
}
