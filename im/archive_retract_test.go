package im_test

import (
	"slices"
	"strings"
	"testing"

	"xmppd/events"
	"xmppd/stanza"
)

// XEP-0424 Message Retraction in the archive, over TLS with raw XML.

const nsRetract = "urn:xmpp:message-retract:1"

// retractMsg is XEP-0424 Example 4's retraction of the message target.
func retractMsg(c *client, to, id, target string) {
	c.t.Helper()
	c.send(`<message type='chat' to='%s' id='%s'><retract id='%s' xmlns='urn:xmpp:message-retract:1'/>`+
		`<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>`+
		`<body>/me retracted a previous message, but it's unsupported by your client.</body>`+
		`<store xmlns='urn:xmpp:hints'/></message>`, to, id, target)
}

func retraction(from, target string) match {
	return match{"retraction of " + target + " from " + from, func(el *stanza.Element) bool {
		r := el.Child("retract", nsRetract)
		return el.Name.Local == "message" && el.Attr("from") == from && r != nil && r.Attr("id") == target
	}}
}

// XEP-0424 sections 3, 4 and 5: alice retracts a message she sent bob,
// naming its XEP-0359 origin-id. The retraction is delivered and archived
// for both; in both archives MAM then returns the original, under its
// own archive id and time, as a tombstone: its addresses and id, no body,
// and <retracted/> naming the retraction's id and time. The message
// after it is untouched. The log still holds the original's content,
// readable with the owner's key (the record the law requires), and an
// archive.message_retracted beside it in each archive, which a restart
// folds again.
func TestXEP0424RetractionTombstonesBothArchives(t *testing.T) {
	e, a, b := twoUsers(t)
	a.send(`<message to='%s' type='chat' id='wrong-recipient-1'><body>Have not saints lips?</body><origin-id xmlns='urn:xmpp:sid:0' id='oid-1'/></message>`, b.jid)
	b.expect(message(a.jid, "Have not saints lips?"))
	a.send(`<message to='%s' type='chat' id='m2'><body>kept</body></message>`, b.jid)
	b.expect(message(a.jid, "kept"))
	before := map[string][]mamResult{}
	for _, c := range []*client{a, b} {
		before[c.name], _ = mamQuery(c, "before-"+c.name, nil, "")
	}

	retractMsg(a, b.jid, "retract-message-1", "oid-1")
	b.expect(retraction(a.jid, "oid-1"))

	for _, c := range []*client{a, b} {
		// Read straight after the retraction reached bob: the mark is
		// recorded before the retraction is delivered.
		rs, ans := mamQuery(c, "after-"+c.name, nil, "")
		if complete, _, _, count := fin(t, ans); !complete || count != "3" || len(rs) != 3 {
			t.Fatalf("%s's archive: %d results, fin %s", c.name, len(rs), ans)
		}
		orig, was := rs[0], before[c.name][0]
		if orig.id != was.id || orig.stamp != was.stamp {
			t.Errorf("%s: tombstone id %s at %s, want the original's %s at %s", c.name, orig.id, orig.stamp, was.id, was.stamp)
		}
		r := orig.msg.Child("retracted", nsRetract)
		if r == nil || r.Attr("id") != "retract-message-1" || r.Attr("stamp") == "" || r.Attr("by") != "alice@localhost" {
			t.Errorf("%s: not a XEP-0424 tombstone: %s", c.name, orig.msg)
		}
		if orig.msg.Child("body", "") != nil || strings.Contains(orig.msg.String(), "saints") || strings.Contains(orig.msg.String(), "oid-1") {
			t.Errorf("%s: tombstone keeps content: %s", c.name, orig.msg)
		}
		if orig.msg.Attr("id") != "wrong-recipient-1" || orig.msg.Attr("from") != a.jid || bare(orig.msg.Attr("to")) != "bob@localhost" {
			t.Errorf("%s: tombstone lost the original's addresses or id: %s", c.name, orig.msg)
		}
		if rs[1].body() != "kept" {
			t.Errorf("%s: the next message: %s", c.name, rs[1].msg)
		}
		if rt := rs[2].msg.Child("retract", nsRetract); rt == nil || rt.Attr("id") != "oid-1" || rs[2].msg.Attr("id") != "retract-message-1" {
			t.Errorf("%s: the retraction itself is not archived (XEP-0424 section 5): %s", c.name, rs[2].msg)
		}
	}

	for _, owner := range []string{"alice@localhost", "bob@localhost"} {
		_, ps := e.readStream(events.ArchiveStream(owner))
		var marks []events.ArchiveMessageRetracted
		var original string
		for _, p := range ps {
			switch p := p.(type) {
			case events.ArchiveMessageRetracted:
				marks = append(marks, p)
			case events.ArchiveMessageStored:
				if p.ID == before[map[string]string{"alice@localhost": "alice", "bob@localhost": "bob"}[owner]][0].id {
					opened, err := events.OpenPersonal(p, e.keys)
					if err != nil {
						t.Fatal(err)
					}
					original = opened.(events.ArchiveMessageStored).Content
				}
			}
		}
		if len(marks) != 1 || marks[0].By != "alice@localhost" || marks[0].RetractionStanzaID != "retract-message-1" || marks[0].Retraction == "" {
			t.Errorf("%s: retraction marks %+v, want one by alice", owner, marks)
		}
		if !strings.Contains(original, "Have not saints lips?") {
			t.Errorf("%s: the original's content is no longer in the log: %q", owner, original)
		}
	}

	// The index is rebuilt from the log at start-up: still a tombstone.
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	e.start()
	b = e.login("bob", "laptop")
	if rs, _ := mamQuery(b, "restarted", nil, ""); len(rs) != 3 || rs[0].msg.Child("retracted", nsRetract) == nil || rs[0].body() != "" {
		t.Errorf("after a restart: %d results, first %v", len(rs), rs)
	}
}

// XEP-0424 section 5: "MUST only be processed when both the original
// message and the retraction request are received from the same
// bare-JID". Bob's retraction of a message alice sent him (named by its
// 'id', section 5.1) is archived as a message but marks nothing: alice's
// message reads as it was in both archives. Bob's retraction of his own
// message, named by its 'id', is honoured.
func TestXEP0424RetractionByNonSenderNotHonoured(t *testing.T) {
	e, a, b := twoUsers(t)
	a.send(`<message to='%s' type='chat' id='a-1'><body>mine</body></message>`, b.jid)
	b.expect(message(a.jid, "mine"))
	b.send(`<message to='%s' type='chat' id='b-1'><body>bob's own</body></message>`, a.jid)
	a.expect(message(b.jid, "bob's own"))

	retractMsg(b, a.jid, "r-bad", "a-1")
	a.expect(retraction(b.jid, "a-1"))
	retractMsg(b, a.jid, "r-good", "b-1")
	a.expect(retraction(b.jid, "b-1"))

	for _, c := range []*client{a, b} {
		rs, _ := mamQuery(c, "q-"+c.name, nil, "")
		if len(rs) != 4 {
			t.Fatalf("%s's archive: %d results, want 4", c.name, len(rs))
		}
		if rs[0].body() != "mine" || rs[0].msg.Child("retracted", nsRetract) != nil {
			t.Errorf("%s: alice's message retracted by bob: %s", c.name, rs[0].msg)
		}
		if rs[1].msg.Child("retracted", nsRetract) == nil || rs[1].body() != "" {
			t.Errorf("%s: bob's own message not retracted: %s", c.name, rs[1].msg)
		}
		if got := []string{rs[2].msg.Attr("id"), rs[3].msg.Attr("id")}; !slices.Equal(got, []string{"r-bad", "r-good"}) {
			t.Errorf("%s: retractions archived: %v", c.name, got)
		}
	}
	for _, owner := range []string{"alice@localhost", "bob@localhost"} {
		_, ps := e.readStream(events.ArchiveStream(owner))
		n := 0
		for _, p := range ps {
			if m, ok := p.(events.ArchiveMessageRetracted); ok {
				n++
				if m.By != "bob@localhost" || m.RetractionStanzaID != "r-good" {
					t.Errorf("%s: %+v", owner, m)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d retraction marks, want 1 (bob's own message)", owner, n)
		}
	}
}

// XEP-0424 section 2 and 4: the account advertises that its archive
// keeps retractions and shows tombstones; XEP-0431 2.1: full-text search.
func TestXEP0424And0431Discovery(t *testing.T) {
	_, a, _ := twoUsers(t)
	info := a.iq("d1", `<iq type='get' id='d1' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	for _, f := range []string{nsRetract, nsRetract + "#tombstone", "urn:xmpp:fulltext:0"} {
		if !strings.Contains(info.String(), "var=\""+f+"\"") && !strings.Contains(info.String(), "var='"+f+"'") {
			t.Errorf("disco#info lacks %s: %s", f, info)
		}
	}
}
