package main_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Issue 13: a message stored offline (XEP-0160) is sealed under the
// recipient's key, through the real binary with the archive on. The
// log's files never hold its text; a server killed with SIGKILL and
// started again still delivers it whole, opening it with the key store;
// audit shows it by its size; once the recipient is erased (`user
// erase`), audit shows what was queued for them as erased, in the live
// log and in a copy taken before, and verify exits 0.
func TestOfflineMessageSealedAndDeliveredAfterRestart(t *testing.T) {
	dir := aliceAndBob(t, "")
	srv := startServe(t, dir, "XMPPD_ARCHIVE_ENABLED=true")
	alice := dialXMPP(t, srv.directTLS)
	alice.login("alice", "alice-pw", "phone")
	alice.send(`<message type='chat' to='bob@localhost' id='o1'><body>offline-sealed-one</body></message>`)
	alice.pingJID("bob@localhost", "stored1") // after bob's queue has it
	srv.stop(t, syscall.SIGKILL)

	if raw := readLogFiles(t, filepath.Join(dir, "data"), "xmppd.db"); bytes.Contains(raw, []byte("offline-sealed-one")) {
		t.Error("the log file holds the offline message in clear")
	}
	if audit := mustRun(t, dir, "", "audit", "--user", "bob@localhost").stdout; !strings.Contains(audit, "message from alice@localhost/phone queued offline (") {
		t.Errorf("audit of bob lacks the queued message:\n%s", audit)
	}

	srv.start(t)
	bob := dialXMPP(t, srv.directTLS)
	bob.login("bob", "bob-pw", "desk")
	bob.send(`<presence/>`)
	for {
		m, err := bob.nextChat()
		if err != nil {
			t.Fatalf("bob after the restart: %v", err)
		}
		if m.XMLName.Local == "message" && m.ID == "o1" {
			if m.Body != "offline-sealed-one" {
				t.Errorf("offline message after the restart: %+v", m)
			}
			break
		}
	}
	srv.stop(t, syscall.SIGTERM)

	copyLog(t, filepath.Join(dir, "data"), filepath.Join(dir, "backup"))
	mustRun(t, dir, "", "user", "erase", "bob@localhost")
	for _, store := range []string{"", filepath.Join(dir, "backup", "xmppd.db")} {
		args := []string{"audit", "--user", "bob@localhost"}
		if store != "" {
			args = append(args, "--store-path", store)
		}
		audit := mustRun(t, dir, "", args...).stdout
		if !strings.Contains(audit, "message from alice@localhost/phone queued offline: content (erased)") {
			t.Errorf("audit of bob %s after erasure does not show the queued message erased:\n%s", store, audit)
		}
		verify := []string{"verify"}
		if store != "" {
			verify = append(verify, "--store-path", store)
		}
		mustRun(t, dir, "", verify...)
	}
}

// Issue 13 with issue 10's full disk: an offline message is sealed under
// its recipient's key, and the first message of the month for an account
// makes that key, in keys.db. When the disk is full that write fails, and
// the sender gets the message back as <resource-constraint/> of type wait
// (RFC 6120 8.3.3.18), as for a store that refuses the write; once the
// disk has room the same message is sealed, stored, and delivered.
func TestFullKeyStoreBouncesOfflineMessage(t *testing.T) {
	data, srv, bob := fullDiskAliceAndBob(t)
	release := fillDisk(t, data)
	defer release()
	bob.sendBounced(t, "full1", "no key on a full disk")
	eventually(t, "the server log to say the key could not be made", func() bool {
		return strings.Contains(srv.log(), "keystore: make key alice@localhost")
	})
	// The operator hears of it as of the log refusing writes (/healthz
	// answers from the same health), and of its end.
	eventually(t, "the server log to say the store refuses writes", func() bool {
		return strings.Contains(srv.log(), "store refuses writes")
	})
	release()
	eventually(t, "the server log to say the store takes writes again", func() bool {
		return strings.Contains(srv.log(), "store takes writes again") || strings.Contains(srv.log(), "it takes writes again")
	})
	storedOnceThereIsRoom(t, srv, bob)
}

// fullDiskAliceAndBob starts xmppd with its data directory on a small
// disk (fullDiskDir) and the accounts alice and bob, and logs bob in.
func fullDiskAliceAndBob(t *testing.T) (data string, srv *serverProc, bob *rawXMPP) {
	t.Helper()
	data = fullDiskDir(t)
	// The archive is off: these tests show offline storage on a full
	// disk (with the archive on, the message is refused at its archiving
	// and bounces the same way, before offline storage is tried).
	srv = startServe(t, aliceAndBob(t, data), "XMPPD_DATA_DIR="+data, "XMPPD_ARCHIVE_ENABLED=false")
	bob = dialXMPP(t, srv.directTLS)
	bob.login("bob", "bob-pw", "desk")
	bob.pingJID("bob@localhost", "up")
	return data, srv, bob
}

// sendBounced sends alice, who is offline, a message and checks that
// it comes back as an error of type wait, <resource-constraint/> (RFC
// 6120 8.3.3.18: the server lacks the resources; try later).
func (c *rawXMPP) sendBounced(t *testing.T, id, body string) {
	t.Helper()
	c.send(`<message type='chat' to='alice@localhost' id='` + id + `'><body>` + body + `</body></message>`)
	n := c.await("message", id)
	if typ, cond := stanzaError(n); n.attr("type") != "error" || typ != "wait" || cond != "resource-constraint" {
		t.Fatalf("message to an offline user on a full disk came back as type %q, error %q/%q; want error wait/resource-constraint: %+v", n.attr("type"), typ, cond, n)
	}
}

// storedOnceThereIsRoom has bob send alice a message once the disk has
// room, and checks it is the first message alice gets when she comes
// online: the one that bounced was not stored.
func storedOnceThereIsRoom(t *testing.T, srv *serverProc, bob *rawXMPP) {
	t.Helper()
	bob.send(`<message type='chat' to='alice@localhost' id='room1'><body>with room</body></message>`)
	bob.pingJID("alice@localhost", "stored")
	alice := dialXMPP(t, srv.directTLS)
	alice.login("alice", "alice-pw", "phone")
	alice.send(`<presence/>`)
	if m := alice.await("message", ""); m.attr("id") != "room1" {
		t.Errorf("alice got %+v first; want the message sent once the disk had room (the bounced one is not stored)", m)
	}
	alice.pingJID("alice@localhost", "end")
}
