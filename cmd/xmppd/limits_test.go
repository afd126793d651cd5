package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// bindAs logs in and sends a bind for resource, returning the answer
// (result or error) without judging it.
func bindAs(t *testing.T, addr, user, password, resource string) (*rawXMPP, xmlNode) {
	t.Helper()
	c := dialXMPP(t, addr)
	if !c.plain(user, password) {
		t.Fatalf("login as %s refused", user)
	}
	c.open()
	return c, c.rebind(resource, "bind-"+resource)
}

func (c *rawXMPP) rebind(resource, id string) xmlNode {
	c.t.Helper()
	c.send(`<iq type='set' id='` + id + `'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>` + resource + `</resource></bind></iq>`)
	return c.await("iq", id)
}

// ping makes a XEP-0199 round trip to the server.
func (c *rawXMPP) ping(id string) {
	c.t.Helper()
	c.send(`<iq type='get' to='localhost' id='` + id + `'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if n := c.await("iq", id); n.attr("type") != "result" {
		c.t.Fatalf("ping %s: %+v", id, n)
	}
}

// RFC 6120 7.6.2.1: with limits.resources_per_account = 2, the third
// resource's bind is refused with <resource-constraint/> of type wait,
// and the stream stays usable: the first two still exchange stanzas, a
// bind that replaces one of them (same resource, 7.7.2.2) is not counted,
// and once a resource goes the refused client binds on the same stream.
func TestLimitsResourcesPerAccount(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw")
	srv := startServe(t, dir, "XMPPD_LIMITS_RESOURCES_PER_ACCOUNT=2")

	c1, b1 := bindAs(t, srv.directTLS, "alice", "pw", "one")
	c2, b2 := bindAs(t, srv.directTLS, "alice", "pw", "two")
	if b1.attr("type") != "result" || b2.attr("type") != "result" {
		t.Fatalf("the first two binds: %+v, %+v", b1, b2)
	}
	c3, b3 := bindAs(t, srv.directTLS, "alice", "pw", "three")
	if typ, cond := stanzaError(b3); b3.attr("type") != "error" || typ != "wait" || cond != "resource-constraint" {
		t.Fatalf("third bind: %+v; want error type wait, resource-constraint", b3)
	}

	// The first two still work: one to the other and back.
	c1.send(`<message to='alice@localhost/two' type='chat' id='m1'><body>hi two</body></message>`)
	if m := c2.await("message", "m1"); m.attr("from") != "alice@localhost/one" {
		t.Fatalf("two got %+v", m)
	}
	c2.send(`<message to='alice@localhost/one' type='chat' id='m2'><body>hi one</body></message>`)
	c1.await("message", "m2")

	// Replacing "one" is not a third resource: the new session binds and
	// the old one is told <conflict/>.
	c4, b4 := bindAs(t, srv.directTLS, "alice", "pw", "one")
	if b4.attr("type") != "result" {
		t.Fatalf("bind replacing 'one' at the limit: %+v", b4)
	}
	if n := c1.await("error", ""); !n.child("conflict") {
		t.Fatalf("the replaced session got %+v, want a conflict stream error", n)
	}
	c4.send(`<message to='alice@localhost/two' type='chat' id='m3'><body>from the new one</body></message>`)
	c2.await("message", "m3")

	// type='wait': once "two" leaves, the refused client binds on its
	// still-open stream.
	c2.send(`</stream:stream>`)
	var last xmlNode
	for i := 0; i < 50; i++ {
		if last = c3.rebind("three", fmt.Sprintf("retry%d", i)); last.attr("type") == "result" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if last.attr("type") != "result" {
		t.Fatalf("bind after a resource left: %+v", last)
	}
	c3.send(`<message to='alice@localhost/one' type='chat' id='m4'><body>three is in</body></message>`)
	c4.await("message", "m4")
}

// The roster quotas through the real binary: with limits.roster_items = 2
// and limits.groups_per_item = 2, the third item is refused with
// <policy-violation/> (type modify), an item with three groups with
// <not-acceptable/>, an outbound subscription to a new contact (which
// would add an item, RFC 6121 3.1.2) with <policy-violation/>; none of
// them is in the roster afterwards, by a roster get and in the log
// (xmppd replay).
func TestLimitsRoster(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw")
	srv := startServe(t, dir, "XMPPD_LIMITS_ROSTER_ITEMS=2", "XMPPD_LIMITS_GROUPS_PER_ITEM=2")
	c := dialXMPP(t, srv.directTLS)
	c.login("alice", "pw", "desk")
	rosterSet := func(id, item string) xmlNode {
		c.send(`<iq type='set' id='` + id + `'><query xmlns='jabber:iq:roster'>` + item + `</query></iq>`)
		return c.await("iq", id)
	}
	for i, j := range []string{"a@example.org", "b@example.org"} {
		if n := rosterSet(fmt.Sprint("add", i), `<item jid='`+j+`'><group>G1</group></item>`); n.attr("type") != "result" {
			t.Fatalf("item %d of 2: %+v", i+1, n)
		}
	}
	checks := []struct {
		what, id, item, typ, cond string
	}{
		{"third item", "add3", `<item jid='c@example.org'/>`, "modify", "policy-violation"},
		{"three groups on an item", "groups3", `<item jid='a@example.org'><group>G1</group><group>G2</group><group>G3</group></item>`, "modify", "not-acceptable"},
	}
	for _, ck := range checks {
		n := rosterSet(ck.id, ck.item)
		if typ, cond := stanzaError(n); n.attr("type") != "error" || typ != ck.typ || cond != ck.cond {
			t.Errorf("%s: %+v; want error type %s, %s", ck.what, n, ck.typ, ck.cond)
		}
	}
	c.send(`<presence type='subscribe' to='d@localhost' id='sub1'/>`)
	if n := c.await("presence", "sub1"); n.attr("type") != "error" {
		t.Errorf("subscribe to a new contact with a full roster: %+v", n)
	} else if typ, cond := stanzaError(n); typ != "modify" || cond != "policy-violation" {
		t.Errorf("subscribe to a new contact with a full roster: %s %s; want modify policy-violation", typ, cond)
	}
	// Two groups are fine: the limit is not off by one.
	if n := rosterSet("groups2", `<item jid='a@example.org'><group>G1</group><group>G2</group></item>`); n.attr("type") != "result" {
		t.Errorf("two groups: %+v", n)
	}

	c.send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	got := map[string]int{}
	for _, q := range c.await("iq", "r1").Nodes {
		for _, it := range q.Nodes {
			got[it.attr("jid")] = len(it.Nodes)
		}
	}
	if want := map[string]int{"a@example.org": 2, "b@example.org": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("roster get: items (jid: groups) %v, want %v", got, want)
	}

	states := readStates(t, mustRun(t, dir, "", "replay", "--at", time.Now().UTC().Format(time.RFC3339Nano), "--user", "alice@localhost", "--format", "json").stdout)
	if len(states) != 1 {
		t.Fatalf("replay: %d states", len(states))
	}
	var jids []string
	for _, it := range states[0].Roster {
		jids = append(jids, it.JID)
		if it.JID == "a@example.org" && !slices.Equal(it.Groups, []string{"G1", "G2"}) {
			t.Errorf("replay: a@example.org in groups %v", it.Groups)
		}
	}
	if !slices.Equal(jids, []string{"a@example.org", "b@example.org"}) {
		t.Errorf("replay: roster %v, want only a and b", jids)
	}
}

// The stanza rate (limits.stanza_rate R, limits.stanza_burst B) slows a
// flooding client, without disconnecting it or losing anything: a token
// bucket lets at most B + R*T stanzas through in T seconds after the
// bind, so the ping that follows n stanzas cannot be answered before
// (n - B) / R seconds; every message reaches the recipient, in order;
// the session stays up; and the delays show on /metrics.
func TestLimitsStanzaRateSlowsAFlooder(t *testing.T) {
	const rate, burst, msgs = 40, 10, 60
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "pw")
	srv := startServe(t, dir, fmt.Sprint("XMPPD_LIMITS_STANZA_RATE=", rate), fmt.Sprint("XMPPD_LIMITS_STANZA_BURST=", burst))
	bob := dialXMPP(t, srv.directTLS)
	bob.login("bob", "pw", "b")

	alice := dialXMPP(t, srv.directTLS)
	if !alice.plain("alice", "pw") {
		t.Fatal("login refused")
	}
	alice.open()
	bound := time.Now()
	if n := alice.rebind("a", "bind"); n.attr("type") != "result" {
		t.Fatalf("bind: %+v", n)
	}
	var flood strings.Builder
	for i := range msgs {
		fmt.Fprintf(&flood, `<message to='bob@localhost/b' type='chat' id='f%d'><body>%d</body></message>`, i, i)
	}
	alice.send(flood.String()) // all at once: a few KB, taken by the socket buffers
	alice.ping("after")
	took := time.Since(bound)
	stanzas := msgs + 1 // the messages and the ping
	if min := time.Duration(float64(stanzas-burst) / rate * float64(time.Second)); took < min {
		t.Errorf("%d stanzas answered %v after the bind; the rate allows no less than %v", stanzas, took, min)
	}
	if took > 10*time.Second {
		t.Errorf("%d stanzas took %v: slowed far more than the rate asks", stanzas, took)
	}
	t.Logf("%d stanzas at rate %d/s, burst %d: ping answered %v after the bind (floor %.2fs)", stanzas, rate, burst, took, float64(stanzas-burst)/rate)

	for i := range msgs {
		m := bob.await("message", "")
		if m.attr("id") != fmt.Sprint("f", i) {
			t.Fatalf("bob's message %d has id %q: lost or out of order", i, m.attr("id"))
		}
	}
	alice.ping("still-up") // not disconnected
	m := scrape(t, srv.metrics)
	if d := m["xmppd_c2s_stanzas_delayed_total"]; d < float64(stanzas-burst-rate) {
		t.Errorf("xmppd_c2s_stanzas_delayed_total = %v, want about %d", d, stanzas-burst)
	}
	if m["xmppd_c2s_stanza_delay_seconds_total"] <= 0 || m["xmppd_c2s_flood_disconnects_total"] != 0 {
		t.Errorf("delay seconds %v, flood disconnects %v", m["xmppd_c2s_stanza_delay_seconds_total"], m["xmppd_c2s_flood_disconnects_total"])
	}
}

// A client that stays over the rate for longer than limits.flood_timeout
// is closed with <policy-violation/> (RFC 6120 4.9.3.14), and counted.
func TestLimitsFloodTimeoutCutsTheClient(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw")
	srv := startServe(t, dir, "XMPPD_LIMITS_STANZA_RATE=50", "XMPPD_LIMITS_STANZA_BURST=5", "XMPPD_LIMITS_FLOOD_TIMEOUT=1s")
	alice := dialXMPP(t, srv.directTLS)
	alice.login("alice", "pw", "a")
	start := time.Now()
	go func() {
		// Keeps sending until the server closes the stream.
		for i := 0; ; i++ {
			alice.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := fmt.Fprintf(alice.conn, `<message to='alice@localhost/a' id='x%d'><body>x</body></message>`, i); err != nil {
				return
			}
		}
	}()
	for {
		n := alice.next()
		if n.XMLName.Local == "message" {
			continue
		}
		if n.XMLName.Local != "error" || !n.child("policy-violation") {
			t.Fatalf("got %+v, want a policy-violation stream error", n)
		}
		break
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("cut after %v, before the 1 s flood timeout", d)
	}
	eventually(t, "the cut to be counted", func() bool { return scrape(t, srv.metrics)["xmppd_c2s_flood_disconnects_total"] == 1 })
}

// Bad limits are refused at start, every problem named at once.
func TestLimitsBadSettingsRefused(t *testing.T) {
	dir := t.TempDir()
	yaml := "limits:\n  roster_items: -1\n  stanza_rate: -5\n  group_name_bytes: 0\n  flood_timeout: -1s\n"
	if err := os.WriteFile(filepath.Join(dir, "xmppd.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	r := xmppd(t, dir, "", "serve")
	for _, want := range []string{"limits.roster_items -1", "limits.stanza_rate -5", "limits.group_name_bytes 0", "limits.flood_timeout -1s"} {
		if r.code == 0 || !strings.Contains(r.stderr, want) {
			t.Errorf("exit %d; %q not in:\n%s", r.code, want, r.stderr)
		}
	}
}
