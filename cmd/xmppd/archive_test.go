package main_test

import (
	"testing"
)

// TestFullDiskArchiveRefusedIsNotDelivered: a message is delivered only
// once the archive holds it (DESIGN.md, the flow of one stanza; XEP-0313
// 3.5). With the disk full, bob's message to alice, who is online, cannot
// be archived: bob gets it back as <resource-constraint/> of type wait
// (RFC 6120 8.3.3.18) and alice never sees it; once the disk has room
// the next message is archived and delivered with its stanza-id.
func TestFullDiskArchiveRefusedIsNotDelivered(t *testing.T) {
	data := fullDiskDir(t)
	dir := aliceAndBob(t, data)
	srv := startServe(t, dir, "XMPPD_DATA_DIR="+data, "XMPPD_ARCHIVE_ENABLED=true")

	alice := dialXMPP(t, srv.directTLS)
	alice.login("alice", "alice-pw", "phone")
	alice.send(`<presence/>`)
	alice.pingJID("alice@localhost", "up")
	bob := dialXMPP(t, srv.directTLS)
	bob.login("bob", "bob-pw", "desk")
	bob.pingJID("bob@localhost", "up")
	release := fillDisk(t, data)
	defer release()

	bob.send(`<message type='chat' to='alice@localhost/phone' id='full1'><body>not archived</body></message>`)
	n := bob.await("message", "full1")
	if typ, cond := stanzaError(n); n.attr("type") != "error" || typ != "wait" || cond != "resource-constraint" {
		t.Fatalf("a message that could not be archived came back as type %q, error %q/%q; want error wait/resource-constraint", n.attr("type"), typ, cond)
	}

	release()
	eventually(t, "/healthz to be 200 once the disk has room", func() bool {
		code, _ := httpGet(t, "http://"+srv.metrics+"/healthz")
		return code == 200
	})
	bob.send(`<message type='chat' to='alice@localhost/phone' id='room1'><body>archived</body></message>`)
	m := alice.await("message", "")
	if m.attr("id") != "room1" {
		t.Fatalf("alice got %+v first; want only the message archived once the disk had room", m)
	}
	stamped := false
	for _, c := range m.Nodes {
		stamped = stamped || (c.XMLName.Local == "stanza-id" && c.XMLName.Space == "urn:xmpp:sid:0" && c.attr("by") == "alice@localhost")
	}
	if !stamped {
		t.Errorf("the archived message has no stanza-id by alice@localhost: %+v", m)
	}
}
