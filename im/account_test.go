package im_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppd/adapters/store/sqlite"
	"xmppd/domain"
	"xmppd/events"
	"xmppd/im"
)

// Eight administrators create the same account at once, on a real SQLite
// file: the account rules and the expected-version append let exactly one
// through, and the others are refused as a conflict (not an error of the
// store), whoever wins the race.
func TestAccountsCreateOnceUnderConcurrency(t *testing.T) {
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "xmppd.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u := im.Accounts{Store: st}
	ann := jid.MustParse("ann@localhost")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			errs[i] = u.Create(context.Background(), ann, events.CredentialsSet{}, events.Meta{Actor: "admin:test"})
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case domain.KindOf(err) != domain.Conflict:
			t.Errorf("a losing creation failed with %v, want a conflict", err)
		}
	}
	if created != 1 {
		t.Fatalf("%d creations succeeded, want 1", created)
	}
	if ok, err := u.Exists(context.Background(), ann); !ok || err != nil {
		t.Fatalf("exists: %v %v", ok, err)
	}
	if err := u.Delete(context.Background(), ann, "test", events.Meta{Actor: "admin:test"}); err != nil {
		t.Fatal(err)
	}
	if err := u.SetPassword(context.Background(), ann, events.CredentialsSet{}, events.Meta{Actor: "admin:test"}); domain.KindOf(err) != domain.ItemNotFound {
		t.Fatalf("password of a deleted account: %v", err)
	}
}
