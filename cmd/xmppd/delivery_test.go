package main_test

import (
	"crypto/tls"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Tests of the delivery rule through the real binary (issue 10, items 1
// to 4): every message is written to a live session, stored offline, or
// bounced to its sender with the right error, never dropped.

// dialReadBuf is dialXMPP with the client's socket receive buffer set to
// readBuf bytes before the TLS handshake, so that a client that reads
// slowly, or not at all, pushes back on the server after little data.
func dialReadBuf(t *testing.T, addr string, readBuf int) *rawXMPP {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, readBuf)
		})
		return serr
	}}
	conn, err := tls.DialWithDialer(&d, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawXMPP{t: t, conn: conn, d: xml.NewDecoder(conn)}
	c.open()
	return c
}

// tryNext is next without failing the test: err is the read error (a
// closed stream, a deadline) once there is nothing more to read.
func (c *rawXMPP) tryNext(wait time.Duration) (xmlNode, error) {
	c.conn.SetReadDeadline(time.Now().Add(wait))
	for {
		tok, err := c.d.Token()
		if err != nil {
			return xmlNode{}, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local == "stream" {
				return xmlNode{XMLName: se.Name}, nil
			}
			var n xmlNode
			if err := c.d.DecodeElement(&n, &se); err != nil {
				return xmlNode{}, err
			}
			if c.answerPing(n) {
				continue
			}
			return n, nil
		}
	}
}

// pingJID sends a XEP-0199 ping to addr and waits for its answer. To an
// account's bare JID it is answered on the account's queue, after every
// stanza sent to the account before it (RFC 6121 8.5.2.1.3): its answer,
// a result or (from a stranger, who may not learn more) an error, proves
// those were delivered, stored or bounced.
func (c *rawXMPP) pingJID(addr, id string) xmlNode {
	c.t.Helper()
	c.send(`<iq type='get' id='` + id + `' to='` + addr + `'><ping xmlns='urn:xmpp:ping'/></iq>`)
	return c.await("iq", id)
}

// bigMessage is a chat message of about size bytes whose id and body
// name it.
func bigMessage(to, id string, size int) string {
	return `<message type='chat' to='` + to + `' id='` + id + `'><body>` + id + ` ` + strings.Repeat("x", size) + `</body></message>`
}

// aliceAndBob makes the accounts alice (password alice-pw) and bob
// (bob-pw) in a new directory, with their log in data if not "", and
// returns the directory.
func aliceAndBob(t *testing.T, data string) string {
	t.Helper()
	dir := t.TempDir()
	for _, u := range []string{"alice", "bob"} {
		argv := []string{"user", "add", u + "@localhost", "--password", u + "-pw"}
		if data != "" {
			argv = append(argv, "--data-dir", data)
		}
		mustRun(t, dir, "", argv...)
	}
	return dir
}

// offlineDelivered returns the 'through' of every offline.delivered event
// in the log of dir, in log order, with the resource it went to.
func offlineDelivered(t *testing.T, dir string) (through []uint64, resources []string) {
	t.Helper()
	for _, e := range readJSONL(t, mustRun(t, dir, "", "export").stdout) {
		if e.Type != "offline.delivered" {
			continue
		}
		var d struct {
			Through  uint64 `json:"through"`
			Resource string `json:"resource"`
		}
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		through, resources = append(through, d.Through), append(resources, d.Resource)
	}
	return through, resources
}

// TestOfflineBacklogRecordedOnlyAsWritten is issue 10's defect 1: 300
// offline messages of 60 KB; the owner's first session reads a few and
// stops reading. Offline delivery is recorded only through what was
// written to that session's connection, and the next session gets every
// message the first did not (XEP-0160 section 3), so none is lost.
func TestOfflineBacklogRecordedOnlyAsWritten(t *testing.T) {
	dir := aliceAndBob(t, "")
	srv := startServe(t, dir)

	const total, size = 300, 60 << 10
	bob := dialXMPP(t, srv.directTLS)
	bob.login("bob", "bob-pw", "desk")
	for i := range total {
		bob.send(bigMessage("alice@localhost", fmt.Sprintf("m%03d", i), size))
	}
	bob.pingJID("alice@localhost", "stored")

	// The first session: a small receive buffer, reads 20 messages, then
	// its connection is cut without a word.
	got := map[string]int{}
	first := dialReadBuf(t, srv.directTLS, 16<<10)
	first.login("alice", "alice-pw", "phone")
	first.send(`<presence/>`)
	for len(got) < 20 {
		n := first.next()
		if n.XMLName.Local == "message" {
			got[n.attr("id")]++
		}
	}
	first.conn.NetConn().Close()

	// The second session gets the rest: the first one's delivery ends
	// when its writes fail, on the account's queue, before this one's.
	second := dialXMPP(t, srv.directTLS)
	second.login("alice", "alice-pw", "laptop")
	second.send(`<presence/>`)
	for missing := total - len(got); missing > 0; {
		n, err := second.tryNext(20 * time.Second)
		if err != nil {
			t.Fatalf("second session: %d messages never came (%v)", missing, err)
		}
		if n.XMLName.Local != "message" {
			continue
		}
		if got[n.attr("id")] == 0 {
			missing--
		}
		got[n.attr("id")]++
	}
	if r := second.pingJID("alice@localhost", "done"); r.attr("type") != "result" {
		t.Fatalf("ping: %+v", r)
	}
	srv.stop(t, syscall.SIGTERM)

	through, resources := offlineDelivered(t, dir)
	var phone, laptop uint64
	for i, v := range through {
		switch resources[i] {
		case "phone":
			phone = max(phone, v)
		case "laptop":
			laptop = max(laptop, v)
		}
	}
	t.Logf("first session recorded through %d of %d (%v), second through %d; %d distinct messages received", phone, total, through, laptop, len(got))
	if phone >= total {
		t.Errorf("offline delivery to the session that stopped reading was recorded through %d of %d: more than its connection took", phone, total)
	}
	if laptop != total {
		t.Errorf("offline delivery recorded through %d, want %d", laptop, total)
	}
	if len(got) != total {
		t.Errorf("%d distinct messages reached alice, want %d", len(got), total)
	}
}

// TestMessagesToAClosingSessionAreNotLost is issue 10's defect 2: a
// session that never reads is closed with <resource-constraint/> when
// its output queue overflows (RFC 6120 4.9.3.17). What was queued for it
// and what still arrives for it while it closes is stored offline (its
// account has no other resource), so every message reaches the account:
// either written to that session's connection (the test reads what the
// connection holds afterwards) or delivered at the next login, and none
// twice.
func TestMessagesToAClosingSessionAreNotLost(t *testing.T) {
	dir := aliceAndBob(t, "")
	srv := startServe(t, dir, "XMPPD_C2S_QUEUE_BYTES=65536", "XMPPD_C2S_WRITE_TIMEOUT=2s")

	dead := dialReadBuf(t, srv.directTLS, 4<<10)
	dead.login("alice", "alice-pw", "dead")
	dead.send(`<presence/>`)
	dead.await("presence", "") // its own presence: available now

	const total, size = 400, 16 << 10
	bob := dialXMPP(t, srv.directTLS)
	bob.login("bob", "bob-pw", "desk")
	for i := range total {
		bob.send(bigMessage("alice@localhost/dead", fmt.Sprintf("m%03d", i), size))
	}
	bob.pingJID("alice@localhost", "routed")

	// Whatever reached the dead session's connection, read now.
	got := map[string]int{}
	sawConstraint := false
	for {
		n, err := dead.tryNext(5 * time.Second)
		if err != nil {
			break
		}
		switch n.XMLName.Local {
		case "message":
			got[n.attr("id")]++
		case "error":
			sawConstraint = sawConstraint || n.child("resource-constraint")
		}
	}
	if !sawConstraint {
		t.Error("the session that did not read was not closed with <resource-constraint/>")
	}
	written := len(got)

	next := dialXMPP(t, srv.directTLS)
	next.login("alice", "alice-pw", "phone")
	next.send(`<presence/>`)
	for len(got) < total {
		n, err := next.tryNext(20 * time.Second)
		if err != nil {
			t.Fatalf("after the login, %d of %d messages have reached alice (%v)", len(got), total, err)
		}
		if n.XMLName.Local == "message" {
			got[n.attr("id")]++
		}
	}
	// A round trip after the last: anything more (a duplicate) is in.
	next.pingJID("alice@localhost", "end")
	for id, n := range got {
		if n != 1 {
			t.Errorf("message %s reached alice %d times", id, n)
		}
	}
	// Nothing bounced to bob: read up to the answer of a ping.
	bob.send(`<iq type='get' id='last'><ping xmlns='urn:xmpp:ping'/></iq>`)
	for {
		n := bob.next()
		if n.XMLName.Local == "message" && n.attr("type") == "error" {
			t.Errorf("message %s bounced to bob: %+v", n.attr("id"), n)
		}
		if n.XMLName.Local == "iq" && n.attr("id") == "last" {
			break
		}
	}
	t.Logf("%d messages written to the closing session's connection, %d stored and delivered at the next login", written, total-written)
}

// TestFullDiskBouncesWhatCannotBeStored is issue 10's defect 3: with the
// disk full, a message for an offline user cannot be stored, so its
// sender gets it back as an error, <resource-constraint/> of type wait
// (RFC 6120 8.3.3.18: the server lacks the resources; try later), not
// silence. Once the disk has room the same message is stored and
// delivered at the next login.
func TestFullDiskBouncesWhatCannotBeStored(t *testing.T) {
	data, srv, bob := fullDiskAliceAndBob(t)
	// alice's key for the month exists before the disk fills, as it does
	// for anyone who used the server this month (her vCard is sealed
	// under it); she is not available, so messages to her are stored.
	// This test is about the event store refusing writes; a key store
	// that cannot make a key: TestFullKeyStoreBouncesOfflineMessage.
	keys := dialXMPP(t, srv.directTLS)
	keys.login("alice", "alice-pw", "keys")
	keys.send(`<iq type='set' id='v'><vCard xmlns='vcard-temp'><FN>Alice</FN></vCard></iq>`)
	if n := keys.await("iq", "v"); n.attr("type") != "result" {
		t.Fatalf("alice's vCard: %+v", n)
	}
	release := fillDisk(t, data)
	defer release()

	bob.sendBounced(t, "full1", "on a full disk")

	release()
	eventually(t, "/healthz to be 200 once the disk has room", func() bool {
		code, _ := httpGet(t, "http://"+srv.metrics+"/healthz")
		return code == 200
	})
	// The server's log says when writes stopped and when they resumed.
	eventually(t, "the server log to tell the store's failure and recovery", func() bool {
		l := srv.log()
		told := strings.Contains(l, "store refuses writes") && strings.Contains(l, "database or disk is full") && strings.Contains(l, "store takes writes again")
		return told || strings.Contains(l, "store refused writes for less than a second")
	})
	storedOnceThereIsRoom(t, srv, bob)
}

// TestFullDiskSessionEndRecordedOnceTheStoreTakesWrites is issue 10's
// defect 4: a session that ends while the store refuses writes is no
// ghost. Messages to it are not dropped (its account has no other
// resource, storage fails, so they bounce), and once the disk has room
// its end is recorded and broadcast: the contact it sent directed
// presence to gets its unavailable presence (RFC 6121 4.6.3), and the
// log holds session.ended.
func TestFullDiskSessionEndRecordedOnceTheStoreTakesWrites(t *testing.T) {
	data := fullDiskDir(t)
	dir := aliceAndBob(t, data)
	srv := startServe(t, dir, "XMPPD_DATA_DIR="+data)

	bob := dialXMPP(t, srv.directTLS)
	bob.login("bob", "bob-pw", "desk")
	bob.send(`<presence/>`)
	bob.pingJID("bob@localhost", "available")
	alice := dialXMPP(t, srv.directTLS)
	alice.login("alice", "alice-pw", "phone")
	alice.send(`<presence/>`)
	alice.send(`<presence to='bob@localhost'/>`)
	for {
		p := bob.await("presence", "")
		if p.attr("from") == "alice@localhost/phone" && p.attr("type") == "" {
			break
		}
	}

	release := fillDisk(t, data)
	defer release()
	alice.send(`</stream:stream>`)
	for {
		if _, err := alice.tryNext(5 * time.Second); err != nil {
			break // the server closed its side: the session is over
		}
	}

	bob.send(`<message type='chat' to='alice@localhost/phone' id='ghost1'><body>are you there?</body></message>`)
	var n xmlNode
	for n.attr("id") != "ghost1" {
		var err error
		if n, err = bob.tryNext(15 * time.Second); err != nil {
			t.Fatalf("no answer to the message for the ended session (%v); server log:\n%s", err, srv.log())
		}
	}
	if typ, cond := stanzaError(n); n.attr("type") != "error" || typ != "wait" || cond != "resource-constraint" {
		t.Fatalf("message to the ended session on a full disk came back as type %q, error %q/%q; want error wait/resource-constraint", n.attr("type"), typ, cond)
	}

	release()
	for {
		p, err := bob.tryNext(20 * time.Second)
		if err != nil {
			t.Fatalf("bob never got alice's unavailable presence once the disk had room (%v); server log:\n%s", err, srv.log())
		}
		if p.XMLName.Local == "presence" && p.attr("from") == "alice@localhost/phone" && p.attr("type") == "unavailable" {
			break
		}
	}
	srv.stop(t, syscall.SIGTERM)
	ended := 0
	for _, e := range readJSONL(t, mustRun(t, dir, "", "export", "--data-dir", data).stdout) {
		if e.Type == "session.ended" && e.Stream == "presence-alice@localhost" {
			ended++
		}
	}
	if ended != 1 {
		t.Errorf("alice's session ended %d times in the log, want once", ended)
	}
}

// TestOfflineStorageIsBounded is issue 10's defect 11 for offline
// storage: beyond offline.max_messages (or max_bytes) a message for an
// offline user is returned to its sender with <service-unavailable/>
// (XEP-0160 section 3: "the recipient's offline message queue is full"),
// and what was stored before is delivered whole.
func TestOfflineStorageIsBounded(t *testing.T) {
	dir := aliceAndBob(t, "")
	srv := startServe(t, dir, "XMPPD_OFFLINE_MAX_MESSAGES=3", "XMPPD_OFFLINE_MAX_BYTES=100000")

	bob := dialXMPP(t, srv.directTLS)
	bob.login("bob", "bob-pw", "desk")
	for i := range 4 {
		bob.send(fmt.Sprintf(`<message type='chat' to='alice@localhost' id='q%d'><body>%d</body></message>`, i, i))
	}
	n := bob.await("message", "q3")
	if typ, cond := stanzaError(n); n.attr("type") != "error" || typ != "cancel" || cond != "service-unavailable" {
		t.Fatalf("the 4th offline message came back as type %q, error %q/%q; want error cancel/service-unavailable", n.attr("type"), typ, cond)
	}
	// One message over the byte limit on its own is refused too.
	bob.send(bigMessage("alice@localhost", "huge", 120000))
	if typ, cond := stanzaError(bob.await("message", "huge")); typ != "cancel" || cond != "service-unavailable" {
		t.Fatalf("a message over offline.max_bytes came back with error %q/%q", typ, cond)
	}

	alice := dialXMPP(t, srv.directTLS)
	alice.login("alice", "alice-pw", "phone")
	alice.send(`<presence/>`)
	for i := range 3 {
		if m := alice.await("message", ""); m.attr("id") != fmt.Sprintf("q%d", i) {
			t.Fatalf("offline message %d: got %+v", i, m)
		}
	}
	// Nothing more: a round trip through alice's queue after them.
	alice.send(`<iq type='get' id='end' to='alice@localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if n := alice.next(); n.XMLName.Local != "iq" || n.attr("id") != "end" {
		t.Errorf("after the 3 stored messages alice got %+v", n)
	}
}
