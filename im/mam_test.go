package im_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"xmppd/events"
	"xmppd/stanza"
)

// End-to-end tests of the message archive (XEP-0313 urn:xmpp:mam:2) over
// TLS, with raw XML: archiving (3.5, 6.1.1), each filter (4.1), RSM paging
// (4.3, XEP-0059), metadata (5) and discovery (7).

const nsMAM = "urn:xmpp:mam:2"

// mamResult is one <result/> of a query: its archive id and the message
// it forwards.
type mamResult struct {
	id, stamp string
	msg       *stanza.Element
}

func (r mamResult) body() string {
	if b := r.msg.Child("body", ""); b != nil {
		return b.Text()
	}
	return ""
}

// mamQuery sends a MAM query with the given form fields (var -> value;
// "ids" may hold several values separated by spaces) and RSM/extra XML,
// and returns the results and the IQ answer.
func mamQuery(c *client, id string, fields [][2]string, extra string) ([]mamResult, *stanza.Element) {
	c.t.Helper()
	var form strings.Builder
	if len(fields) > 0 {
		form.WriteString(`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>`)
		for _, f := range fields {
			fmt.Fprintf(&form, `<field var='%s'>`, f[0])
			for _, v := range strings.Fields(f[1]) {
				fmt.Fprintf(&form, `<value>%s</value>`, v)
			}
			form.WriteString(`</field>`)
		}
		form.WriteString(`</x>`)
	}
	qid := "q-" + id
	ans := c.iq(id, `<iq type='set' id='%s'><query xmlns='urn:xmpp:mam:2' queryid='%s'>%s%s</query></iq>`, id, qid, form.String(), extra)
	var out []mamResult
	for {
		// The results precede the answer on the stream (4: "the server
		// MUST send the <iq/> result after last query result").
		el, ok, _ := c.take(match{"result of " + qid, func(el *stanza.Element) bool {
			r := el.Child("result", nsMAM)
			return el.Name.Local == "message" && r != nil && r.Attr("queryid") == qid
		}})
		if !ok {
			break
		}
		r := el.Child("result", nsMAM)
		fwd := r.Child("forwarded", "urn:xmpp:forward:0")
		if fwd == nil || fwd.Child("delay", "urn:xmpp:delay") == nil || fwd.Child("message", "jabber:client") == nil {
			c.t.Fatalf("%s: result without forwarded, delay or message: %s", c.name, el)
		}
		out = append(out, mamResult{id: r.Attr("id"), stamp: fwd.Child("delay", "urn:xmpp:delay").Attr("stamp"), msg: fwd.Child("message", "jabber:client")})
	}
	return out, ans
}

// fin returns the answer's <fin/> and its RSM first, last and count.
func fin(t *testing.T, ans *stanza.Element) (complete bool, first, last, count string) {
	t.Helper()
	f := ans.Child("fin", nsMAM)
	if ans.Attr("type") != "result" || f == nil {
		t.Fatalf("not a fin: %s", ans)
	}
	set := f.Child("set", "http://jabber.org/protocol/rsm")
	if set == nil {
		t.Fatalf("fin without rsm set: %s", ans)
	}
	text := func(n string) string {
		if el := set.Child(n, ""); el != nil {
			return el.Text()
		}
		return ""
	}
	return f.Attr("complete") == "true", text("first"), text("last"), text("count")
}

func bodies(rs []mamResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.body())
	}
	return out
}

func ids(rs []mamResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.id)
	}
	return out
}

func errCond(el *stanza.Element) string {
	if el.Attr("type") != "error" {
		return ""
	}
	if e := el.Child("error", ""); e != nil {
		for _, c := range e.Elements() {
			return c.Name.Local
		}
	}
	return "?"
}

// stanzaIDs returns the 'by' and 'id' of each XEP-0359 <stanza-id/>.
func stanzaIDs(el *stanza.Element) [][2]string {
	var out [][2]string
	for _, c := range el.Elements() {
		if c.Name.Local == "stanza-id" && c.Name.Space == "urn:xmpp:sid:0" {
			out = append(out, [2]string{c.Attr("by"), c.Attr("id")})
		}
	}
	return out
}

// XEP-0313 3.5 and XEP-0359: a message is archived for both parties; the
// recipient's copy carries the recipient archive's stanza-id and not the
// one the sender forged; each party's query returns it under its own id.
func TestMAM3_5ArchivesBothSidesWithStanzaID(t *testing.T) {
	_, a, b := twoUsers(t)

	a.send(`<message to='%s' type='chat' id='m1'><body>hello</body><stanza-id xmlns='urn:xmpp:sid:0' by='bob@localhost' id='forged'/><stanza-id xmlns='urn:xmpp:sid:0' by='other.example' id='kept'/></message>`, b.jid)
	got := b.expect(message(a.jid, "hello"))
	sids := stanzaIDs(got)
	var mine string
	for _, s := range sids {
		if s[0] == "bob@localhost" {
			if mine != "" {
				t.Fatalf("two stanza-ids by bob: %s", got)
			}
			mine = s[1]
		}
	}
	if mine == "" || mine == "forged" {
		t.Fatalf("stanza-id by bob@localhost = %q: %s", mine, got)
	}
	if !slices.Contains(sids, [2]string{"other.example", "kept"}) {
		t.Fatalf("stanza-id by another entity was removed: %s", got)
	}

	rs, ans := mamQuery(b, "q1", nil, "")
	if len(rs) != 1 || rs[0].id != mine || rs[0].body() != "hello" || rs[0].msg.Attr("from") != a.jid {
		t.Fatalf("bob's archive: %+v", rs)
	}
	if complete, first, last, count := fin(t, ans); !complete || first != mine || last != mine || count != "1" {
		t.Fatalf("bob's fin: %s", ans)
	}
	rs, _ = mamQuery(a, "q2", nil, "")
	if len(rs) != 1 || rs[0].body() != "hello" || rs[0].msg.Attr("to") != b.jid || rs[0].id == mine {
		t.Fatalf("alice's archive (sent message, her own id): %+v", rs)
	}
	// 3.5: the sender is not told the recipient's archive id.
	a.never(match{"anything with a stanza-id", func(el *stanza.Element) bool { return len(stanzaIDs(el)) > 0 }}, a.messageFrom(b))

	// Section 7: both features on the account.
	info := a.iq("d1", `<iq type='get' id='d1' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	for _, f := range []string{nsMAM, nsMAM + "#extended", "urn:xmpp:sid:0"} {
		if !strings.Contains(info.String(), f+"'") && !strings.Contains(info.String(), f+`"`) {
			t.Errorf("disco#info lacks %s: %s", f, info)
		}
	}
}

// XEP-0313 6.1.1 and XEP-0334: chat states alone, no-store and
// no-permanent-store hints, headlines and errors are not archived; a
// normal message with a body is.
func TestMAM6_1_1NotArchived(t *testing.T) {
	_, a, b := twoUsers(t)
	send := func(id, typ, payload string) {
		a.send(`<message to='%s' type='%s' id='%s'>%s</message>`, b.jid, typ, id, payload)
		b.expect(match{"message " + id, func(el *stanza.Element) bool { return el.Attr("id") == id }})
	}
	send("cs", "chat", `<composing xmlns='http://jabber.org/protocol/chatstates'/>`)
	send("ns", "chat", `<body>secret</body><no-store xmlns='urn:xmpp:hints'/>`)
	send("nps", "chat", `<body>secret too</body><no-permanent-store xmlns='urn:xmpp:hints'/>`)
	send("hl", "headline", `<body>news</body>`)
	send("er", "error", `<body>oops</body><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`)
	send("nb", "chat", `<active xmlns='http://jabber.org/protocol/chatstates'/><thread>t</thread>`)
	send("ok", "normal", `<body>kept</body><active xmlns='http://jabber.org/protocol/chatstates'/>`)
	for _, c := range []*client{a, b} {
		rs, ans := mamQuery(c, "q-"+c.name, nil, "")
		if got := bodies(rs); !slices.Equal(got, []string{"kept"}) {
			t.Fatalf("%s's archive: %v", c.name, got)
		}
		if complete, _, _, count := fin(t, ans); !complete || count != "1" {
			t.Fatalf("%s's fin: %s", c.name, ans)
		}
	}
}

// twoUsers starts a server with alice and bob, and logs them in as
// alice/phone and bob/laptop.
func twoUsers(t *testing.T) (e *env, a, b *client) {
	e = newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	return e, e.login("alice", "phone"), e.login("bob", "laptop")
}

// mamFixture: alice sends bob m0..m9, carol sends c0 and c1 after m4.
func mamFixture(t *testing.T) (e *env, a, b, c *client, all []mamResult) {
	e = newEnv(t)
	for _, u := range []string{"alice", "bob", "carol"} {
		e.addUser(u)
	}
	e.start()
	a, b, c = e.login("alice", "phone"), e.login("bob", "laptop"), e.login("carol", "pc")
	for i := range 10 {
		a.send(`<message to='%s' type='chat' id='m%d'><body>m%d</body></message>`, b.jid, i, i)
		b.expect(message(a.jid, fmt.Sprint("m", i)))
		if i == 4 {
			for j := range 2 {
				c.send(`<message to='%s' type='chat' id='c%d'><body>c%d</body></message>`, b.jid, j, j)
				b.expect(message(c.jid, fmt.Sprint("c", j)))
			}
		}
	}
	all, ans := mamQuery(b, "all", nil, "")
	want := []string{"m0", "m1", "m2", "m3", "m4", "c0", "c1", "m5", "m6", "m7", "m8", "m9"}
	if got := bodies(all); !slices.Equal(got, want) {
		t.Fatalf("whole archive: %v, want %v", got, want)
	}
	if complete, first, last, count := fin(t, ans); !complete || first != all[0].id || last != all[11].id || count != "12" {
		t.Fatalf("whole archive's fin: %s", ans)
	}
	return e, a, b, c, all
}

// XEP-0313 4.1: with (bare and full), start, end, after-id, before-id,
// ids, and errors for unknown ids and fields.
func TestMAM4_1Filters(t *testing.T) {
	_, a, b, c, all := mamFixture(t)
	cases := []struct {
		name   string
		fields [][2]string
		want   []string
	}{
		{"4.1.1 with bare", [][2]string{{"with", "carol@localhost"}}, []string{"c0", "c1"}},
		{"4.1.1 with full", [][2]string{{"with", c.jid}}, []string{"c0", "c1"}},
		{"4.1.1 with other resource", [][2]string{{"with", "carol@localhost/elsewhere"}}, nil},
		{"4.1.2 start", [][2]string{{"start", all[9].stamp}}, []string{"m7", "m8", "m9"}},
		{"4.1.2 end", [][2]string{{"end", all[2].stamp}}, []string{"m0", "m1", "m2"}},
		{"4.1.2 start and end with", [][2]string{{"start", all[1].stamp}, {"end", all[7].stamp}, {"with", "alice@localhost"}}, []string{"m1", "m2", "m3", "m4", "m5"}},
		{"4.1.3 after-id", [][2]string{{"after-id", all[8].id}}, []string{"m7", "m8", "m9"}},
		{"4.1.3 before-id", [][2]string{{"before-id", all[2].id}}, []string{"m0", "m1"}},
		{"4.1.3 between", [][2]string{{"after-id", all[3].id}, {"before-id", all[7].id}}, []string{"m4", "c0", "c1"}},
		{"4.1.3 ids", [][2]string{{"ids", all[6].id + " " + all[0].id}}, []string{"m0", "c1"}},
	}
	for i, tc := range cases {
		rs, ans := mamQuery(b, fmt.Sprint("f", i), tc.fields, "")
		if got := bodies(rs); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		if complete, _, _, count := fin(t, ans); !complete || count != fmt.Sprint(len(tc.want)) {
			t.Errorf("%s: fin %s", tc.name, ans)
		}
	}
	for i, f := range [][2]string{{"after-id", "nope"}, {"before-id", "nope"}, {"ids", all[0].id + " nope"}} {
		if _, ans := mamQuery(b, fmt.Sprint("u", i), [][2]string{f}, ""); errCond(ans) != "item-not-found" {
			t.Errorf("4.1.3 unknown %s: %s", f[0], ans)
		}
	}
	if _, ans := mamQuery(b, "x1", [][2]string{{"{urn:example}free-text", "x"}}, ""); errCond(ans) != "feature-not-implemented" {
		t.Errorf("4.1.5 unknown field: %s", ans)
	}
	if _, ans := mamQuery(b, "x2", [][2]string{{"start", "yesterday"}}, ""); errCond(ans) != "bad-request" {
		t.Errorf("bad start: %s", ans)
	}
	// Alice's archive holds only what she sent, under her own ids.
	rs, _ := mamQuery(a, "alice", [][2]string{{"with", "bob@localhost"}}, "")
	if len(rs) != 10 || rs[0].body() != "m0" || slices.Contains(ids(all), rs[0].id) {
		t.Fatalf("alice's archive: %v", bodies(rs))
	}
	// Only the account reads its archive: service-unavailable for others
	// (RFC 6121 8.5: nothing revealed).
	ans := a.iq("other", `<iq type='set' id='other' to='bob@localhost'><query xmlns='urn:xmpp:mam:2'/></iq>`)
	if errCond(ans) != "service-unavailable" {
		t.Fatalf("alice querying bob's archive: %s", ans)
	}
}

// XEP-0313 4.3 with XEP-0059: pages forwards with <after/>, the last page
// with an empty <before/>, backwards with <before/>, complete only on the
// page that ends the result set, flip-page, and item-not-found.
func TestMAM4_3Paging(t *testing.T) {
	_, _, b, _, all := mamFixture(t)
	want := ids(all)
	rsm := func(inner string) string { return "<set xmlns='http://jabber.org/protocol/rsm'>" + inner + "</set>" }

	// Forwards, 5 at a time: 5, 5, 2 (4.3.2).
	var got []string
	after := ""
	for page := 0; ; page++ {
		q := "<max>5</max>"
		if after != "" {
			q += "<after>" + after + "</after>"
		}
		rs, ans := mamQuery(b, fmt.Sprint("p", page), nil, rsm(q))
		complete, first, last, count := fin(t, ans)
		if count != "12" || len(rs) == 0 || first != rs[0].id || last != rs[len(rs)-1].id {
			t.Fatalf("page %d: fin %s", page, ans)
		}
		got = append(got, ids(rs)...)
		if complete != (page == 2) {
			t.Fatalf("page %d: complete=%v", page, complete)
		}
		if complete {
			break
		}
		after = last
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged forwards: %v, want %v", got, want)
	}

	// The last page (4.3.3), then backwards with <before/>.
	rs, ans := mamQuery(b, "last", nil, rsm("<max>5</max><before/>"))
	if complete, _, _, _ := fin(t, ans); complete || !slices.Equal(ids(rs), want[7:]) {
		t.Fatalf("last page: %v complete=%v", bodies(rs), complete)
	}
	rs, ans = mamQuery(b, "prev", nil, rsm("<max>5</max><before>"+rs[0].id+"</before>"))
	if complete, _, _, _ := fin(t, ans); complete || !slices.Equal(ids(rs), want[2:7]) {
		t.Fatalf("page before: %v", bodies(rs))
	}
	rs, ans = mamQuery(b, "prev2", nil, rsm("<max>5</max><before>"+rs[0].id+"</before>"))
	if complete, _, _, _ := fin(t, ans); !complete || !slices.Equal(ids(rs), want[:2]) {
		t.Fatalf("first page backwards: %v complete=%v", bodies(rs), complete)
	}
	// The last page of a filtered set.
	rs, _ = mamQuery(b, "lastc", [][2]string{{"with", "carol@localhost"}}, rsm("<max>1</max><before/>"))
	if got := bodies(rs); !slices.Equal(got, []string{"c1"}) {
		t.Fatalf("last page with carol: %v", got)
	}

	// 4.3.4: flip-page sends the same page newest first.
	rs, ans = mamQuery(b, "flip", nil, rsm("<max>5</max><before/>")+"<flip-page/>")
	rev := slices.Clone(want[7:])
	slices.Reverse(rev)
	if !slices.Equal(ids(rs), rev) {
		t.Fatalf("flipped last page: %v", bodies(rs))
	}
	if _, first, last, _ := fin(t, ans); first != want[7] || last != want[11] {
		t.Fatalf("flipped page's fin names the page in archive order: %s", ans)
	}

	// <max>0</max>: the count alone (XEP-0059 2.6).
	if rs, ans := mamQuery(b, "count", nil, rsm("<max>0</max>")); len(rs) != 0 {
		t.Fatalf("max 0 returned %d", len(rs))
	} else if _, _, _, count := fin(t, ans); count != "12" {
		t.Fatalf("max 0: %s", ans)
	}

	// 4.3.2: an unknown after or before is item-not-found.
	for _, q := range []string{"<after>nope</after>", "<before>nope</before>"} {
		if _, ans := mamQuery(b, "nf", nil, rsm(q)); errCond(ans) != "item-not-found" {
			t.Errorf("%s: %s", q, ans)
		}
	}
}

// XEP-0313 section 5 and 4.1.5: metadata names the first and last
// messages; the form lists the fields, ids with an open validation.
func TestMAM5MetadataAndForm(t *testing.T) {
	e, _, b, _, all := mamFixture(t)
	md := b.iq("md", `<iq type='get' id='md'><metadata xmlns='urn:xmpp:mam:2'/></iq>`)
	m := md.Child("metadata", nsMAM)
	if m == nil || m.Child("start", "").Attr("id") != all[0].id || m.Child("end", "").Attr("id") != all[11].id ||
		m.Child("start", "").Attr("timestamp") != all[0].stamp || m.Child("end", "").Attr("timestamp") != all[11].stamp {
		t.Fatalf("metadata: %s", md)
	}
	e.addUser("dave")
	d := e.login("dave", "x")
	md = d.iq("md2", `<iq type='get' id='md2'><metadata xmlns='urn:xmpp:mam:2'/></iq>`)
	if m := md.Child("metadata", nsMAM); m == nil || len(m.Elements()) != 0 {
		t.Fatalf("empty archive's metadata: %s", md)
	}
	form := b.iq("fm", `<iq type='get' id='fm'><query xmlns='urn:xmpp:mam:2'/></iq>`)
	s := form.String()
	for _, f := range []string{"with", "start", "end", "before-id", "after-id", "ids", "FORM_TYPE", "<open"} {
		if !strings.Contains(s, f) {
			t.Errorf("form lacks %s: %s", f, s)
		}
	}
}

// Messages stored offline (XEP-0160) are archived when stored: the copy
// delivered at login carries the same stanza-id the archive returns.
func TestMAMOfflineMessagesArchived(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a := e.login("alice", "phone") // bob has no session: o1 is stored offline
	a.send(`<message to='bob@localhost' type='chat' id='o1'><body>while you were out</body></message>`)
	e.eventually("o1 stored offline", func() bool {
		evs, _ := e.readStream(events.OfflineStream("bob@localhost"))
		return len(evs) == 1
	})
	b := e.login("bob", "laptop")
	b.online(1)
	got := b.expect(message(a.jid, "while you were out"))
	sids := stanzaIDs(got)
	if len(sids) != 1 || sids[0][0] != "bob@localhost" || got.Child("delay", "urn:xmpp:delay") == nil {
		t.Fatalf("offline message: %s", got)
	}
	rs, _ := mamQuery(b, "q", nil, "")
	if len(rs) != 1 || rs[0].id != sids[0][1] {
		t.Fatalf("archive after offline delivery: %+v", rs)
	}
}

// The index is a projection of the log: after a restart it is rebuilt,
// and the same query returns the same ids and stanzas.
func TestMAMIndexSurvivesRestart(t *testing.T) {
	e, _, _, _, all := mamFixture(t)
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	e.start()
	b := e.login("bob", "again")
	rs, ans := mamQuery(b, "after", nil, "")
	if !slices.Equal(ids(rs), ids(all)) || !slices.Equal(bodies(rs), bodies(all)) {
		t.Fatalf("after restart: %v", bodies(rs))
	}
	if complete, _, _, count := fin(t, ans); !complete || count != "12" {
		t.Fatalf("after restart: %s", ans)
	}
}

// Archiving happens off the recipient's actor (archive_order.go), but
// what reaches the recipient keeps its order (RFC 6120 10.1): archived
// messages interleaved with chat states and headlines, which are not
// archived, sent without waiting, arrive in the order sent, and the
// archive holds the archived ones in that order too.
func TestMAMKeepsOrderWhileArchiving(t *testing.T) {
	_, a, b := twoUsers(t)
	var want, archived []string
	for i := range 60 {
		id := fmt.Sprint("o", i)
		switch i % 3 {
		case 0:
			a.send(`<message to='%s' type='chat' id='%s'><body>%s</body></message>`, b.jid, id, id)
			archived = append(archived, id)
		case 1:
			a.send(`<message to='%s' type='chat' id='%s'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`, b.jid, id)
		case 2:
			a.send(`<message to='%s' type='headline' id='%s'><body>%s</body></message>`, b.jid, id, id)
		}
		want = append(want, id)
	}
	last := want[len(want)-1]
	b.expect(match{"message " + last, func(el *stanza.Element) bool { return el.Attr("id") == last }})
	var got []string
	b.mu.Lock()
	for _, el := range b.arrived {
		if el.Name.Local == "message" {
			got = append(got, el.Attr("id"))
		}
	}
	b.mu.Unlock()
	if !slices.Equal(got, want) {
		t.Fatalf("arrival order:\n got %v\nwant %v", got, want)
	}
	rs, _ := mamQuery(b, "ord", nil, "<set xmlns='http://jabber.org/protocol/rsm'><max>100</max></set>")
	if !slices.Equal(bodies(rs), archived) {
		t.Fatalf("archive order: %v", bodies(rs))
	}
}

// A message to one's own bare JID (RFC 6120 10.3.1: no 'to' is the same)
// is archived once (XEP-0313 6.1.1: "MUST store such a stanza within a
// given archive only once"), and a stanza-id the sender forged with her
// own address as 'by' is replaced by the archive's.
func TestMAM6_1_1MessageToSelfArchivedOnce(t *testing.T) {
	_, a, _ := twoUsers(t)
	a.online(1)
	a.send(`<message type='chat' id='self'><body>note to self</body><stanza-id xmlns='urn:xmpp:sid:0' by='alice@localhost' id='forged'/></message>`)
	got := a.expect(message(a.jid, "note to self"))
	sids := stanzaIDs(got)
	if len(sids) != 1 || sids[0][0] != "alice@localhost" || sids[0][1] == "forged" {
		t.Fatalf("stanza-ids %v: %s", sids, got)
	}
	rs, ans := mamQuery(a, "q", nil, "")
	if len(rs) != 1 || rs[0].id != sids[0][1] || rs[0].body() != "note to self" {
		t.Fatalf("alice's archive: %+v", rs)
	}
	if complete, _, _, count := fin(t, ans); !complete || count != "1" {
		t.Fatalf("fin: %s", ans)
	}
}
