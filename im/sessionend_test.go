package im_test

import (
	"strings"
	"testing"

	"xmppd/events"
)

// session.ended schema 2 from a real server: a client that closes its
// stream (RFC 6120 4.4), one that drops the connection (its contact is
// still told it went offline, RFC 6121 4.5.2) and one that sends a stanza
// the server ends the stream for (<policy-violation/> above the size
// limit) are recorded with their own cause and condition.
func TestSessionEndedRecordsCauseAndCondition(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a, b := e.login("alice", "closer"), e.login("bob", "pc")
	a.online(0)
	b.online(0)
	subscribeBoth(a, b)

	a.quit()
	b.expect(presence(a.jid, "unavailable"))

	dropper := e.login("alice", "dropper")
	dropper.online(0)
	b.expect(presence(dropper.jid, ""))
	dropper.conn.Close()
	b.expect(presence(dropper.jid, "unavailable"))

	big := e.login("alice", "big")
	big.write(`<message to='bob@localhost'><body>` + strings.Repeat("x", 300<<10) + `</body></message>`)
	big.expect(streamError("policy-violation"))

	want := []events.SessionEnded{
		{Resource: "closer", Cause: events.EndClientClosed},
		{Resource: "dropper", Cause: events.EndConnectionLost},
		{Resource: "big", Cause: events.EndStreamError, Condition: "policy-violation"},
	}
	var ends []events.SessionEnded
	e.eventually("three session ends", func() bool {
		_, ps := e.readStream(events.PresenceStream("alice@localhost"))
		ends = ofType[events.SessionEnded](ps)
		return len(ends) == len(want)
	})
	for i, w := range want {
		got := ends[i]
		if got.Resource != w.Resource || got.Cause != w.Cause || got.Condition != w.Condition {
			t.Errorf("end %d: %+v, want %+v", i, got, w)
		}
	}
	if ends[1].Detail == "" || ends[2].Detail != "stanza too large" {
		t.Errorf("details %q, %q", ends[1].Detail, ends[2].Detail)
	}
}
