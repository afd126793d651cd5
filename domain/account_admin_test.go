package domain_test

import (
	"testing"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

// An account is created once; only an existing one has its password
// changed or is deleted; a deleted one may be created again.
func TestAccountRules(t *testing.T) {
	a := domain.NewAccount(jid.MustParse("ann@localhost"), domain.DefaultPolicy())
	creds := events.CredentialsSet{}
	must := func(ps []events.Payload, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			a.Apply(p)
		}
	}
	refused := func(op string, k domain.ErrorKind, _ []events.Payload, err error) {
		t.Helper()
		if domain.KindOf(err) != k {
			t.Errorf("%s: %v, want %v", op, err, k)
		}
	}
	ps, err := domain.SetPassword(a, creds)
	refused("password of a missing account", domain.ItemNotFound, ps, err)
	ps, err = domain.DeleteAccount(a, "x")
	refused("deletion of a missing account", domain.ItemNotFound, ps, err)
	must(domain.CreateAccount(a, creds))
	ps, err = domain.CreateAccount(a, creds)
	refused("second creation", domain.Conflict, ps, err)
	must(domain.SetPassword(a, creds))
	must(domain.DeleteAccount(a, "gone"))
	if a.Exists {
		t.Fatal("deleted account exists")
	}
	must(domain.CreateAccount(a, creds))
}
