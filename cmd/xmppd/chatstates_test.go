package main_test

import (
	"slices"
	"syscall"
	"testing"
)

// untilPing sends a XEP-0199 ping to addr and returns every message and
// IQ c reads before its answer, presence aside. A ping to an account's
// bare JID is answered on that account's queue after every stanza sent
// to it before (RFC 6121 8.5.2.1.3), so what came before the answer is
// all those stanzas produced: an empty list proves nothing else came.
func (c *rawXMPP) untilPing(addr, id string) []xmlNode {
	c.t.Helper()
	c.send(`<iq type='get' id='` + id + `' to='` + addr + `'><ping xmlns='urn:xmpp:ping'/></iq>`)
	var got []xmlNode
	for {
		n := c.next()
		switch {
		case n.XMLName.Local == "iq" && n.attr("id") == id:
			return got
		case n.XMLName.Local == "presence":
		default:
			got = append(got, n)
		}
	}
}

func ids(ns []xmlNode) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.XMLName.Local+"/"+n.attr("id")+"/"+n.attr("type"))
	}
	return out
}

// TestChatStatesAndNoStoreAreNotStoredOffline is issue 11's defect 7,
// through the binary. To an offline user:
//   - standalone chat states (XEP-0085), to the bare JID or to the full
//     JID of a resource that has gone (Profanity's /quit sends <gone/> so),
//     with a <thread/>, or with a <no-store/> hint, are not stored
//     (XEP-0160 section 3, XEP-0085 section 5.8) and the sender hears
//     nothing;
//   - a message with a body and <no-store/> or <no-permanent-store/>
//     (XEP-0334 4.2, 4.1; the offline queue is the permanent log) is not
//     stored, and its sender gets <service-unavailable/> (RFC 6121
//     8.5.2.2.1 (b)) rather than believing it will be delivered;
//   - a chat state with <store/> (XEP-0334 4.4) and a normal message with
//     a body are stored and are all that arrives at the next login.
//
// Then, with the user online, a chat state and a no-store message are
// delivered as before (RFC 6121 8.5.2.1.1).
func TestChatStatesAndNoStoreAreNotStoredOffline(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv := startServe(t, dir)

	bob := dialXMPP(t, srv.directTLS)
	bob.login("bob", "bob-pw", "desk")
	const cs = `xmlns='http://jabber.org/protocol/chatstates'`
	const hints = `xmlns='urn:xmpp:hints'`
	bob.send(`<message type='chat' to='alice@localhost' id='cs-composing'><composing ` + cs + `/></message>`)
	bob.send(`<message type='chat' to='alice@localhost/phone' id='cs-gone-full'><gone ` + cs + `/></message>`)
	bob.send(`<message type='chat' to='alice@localhost' id='cs-paused-thread'><paused ` + cs + `/><thread>t1</thread></message>`)
	bob.send(`<message to='alice@localhost' id='cs-inactive-normal'><inactive ` + cs + `/></message>`)
	bob.send(`<message type='chat' to='alice@localhost' id='cs-active-nostore'><active ` + cs + `/><no-store ` + hints + `/></message>`)
	bob.send(`<message type='chat' to='alice@localhost' id='nostore'><body>do not keep</body><no-store ` + hints + `/></message>`)
	bob.send(`<message type='chat' to='alice@localhost' id='nopermanent'><body>keep briefly</body><no-permanent-store ` + hints + `/></message>`)
	bob.send(`<message type='chat' to='alice@localhost' id='cs-store'><composing ` + cs + `/><store ` + hints + `/></message>`)
	bob.send(`<message type='chat' to='alice@localhost' id='body'><body>hello</body><active ` + cs + `/></message>`)

	got := bob.untilPing("alice@localhost", "sent")
	want := []string{"message/nostore/error", "message/nopermanent/error"}
	if !slices.Equal(ids(got), want) {
		t.Fatalf("bob got %v before the ping's answer; want only %v (no answer to chat states, service-unavailable for no-store)", ids(got), want)
	}
	for _, n := range got {
		if typ, cond := stanzaError(n); typ != "cancel" || cond != "service-unavailable" {
			t.Errorf("%s came back with error %q/%q, want cancel/service-unavailable (RFC 6121 8.5.2.2.1 (b))", n.attr("id"), typ, cond)
		}
	}

	alice := dialXMPP(t, srv.directTLS)
	alice.login("alice", "alice-pw", "phone")
	alice.send(`<presence/>`)
	got = alice.untilPing("alice@localhost", "in")
	if want := []string{"message/cs-store/chat", "message/body/chat"}; !slices.Equal(ids(got), want) {
		t.Fatalf("at login alice got %v; want only %v (XEP-0160 section 3)", ids(got), want)
	}
	for _, n := range got {
		if !n.child("delay") {
			t.Errorf("offline message %s has no <delay/> (XEP-0203): %+v", n.attr("id"), n)
		}
	}

	// Online, chat states and no-store messages are delivered whole.
	bob.send(`<message type='chat' to='alice@localhost' id='live-composing'><composing ` + cs + `/></message>`)
	bob.send(`<message type='chat' to='alice@localhost' id='live-nostore'><body>now</body><no-store ` + hints + `/></message>`)
	// bob's ping follows his messages through alice's queue: once it is
	// answered they have been written to her session, and he was sent
	// nothing for them.
	if got := bob.untilPing("alice@localhost", "live-sent"); len(got) != 0 {
		t.Errorf("bob got %v for messages delivered online; want nothing", ids(got))
	}
	got = alice.untilPing("alice@localhost", "live")
	if want := []string{"message/live-composing/chat", "message/live-nostore/chat"}; !slices.Equal(ids(got), want) {
		t.Fatalf("online, alice got %v; want %v", ids(got), want)
	}
	if !got[0].child("composing") || !got[1].child("no-store") {
		t.Errorf("online messages not delivered whole: %+v", got)
	}

	// The log holds the two stored messages and nothing for the others.
	srv.stop(t, syscall.SIGTERM)
	var queued int
	for _, e := range readJSONL(t, mustRun(t, dir, "", "export").stdout) {
		if e.Type == "offline.queued" {
			queued++
		}
	}
	if queued != 2 {
		t.Errorf("the log holds %d offline.queued events; want 2 (cs-store, body)", queued)
	}
}
