package im_test

import (
	"testing"

	"xmppd/events"
)

// XEP-0077 section 3.3: a logged-in user changes their password; it is
// account.credentials_set with the session as actor, the new password
// logs in and the old one no longer does, also after a restart. An empty
// password and a cancellation (section 3.2, off) change nothing.
func TestInBandPasswordChange(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a := e.login("alice", "phone")

	if res := a.iq("c0", `<iq type='set' id='c0' to='localhost'><query xmlns='jabber:iq:register'><username>alice</username><password/></query></iq>`); stanzaErr(res) != "bad-request" {
		t.Errorf("empty password: %s", res)
	}
	if res := a.iq("c1", `<iq type='set' id='c1' to='localhost'><query xmlns='jabber:iq:register'><username>bob</username><password>x</password></query></iq>`); stanzaErr(res) != "bad-request" {
		t.Errorf("someone else's username: %s", res)
	}
	if res := a.iq("r1", `<iq type='set' id='r1'><query xmlns='jabber:iq:register'><remove/></query></iq>`); stanzaErr(res) != "not-allowed" {
		t.Errorf("cancellation: %s", res)
	}
	if res := a.iq("c2", `<iq type='set' id='c2' to='localhost'><query xmlns='jabber:iq:register'><username>alice</username><password>new secret</password></query></iq>`); res.Attr("type") != "result" {
		t.Fatalf("password change: %s", res)
	}
	envs, ps := e.readStream(events.AccountStream("alice@localhost"))
	last := len(ps) - 1
	if _, ok := ps[last].(events.CredentialsSet); !ok || envs[last].Actor != "alice@localhost/phone" {
		t.Errorf("last account event %T by %q, want credentials_set by the session", ps[last], envs[last].Actor)
	}

	check := func() {
		t.Helper()
		if ans := e.dialAuth("alice", "new secret"); ans.Name.Local != "success" {
			t.Errorf("new password: %s", ans)
		}
		if ans := e.dialAuth("alice", "pw-alice"); ans.Name.Local != "failure" {
			t.Errorf("old password: %s", ans)
		}
		if ans := e.dialAuth("bob", "pw-bob"); ans.Name.Local != "success" {
			t.Errorf("bob's password: %s", ans)
		}
	}
	check()
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	e.start()
	check()
}
