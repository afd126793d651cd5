package im_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"xmppd/adapters/store/sqlite"
	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
)

// TestViewsFollowOwnAndOutsideAppendsInterleaved: the server's own appends
// reach its views from memory, another writer's (`xmppd user add` in
// another process: a second store on the same file) from the file. With
// both appending at once, the views must apply each event once, in log
// order: a roster get sees every roster set the session made before it
// (RFC 6121 2.1.6, read-your-writes), an account added outside can log
// in, and after the stop the views equal views rebuilt from the file.
func TestViewsFollowOwnAndOutsideAppendsInterleaved(t *testing.T) {
	const n = 30
	e := newEnv(t)
	e.addUser("alice")
	srv := e.start()
	outside, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(e.dir, "xmppd.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer outside.Close()
	a := e.login("alice", "phone")
	rosterItems(t, a.iq("get", `<iq type='get' id='get'><query xmlns='jabber:iq:roster'/></iq>`)) // interested: pushes come (2.1.6)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			bare := fmt.Sprintf("u%d@%s", i, testDomain)
			creds, err := domain.NewCredentials("pw-u", domain.MinScramIterations, rand.Reader)
			if err != nil {
				t.Error(err)
				return
			}
			var envs []events.Envelope
			for _, p := range []events.Payload{events.AccountCreated{JID: bare}, creds} {
				env, err := events.New(p, events.Meta{Actor: "admin:test"})
				if err != nil {
					t.Error(err)
					return
				}
				env.Recorded = time.Now().UTC()
				envs = append(envs, env)
			}
			if _, err := outside.Append(context.Background(), events.AccountStream(bare), events.NoStream, envs...); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for i := range n {
		id := fmt.Sprintf("set%d", i)
		res := a.iq(id, `<iq type='set' id='%s'><query xmlns='jabber:iq:roster'><item jid='c%d@%s' name='n%d'/></query></iq>`, id, i, testDomain, i)
		if res.Attr("type") != "result" {
			t.Fatalf("roster set %d: %s", i, stanzaErr(res))
		}
		a.expect(push(fmt.Sprintf("c%d@%s", i, testDomain), "none"))
		id = fmt.Sprintf("get%d", i)
		items := rosterItems(t, a.iq(id, `<iq type='get' id='%s'><query xmlns='jabber:iq:roster'/></iq>`, id))
		if len(items) != i+1 {
			t.Fatalf("roster get after %d sets shows %d items", i+1, len(items))
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// The last account added outside logs in: the views applied it.
	last := fmt.Sprintf("u%d", n-1)
	if el := e.dialAuth(last, "pw-u"); el.Name.Local != "success" {
		t.Fatalf("login of %s, added outside: %s", last, el.Name.Local)
	}

	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	live := dump(t, srv)
	rebuilt := projections.NewViews(domain.DefaultPolicy())
	if _, err := projections.Rebuild(context.Background(), e.store, rebuilt, srv.Views().Position(), nil); err != nil {
		t.Fatal(err)
	}
	if want := dumpViews(t, rebuilt); live != want {
		t.Fatalf("live views differ from views rebuilt from the file:\nlive %s\nrebuilt %s", live, want)
	}
}

// dumpViews is dump for views that no server runs.
func dumpViews(t *testing.T, v *projections.Views) string {
	t.Helper()
	var b bytes.Buffer
	if err := v.Dump(&b); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "position")
	out, _ := json.MarshalIndent(m, "", " ")
	return string(out)
}
