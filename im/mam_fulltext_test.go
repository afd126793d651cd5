package im_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"xmppd/events"
	"xmppd/stanza"
)

// XEP-0431 full-text search in MAM, over TLS with raw XML.

// searchQuery is a MAM query whose form asks for the words of text
// (XEP-0431 3.1), with extra RSM XML.
// with, if not empty, is the form's 'with' field.
func searchQuery(c *client, id, text, rsm string, with ...string) ([]mamResult, *stanza.Element) {
	c.t.Helper()
	w := ""
	if len(with) > 0 {
		w = fmt.Sprintf(`<field var='with'><value>%s</value></field>`, with[0])
	}
	form := fmt.Sprintf(`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>`+
		`%s<field var='{urn:xmpp:fulltext:0}fulltext'><value>%s</value></field></x>`, w, text)
	return mamQuery(c, id, nil, form+rsm)
}

// XEP-0431: alice sends bob 12 messages, every third about lunch, then
// retracts one of those. A search for "NOON lunch" (any case, any order)
// finds the other lunch messages in archive order, pages through them
// with RSM after and before, says complete only on the last page, and
// never returns the retracted one. The form announces the field.
func TestXEP0431FullTextSearchPages(t *testing.T) {
	_, a, b := twoUsers(t)
	var want []string
	for i := range 12 {
		body := fmt.Sprintf("other %d", i)
		if i%3 == 0 {
			body = fmt.Sprintf("Lunch at noon, %d?", i)
			if i != 6 {
				want = append(want, body)
			}
		}
		a.send(`<message to='%s' type='chat' id='m%d'><body>%s</body></message>`, b.jid, i, body)
		b.expect(message(a.jid, body))
	}
	retractMsg(a, b.jid, "r6", "m6")
	b.expect(retraction(a.jid, "m6"))

	form := b.iq("fm", `<iq type='get' id='fm'><query xmlns='urn:xmpp:mam:2'/></iq>`)
	if !strings.Contains(form.String(), "{urn:xmpp:fulltext:0}fulltext") {
		t.Errorf("form lacks the XEP-0431 field: %s", form)
	}

	for _, c := range []*client{a, b} {
		all, ans := searchQuery(c, "all-"+c.name, "NOON lunch", "")
		if got := bodies(all); !slices.Equal(got, want) {
			t.Fatalf("%s: search found %v, want %v", c.name, got, want)
		}
		if complete, _, _, count := fin(t, ans); !complete || count != "" {
			t.Errorf("%s: whole result's fin %s: want complete and no count", c.name, ans)
		}
		// Forwards two at a time.
		var paged []string
		after := ""
		for page := 0; ; page++ {
			rsm := "<set xmlns='http://jabber.org/protocol/rsm'><max>2</max></set>"
			if after != "" {
				rsm = fmt.Sprintf("<set xmlns='http://jabber.org/protocol/rsm'><max>2</max><after>%s</after></set>", after)
			}
			rs, ans := searchQuery(c, fmt.Sprintf("f%d-%s", page, c.name), "lunch noon", rsm)
			paged = append(paged, bodies(rs)...)
			complete, _, last, _ := fin(t, ans)
			if complete != (len(paged) == len(want)) {
				t.Fatalf("%s: page %d %v complete=%v after %d of %d", c.name, page, bodies(rs), complete, len(paged), len(want))
			}
			if complete {
				break
			}
			after = last
		}
		if !slices.Equal(paged, want) {
			t.Errorf("%s: forward pages %v, want %v", c.name, paged, want)
		}
		// The last page, then the one before it (XEP-0059 2.5).
		last, ans := searchQuery(c, "l-"+c.name, "lunch", "<set xmlns='http://jabber.org/protocol/rsm'><max>2</max><before/></set>")
		if got := bodies(last); !slices.Equal(got, want[len(want)-2:]) {
			t.Errorf("%s: last page %v, want %v", c.name, got, want[len(want)-2:])
		}
		complete, first, _, _ := fin(t, ans)
		if complete {
			t.Errorf("%s: last page of a backwards search says complete, an earlier match exists", c.name)
		}
		prev, ans := searchQuery(c, "p-"+c.name, "lunch", fmt.Sprintf("<set xmlns='http://jabber.org/protocol/rsm'><max>2</max><before>%s</before></set>", first))
		if got := bodies(prev); !slices.Equal(got, want[:len(want)-2]) {
			t.Errorf("%s: page before %v, want %v", c.name, got, want[:len(want)-2])
		}
		if complete, _, _, _ := fin(t, ans); !complete {
			t.Errorf("%s: first page backwards not complete: %s", c.name, ans)
		}
		if none, ans := searchQuery(c, "n-"+c.name, "dinner", ""); len(none) != 0 {
			t.Errorf("%s: dinner found %v", c.name, bodies(none))
		} else if complete, _, _, _ := fin(t, ans); !complete {
			t.Errorf("%s: empty search not complete: %s", c.name, ans)
		}
	}
	// The form's other filters apply with the search.
	if rs, _ := searchQuery(b, "w1", "lunch", "", "alice@localhost"); len(rs) != len(want) {
		t.Errorf("with alice: %v", bodies(rs))
	}
	if rs, _ := searchQuery(b, "w2", "lunch", "", "carol@localhost"); len(rs) != 0 {
		t.Errorf("with carol: %v", bodies(rs))
	}
}

// XEP-0431 and issue 13: content whose key is destroyed never matches.
// After alice's keys are destroyed her archive still lists its entries,
// and a search of it finds nothing; bob's copies, under his key, match.
func TestXEP0431ErasedContentNeverMatches(t *testing.T) {
	e, a, b := twoUsers(t)
	for i := range 3 {
		a.send(`<message to='%s' type='chat' id='m%d'><body>lunch %d</body></message>`, b.jid, i, i)
		b.expect(message(a.jid, fmt.Sprint("lunch ", i)))
	}
	if rs, _ := searchQuery(a, "s0", "lunch", ""); len(rs) != 3 {
		t.Fatalf("before: %v", bodies(rs))
	}
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.keys.Destroy("alice@localhost", events.GoneErased); err != nil {
		t.Fatal(err)
	}
	e.start()
	a, b = e.login("alice", "phone"), e.login("bob", "laptop")
	if rs, _ := mamQuery(a, "all", nil, ""); len(rs) != 3 {
		t.Fatalf("alice's archive lists %d entries, want 3 (erased)", len(rs))
	}
	rs, ans := searchQuery(a, "s1", "lunch", "")
	if len(rs) != 0 {
		t.Errorf("erased content matched: %v", bodies(rs))
	}
	if complete, _, _, _ := fin(t, ans); !complete {
		t.Errorf("search of an erased archive: %s", ans)
	}
	if rs, _ := searchQuery(b, "s2", "lunch", ""); len(rs) != 3 {
		t.Errorf("bob's copies: %v", bodies(rs))
	}
}
