package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// secrets are the personal content alice stores in TestUserEraseShreds...:
// none may appear in the log file, and after erasure none may be
// readable through any command.
var secrets = []string{"Alice-Secret-FN", "private-secret-note", "AliceSecretNick", "status-secret-text"}

// Issue 13 "Erasure" through the real binary: alice's vCard (XEP-0054),
// private XML (XEP-0049), a PEP item (XEP-0163) and presence status (RFC
// 6121 4.7.2.2) are sealed in the log; `user erase` refuses while the
// server runs; after it, replay and audit show the content as erased
// without error, verify exits 0, and a copy of the log taken before the
// erasure is just as unreadable with the same, now key-less, key store.
func TestUserEraseShredsPersonalContent(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv := startServe(t, dir)
	alice := dialXMPP(t, srv.directTLS)
	alice.login("alice", "alice-pw", "laptop")
	for id, iq := range map[string]string{
		"v1": `<vCard xmlns='vcard-temp'><FN>Alice-Secret-FN</FN></vCard>`,
		"p1": `<query xmlns='jabber:iq:private'><note xmlns='urn:example:note'>private-secret-note</note></query>`,
		"n1": `<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='http://jabber.org/protocol/nick'><item id='current'><nick xmlns='http://jabber.org/protocol/nick'>AliceSecretNick</nick></item></publish></pubsub>`,
	} {
		alice.send(`<iq type='set' id='` + id + `'>` + iq + `</iq>`)
		if n := alice.await("iq", id); n.attr("type") != "result" {
			t.Fatalf("%s: %+v", id, n)
		}
	}
	alice.send(`<presence><show>away</show><status>status-secret-text</status></presence>`)
	alice.ping("after-presence")

	// While the server runs, erasure refuses (it holds the server lock).
	if r := xmppd(t, dir, "", "user", "erase", "alice@localhost"); r.code == 0 || !strings.Contains(r.stderr, "Only one `xmppd serve`") && !strings.Contains(r.stderr, "lock") {
		t.Fatalf("erase while serving: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	srv.stop(t, syscall.SIGTERM)
	before := time.Now().UTC().Format(time.RFC3339Nano)

	// Sealed: no secret is in the log's bytes, and the keys are elsewhere.
	logBytes := readLogFiles(t, filepath.Join(dir, "data"), "xmppd.db")
	for _, s := range secrets {
		if bytes.Contains(logBytes, []byte(s)) {
			t.Errorf("the log file holds %q in clear", s)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "keys.db")); err != nil {
		t.Fatalf("no key store beside the log: %v", err)
	}
	// With the keys, replay and audit read the content.
	st := replayAt(t, dir, before)
	if !strings.Contains(st.VCard, "Alice-Secret-FN") || !strings.Contains(st.PEPText(), "AliceSecretNick") {
		t.Fatalf("replay before erasure: vcard %q, pep %s", st.VCard, st.PEPText())
	}
	// Without its key store, the log alone shows the content as missing.
	if st := replayAt(t, dir, before, "--keys-path", filepath.Join(dir, "no-keys.db")); st.VCard != "(missing)" {
		t.Errorf("replay without the key store: vcard %q, want (missing)", st.VCard)
	}
	// A copy of the log, as a backup would hold it, taken before erasure.
	copyLog(t, filepath.Join(dir, "data"), filepath.Join(dir, "backup"))

	out := mustRun(t, dir, "", "user", "erase", "alice@localhost").stdout
	if !strings.Contains(out, "erased alice@localhost: 1 keys destroyed") {
		t.Errorf("erase said %q", out)
	}
	if r := xmppd(t, dir, "", "user", "erase", "alice@localhost"); r.code == 0 {
		t.Error("erasing an erased account succeeded")
	}
	for _, store := range []string{"", filepath.Join(dir, "backup", "xmppd.db")} {
		args := []string{}
		if store != "" {
			args = []string{"--store-path", store}
		}
		st := replayAt(t, dir, before, args...)
		if st.VCard != "(erased)" || st.PEPText() != "[]" {
			t.Errorf("replay %s after erasure: vcard %q, pep %s; want (erased) and no item", store, st.VCard, st.PEPText())
		}
		audit := mustRun(t, dir, "", append([]string{"audit", "--user", "alice@localhost"}, args...)...).stdout
		for _, want := range []string{"vCard set: content (erased)", "private XML stored: <note xmlns='urn:example:note'/>: content (erased)",
			"to PEP node http://jabber.org/protocol/nick: content (erased)", "status and stanza (erased)"} {
			if !strings.Contains(audit, want) {
				t.Errorf("audit %s lacks %q:\n%s", store, want, audit)
			}
		}
		if store == "" && !strings.Contains(audit, "account erased: 1 keys destroyed") {
			t.Errorf("audit lacks the erasure:\n%s", audit)
		}
		for _, s := range secrets {
			if strings.Contains(audit, s) {
				t.Errorf("audit %s shows %q after erasure", store, s)
			}
		}
		mustRun(t, dir, "", append([]string{"verify"}, args...)...)
	}
	// The account is gone: its password no longer logs in.
	srv = startServe(t, dir)
	c := dialXMPP(t, srv.directTLS)
	if c.plain("alice", "alice-pw") {
		t.Error("the erased account still logs in")
	}
	// The address registered again the same month: its new content is
	// sealed under a new key (keystore's "~2" generation) and served.
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "new-pw")
	again := dialXMPP(t, srv.directTLS)
	again.login("alice", "new-pw", "phone")
	again.send(`<iq type='set' id='v2'><vCard xmlns='vcard-temp'><FN>New-Alice</FN></vCard></iq>`)
	if n := again.await("iq", "v2"); n.attr("type") != "result" {
		t.Fatalf("vCard set by the new alice: %+v", n)
	}
	again.send(`<presence><status>back</status></presence>`)
	again.ping("again")
	srv.stop(t, syscall.SIGTERM)
	if st := replayAt(t, dir, time.Now().UTC().Format(time.RFC3339Nano)); !strings.Contains(st.VCard, "New-Alice") {
		t.Errorf("replay of the new alice: vcard %q", st.VCard)
	}
}

type replayed struct {
	VCard string          `json:"vcard"`
	PEP   json.RawMessage `json:"pep"`
}

// PEPText is the replayed PEP nodes' items as JSON ("[]" for none).
func (r replayed) PEPText() string {
	var nodes []struct{ Items json.RawMessage }
	json.Unmarshal(r.PEP, &nodes)
	var items []string
	for _, n := range nodes {
		if s := string(n.Items); s != "" && s != "null" && s != "[]" {
			items = append(items, s)
		}
	}
	return "[" + strings.Join(items, ",") + "]"
}

func replayAt(t *testing.T, dir, at string, extra ...string) replayed {
	t.Helper()
	r := mustRun(t, dir, "", append([]string{"replay", "--at", at, "--user", "alice@localhost", "--format", "json"}, extra...)...)
	var st replayed
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("replay output %q: %v", r.stdout, err)
	}
	return st
}

// readLogFiles is every file of the log (the database and its WAL).
func readLogFiles(t *testing.T, dir, name string) []byte {
	t.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name+suffix))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}
