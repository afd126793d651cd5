package im_test

import (
	"path/filepath"
	"strings"
	"testing"

	"xmppd/adapters/keystore"
	"xmppd/events"
)

// Issue 13: a message stored offline (XEP-0160) and directed presence
// (RFC 6121 4.6) are personal content: offline.queued is sealed under the
// recipient's key, the queue's owner, and presence.directed under the
// sender's. Neither text is in the log's files (the write-ahead log
// included), the queued message is still delivered whole after a
// restart rebuilds the views, with the key store opening it, and once
// the recipient's keys are destroyed the queued stanza reads as erased.
func TestOfflineAndDirectedPresenceSealed(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.addUser("carol")
	e.addUser("dave")
	e.start()
	a := e.login("alice", "phone")
	a.online(0)
	const text, status = "offline-secret-words", "directed-secret-status"
	a.send(`<message to='bob@localhost' type='chat' id='off1'><body>%s</body></message>`, text)
	a.send(`<presence to='carol@localhost'><status>%s</status></presence>`, status)
	e.eventually("offline.queued", func() bool { return len(e.srv.Views().Offline("bob@localhost")) == 1 })
	e.eventually("presence.directed", func() bool {
		_, ps := e.readStream(events.PresenceStream("alice@localhost"))
		return len(ofType[events.DirectedPresence](ps)) == 1
	})

	envs, ps := e.readStream(events.OfflineStream("bob@localhost"))
	q := ofType[events.OfflineQueued](ps)
	if len(q) != 1 || envs[0].SchemaVersion != 2 || q[0].Sealed == nil || q[0].Sealed.Account != "bob@localhost" || q[0].Stanza != "" || q[0].From != a.jid {
		t.Fatalf("offline.queued not sealed under bob's key: %s", envs[0].Data)
	}
	_, ps = e.readStream(events.PresenceStream("alice@localhost"))
	d := ofType[events.DirectedPresence](ps)
	if d[0].Sealed == nil || d[0].Sealed.Account != "alice@localhost" || d[0].Stanza != "" || d[0].To != "carol@localhost" {
		t.Fatalf("presence.directed not sealed under alice's key: %+v", d[0])
	}
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	e.logFilesHoldNone(text, status)

	// A restart rebuilds the queue from the log, opening it with the key.
	e.start()
	if q := e.srv.Views().Offline("bob@localhost"); len(q) != 1 || !strings.Contains(q[0].Stanza, text) || q[0].Gone != "" {
		t.Fatalf("bob's queue after restart: %+v", q)
	}
	b := e.login("bob", "pc")
	b.send(`<presence/>`)
	b.expect(message(a.jid, text))
	e.eventually("offline.delivered", func() bool { return len(e.srv.Views().Offline("bob@localhost")) == 0 })

	// Another message waits for dave; dave's keys are then destroyed
	// (what erasure and retention do): after a restart it reads as
	// expired, and is not delivered, but recorded as done with.
	a = e.login("alice", "phone")
	a.online(0)
	a.send(`<message to='dave@localhost' type='chat' id='off2'><body>%s-2</body></message>`, text)
	e.eventually("dave's offline.queued", func() bool { return len(e.srv.Views().Offline("dave@localhost")) == 1 })
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.keys.Destroy("dave@localhost", events.GoneExpired); err != nil {
		t.Fatal(err)
	}
	e.start()
	if items := e.srv.Views().Offline("dave@localhost"); len(items) != 1 || items[0].Gone != events.GoneExpired || items[0].Stanza != "" || items[0].From != a.jid {
		t.Fatalf("dave's queue once his keys are gone: %+v", items)
	}
	dv := e.login("dave", "pc")
	dv.send(`<presence/>`)
	dv.never(anyMessage(), dv.pingSelf())
	e.eventually("unreadable item recorded delivered", func() bool { return len(e.srv.Views().Offline("dave@localhost")) == 0 })
}

// A stanza queued under a key the key store does not hold ("missing":
// keys.db lost or replaced by a new one, not erased or expired) is not
// taken as delivered: no offline.delivered is recorded, and it stays
// queued, with what follows it, across sessions and restarts. The new
// key file names its keys apart from the lost one's (keystore.TagNewKeys),
// so the server still starts after sealing new content with it, and
// once the old file is restored the queue is delivered, in order
// (nothing lost, DESIGN.md).
func TestOfflineStanzaWithMissingKeyStaysQueued(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a := e.login("alice", "phone")
	a.online(0)
	a.send(`<message to='bob@localhost' type='chat' id='k1'><body>kept-one</body></message>`)
	a.send(`<message to='bob@localhost' type='chat' id='k2'><body>kept-two</body></message>`)
	e.eventually("two offline.queued", func() bool { return len(e.srv.Views().Offline("bob@localhost")) == 2 })
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	useKeys := func(path string) {
		t.Helper()
		if err := e.keys.Close(); err != nil {
			t.Fatal(err)
		}
		var err error
		if e.keys, err = keystore.Open(path, false); err != nil {
			t.Fatal(err)
		}
	}
	// The operator starts the server with a new, empty key file.
	useKeys(filepath.Join(t.TempDir(), "keys.db"))
	for round := range 2 { // a session, then another after a restart
		e.start()
		if items := e.srv.Views().Offline("bob@localhost"); len(items) != 2 || items[0].Gone != events.GoneMissing || items[1].Gone != events.GoneMissing {
			t.Fatalf("round %d: bob's queue with the key file lost: %+v", round, items)
		}
		b := e.login("bob", "pc") // seals bob's presence under the new file's key
		b.send(`<presence/>`)
		b.never(anyMessage(), b.pingSelf())
		b.quit()
		if err := e.stop(); err != nil {
			t.Fatal(err)
		}
		_, ps := e.readStream(events.OfflineStream("bob@localhost"))
		if d := ofType[events.OfflineDelivered](ps); len(d) != 0 {
			t.Fatalf("round %d: offline.delivered recorded for stanzas never delivered: %+v", round, d)
		}
	}
	// The old key file is restored: the queue is delivered.
	useKeys(filepath.Join(e.dir, "keys.db"))
	e.start()
	b := e.login("bob", "pc")
	b.send(`<presence/>`)
	b.expect(message(a.jid, "kept-one"))
	b.expect(message(a.jid, "kept-two"))
	e.eventually("offline.delivered", func() bool { return len(e.srv.Views().Offline("bob@localhost")) == 0 })
}
