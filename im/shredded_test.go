package im_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"xmppd/events"
	"xmppd/stanza"
)

// Issue 13: personal content is sealed in the log, and once its key is
// destroyed the server answers as if it were absent, after a restart
// rebuilds the views: an empty vCard (XEP-0054 3.3), empty private XML
// (XEP-0049 2), no PEP item (XEP-0060 6.5). The account itself, whose
// record is not sealed, still exists and logs in.
func TestDestroyedKeysServeAbsentContent(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	a := e.login("alice", "phone")
	for id, payload := range map[string]string{
		"v": `<vCard xmlns='vcard-temp'><FN>Alice-Sealed</FN></vCard>`,
		"p": `<query xmlns='jabber:iq:private'><prefs xmlns='example:prefs'>sealed-prefs</prefs></query>`,
		"n": `<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:example:notes'><item id='i1'><note xmlns='urn:example:notes'>sealed-note</note></item></publish></pubsub>`,
	} {
		if res := a.iq(id, `<iq type='set' id='%s'>%s</iq>`, id, payload); res.Attr("type") != "result" {
			t.Fatalf("%s: %s", id, res)
		}
	}
	// The log holds none of it in clear.
	for ev, err := range e.store.ReadStream(t.Context(), events.AccountStream("alice@localhost"), 1) {
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"Alice-Sealed", "sealed-prefs", "sealed-note"} {
			if strings.Contains(string(ev.Data), s) {
				t.Errorf("%s holds %q in clear: %s", ev.Type, s, ev.Data)
			}
		}
	}
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.keys.Destroy("alice@localhost", events.GoneExpired); err != nil {
		t.Fatal(err)
	}
	e.start()
	a = e.login("alice", "phone")
	if res := a.iq("g1", `<iq type='get' id='g1'><vCard xmlns='vcard-temp'/></iq>`); res.Attr("type") != "result" ||
		res.Child("vCard", "vcard-temp") == nil || len(res.Child("vCard", "vcard-temp").Elements()) != 0 {
		t.Errorf("vCard after its key is gone: %s, want an empty <vCard/>", res)
	}
	if res := a.iq("g2", `<iq type='get' id='g2'><query xmlns='jabber:iq:private'><prefs xmlns='example:prefs'/></query></iq>`); res.Attr("type") != "result" ||
		strings.Contains(res.String(), "sealed-prefs") {
		t.Errorf("private XML after its key is gone: %s", res)
	}
	res := a.iq("g3", `<iq type='get' id='g3'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:example:notes'/></pubsub></iq>`)
	if res.Attr("type") != "result" || strings.Contains(res.String(), "sealed-note") || strings.Contains(res.String(), "<item ") {
		t.Errorf("PEP items after the key is gone: %s", res)
	}
}

// Issue 13 and XEP-0313: archived messages are sealed under the key of
// each archive's owner. Once alice's keys are destroyed, a restart
// rebuilds the index (which needs no key) and MAM still lists every one
// of alice's entries, with the same ids and times, each a message from
// and to the right parties whose XEP-0428 fallback body says "(erased)"
// and whose <gone/> says why; bob's copies of the same messages, sealed
// under bob's key, still read. No query fails, and the log file holds
// no message text in clear.
func TestMAMArchivedContentShreddedWithOwnersKeys(t *testing.T) {
	e, a, b := twoUsers(t)
	texts := []string{"archived-secret-one", "archived-secret-two"}
	a.send(`<message to='%s' type='chat' id='m1'><body>%s</body></message>`, b.jid, texts[0])
	b.expect(message(a.jid, texts[0]))
	b.send(`<message to='%s' type='chat' id='m2'><body>%s</body></message>`, a.jid, texts[1])
	a.expect(message(b.jid, texts[1]))
	before, _ := mamQuery(a, "q0", nil, "")
	if got := bodies(before); !slices.Equal(got, texts) {
		t.Fatalf("alice's archive before: %v", got)
	}
	for ev, err := range e.store.ReadStream(t.Context(), events.ArchiveStream("alice@localhost"), 1) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.SchemaVersion != 2 || !strings.Contains(string(ev.Data), `"account":"alice@localhost"`) {
			t.Errorf("alice's archive event not sealed under alice's key: schema %d %s", ev.SchemaVersion, ev.Data)
		}
	}
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	e.logFilesHoldNone(texts...)
	if _, err := e.keys.Destroy("alice@localhost", events.GoneErased); err != nil {
		t.Fatal(err)
	}
	e.start()
	a, b = e.login("alice", "phone"), e.login("bob", "laptop")

	rs, ans := mamQuery(a, "q1", nil, "")
	if complete, _, _, count := fin(t, ans); !complete || count != "2" || len(rs) != 2 {
		t.Fatalf("alice's archive after erasure: %d results, %s", len(rs), ans)
	}
	for i, r := range rs {
		if r.id != before[i].id || r.stamp != before[i].stamp {
			t.Errorf("entry %d: id %s at %s, want %s at %s", i, r.id, r.stamp, before[i].id, before[i].stamp)
		}
		gone := r.msg.Child("gone", stanza.NSArchiveGone)
		fb := r.msg.Child("fallback", stanza.NSFallback)
		if r.body() != "(erased)" || gone == nil || gone.Attr("reason") != "erased" || fb == nil || fb.Attr("for") != stanza.NSArchiveGone {
			t.Errorf("entry %d after erasure: %s", i, r.msg)
		}
		if strings.Contains(r.msg.String(), "archived-secret") {
			t.Errorf("entry %d still readable: %s", i, r.msg)
		}
	}
	// The parties stay, from the clear record: alice sent the first to
	// bob and received the second from bob.
	if rs[0].msg.Attr("from") != "alice@localhost" || rs[0].msg.Attr("to") != b.jid ||
		rs[1].msg.Attr("from") != b.jid || rs[1].msg.Attr("to") != "alice@localhost" {
		t.Errorf("parties of the erased entries: %s / %s", rs[0].msg, rs[1].msg)
	}

	rs, _ = mamQuery(b, "q2", nil, "")
	if got := bodies(rs); !slices.Equal(got, texts) {
		t.Errorf("bob's archive after alice's erasure: %v, want %v", got, texts)
	}
}

// logFilesHoldNone fails the test if any of the log's files, its
// write-ahead log included (where recent commits are until a
// checkpoint), holds one of texts in clear. Call it with the server
// stopped.
func (e *env) logFilesHoldNone(texts ...string) {
	e.t.Helper()
	files, _ := filepath.Glob(filepath.Join(e.dir, "xmppd.db*"))
	if len(files) == 0 {
		e.t.Fatal("no log file")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, s := range texts {
			if bytes.Contains(raw, []byte(s)) {
				e.t.Errorf("%s holds %q in clear", filepath.Base(f), s)
			}
		}
	}
}
