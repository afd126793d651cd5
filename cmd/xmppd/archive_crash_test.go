package main_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// chatStanza is what the crash test reads of a top-level element: a
// chat message's body and XEP-0359 stanza-ids, a XEP-0313 result or fin,
// or a XEP-0199 ping to answer.
type chatStanza struct {
	XMLName   xml.Name
	ID        string `xml:"id,attr"`
	From      string `xml:"from,attr"`
	Type      string `xml:"type,attr"`
	Body      string `xml:"body"`
	StanzaIDs []struct {
		ID string `xml:"id,attr"`
		By string `xml:"by,attr"`
	} `xml:"urn:xmpp:sid:0 stanza-id"`
	Ping   *struct{} `xml:"urn:xmpp:ping ping"`
	Result *struct {
		QueryID   string `xml:"queryid,attr"`
		ID        string `xml:"id,attr"`
		Forwarded struct {
			Message struct {
				From string `xml:"from,attr"`
				To   string `xml:"to,attr"`
				Body string `xml:"body"`
			} `xml:"message"`
		} `xml:"urn:xmpp:forward:0 forwarded"`
	} `xml:"urn:xmpp:mam:2 result"`
	Fin *struct {
		Complete string `xml:"complete,attr"`
		Set      struct {
			Last  string `xml:"last"`
			Count string `xml:"count"`
		} `xml:"http://jabber.org/protocol/rsm set"`
	} `xml:"urn:xmpp:mam:2 fin"`
}

// nextChat reads the next top-level element, answering the server's
// pings on the way; io.EOF-like errors end it (the server was killed).
func (c *rawXMPP) nextChat() (chatStanza, error) {
	for {
		tok, err := c.d.Token()
		if err != nil {
			return chatStanza{}, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		var n chatStanza
		if err := c.d.DecodeElement(&n, &se); err != nil {
			return chatStanza{}, err
		}
		if n.XMLName.Local == "iq" && n.Type == "get" && n.Ping != nil && !strings.Contains(n.From, "@") {
			c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c.conn, `<iq type='result' id='`+n.ID+`' to='`+n.From+`'/>`)
			continue
		}
		return n, nil
	}
}

// archived is one entry of an archive as MAM returned it.
type archived struct{ id, from, to, body string }

// mamAll pages through the whole of c's archive (XEP-0313 4; XEP-0059
// 2.2 paging forwards with <after/>), and returns its entries in archive
// order.
func (c *rawXMPP) mamAll(t *testing.T, who string) []archived {
	t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var out []archived
	after := ""
	for page := 0; ; page++ {
		qid := fmt.Sprintf("all-%d", page)
		set := `<set xmlns='http://jabber.org/protocol/rsm'><max>250</max>`
		if after != "" {
			set += `<after>` + after + `</after>`
		}
		set += `</set>`
		c.send(`<iq type='set' id='` + qid + `'><query xmlns='urn:xmpp:mam:2' queryid='` + qid + `'>` + set + `</query></iq>`)
		var fin *chatStanza
		n := 0
		for fin == nil {
			s, err := c.nextChat()
			if err != nil {
				t.Fatalf("%s: MAM page %d: %v", who, page, err)
			}
			switch {
			case s.XMLName.Local == "message" && s.Result != nil && s.Result.QueryID == qid:
				m := s.Result.Forwarded.Message
				out = append(out, archived{s.Result.ID, m.From, m.To, m.Body})
				n++
			case s.XMLName.Local == "iq" && s.ID == qid:
				if s.Type != "result" || s.Fin == nil {
					t.Fatalf("%s: MAM page %d answered %+v", who, page, s)
				}
				fin = &s
			}
		}
		if fin.Fin.Complete == "true" {
			return out
		}
		if n == 0 || fin.Fin.Set.Last == "" {
			t.Fatalf("%s: MAM page %d incomplete but empty: %+v", who, page, fin.Fin)
		}
		after = fin.Fin.Set.Last
	}
}

// Issue 13 "A crash test", through the real binary with the archive on:
// three senders chat at full speed to three recipients, each message
// numbered; `xmppd serve` is killed with SIGKILL in the middle. After a
// restart on the same log, every message any recipient received (a
// message is delivered only once it is durably archived) is in the
// archive of both parties, the recipient's with the stanza-id it was
// delivered with (XEP-0313 3.5, XEP-0359); MAM, paged through each whole
// archive, returns every message exactly once (no id and no body twice),
// and one sender's messages to one recipient in the order they were
// sent; and the log verifies.
func TestKilledServerArchivedEveryReceivedMessage(t *testing.T) {
	const senders, recipients, killAfter = 3, 3, 1500
	dir := t.TempDir()
	user := func(kind string, i int) string { return fmt.Sprintf("%s%d", kind, i) }
	for i := range senders {
		mustRun(t, dir, "", "user", "add", user("s", i)+"@localhost", "--password", "pw")
	}
	for i := range recipients {
		mustRun(t, dir, "", "user", "add", user("r", i)+"@localhost", "--password", "pw")
	}
	srv := startServe(t, dir, "XMPPD_ARCHIVE_ENABLED=true")

	// A received message: its body, and the stanza-id the recipient's
	// archive gave it.
	type receipt struct{ body, stanzaID string }
	var (
		mu       sync.Mutex
		received = make([][]receipt, recipients)
		total    atomic.Int64
		readers  sync.WaitGroup
	)
	killNow := make(chan struct{})
	var killOnce sync.Once
	for r := range recipients {
		c := dialXMPP(t, srv.directTLS)
		c.login(user("r", r), "pw", "desk")
		c.send(`<presence/>`)
		c.await("presence", "")
		c.conn.SetReadDeadline(time.Time{})
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				s, err := c.nextChat()
				if err != nil {
					return // killed
				}
				if s.XMLName.Local != "message" || s.Body == "" {
					continue
				}
				sid := ""
				for _, x := range s.StanzaIDs {
					if x.By == user("r", r)+"@localhost" {
						sid = x.ID
					}
				}
				mu.Lock()
				received[r] = append(received[r], receipt{s.Body, sid})
				mu.Unlock()
				if total.Add(1) == killAfter {
					killOnce.Do(func() { close(killNow) })
				}
			}
		}()
	}
	var writers sync.WaitGroup
	for s := range senders {
		c := dialXMPP(t, srv.directTLS)
		c.login(user("s", s), "pw", "phone")
		writers.Add(1)
		go func() {
			defer writers.Done()
			for n := 0; ; n++ {
				to := user("r", n%recipients)
				// The body names sender, recipient and number: unique,
				// and ordered per pair.
				msg := fmt.Sprintf(`<message type='chat' to='%s@localhost' id='%s-%d'><body>%s %s %06d</body></message>`,
					to, user("s", s), n, user("s", s), to, n)
				c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if _, err := io.WriteString(c.conn, msg); err != nil {
					return // killed
				}
			}
		}()
	}
	select {
	case <-killNow:
	case <-time.After(20 * time.Second):
		t.Fatalf("only %d messages received in 20 s:\n%s", total.Load(), srv.log())
	}
	srv.stop(t, syscall.SIGKILL)
	readers.Wait()
	writers.Wait()

	srv.start(t)
	archives := map[string][]archived{}
	for i := range senders {
		c := dialXMPP(t, srv.directTLS)
		c.login(user("s", i), "pw", "mam")
		archives[user("s", i)] = c.mamAll(t, user("s", i))
	}
	for i := range recipients {
		c := dialXMPP(t, srv.directTLS)
		c.login(user("r", i), "pw", "mam")
		archives[user("r", i)] = c.mamAll(t, user("r", i))
	}
	srv.stop(t, syscall.SIGTERM)

	// Exactly once, and in order per pair, in every archive.
	byBody := map[string]map[string]archived{}
	for who, entries := range archives {
		byBody[who] = map[string]archived{}
		ids := map[string]bool{}
		last := map[string]int{} // the last number seen per pair
		for _, a := range entries {
			if ids[a.id] {
				t.Errorf("%s: MAM returned id %s twice", who, a.id)
			}
			ids[a.id] = true
			if _, dup := byBody[who][a.body]; dup {
				t.Errorf("%s: MAM returned %q twice", who, a.body)
			}
			byBody[who][a.body] = a
			var from, to string
			var n int
			if _, err := fmt.Sscanf(a.body, "%s %s %d", &from, &to, &n); err != nil {
				t.Errorf("%s: archived body %q: %v", who, a.body, err)
				continue
			}
			if p, ok := last[from+to]; ok && n <= p {
				t.Errorf("%s: %s's message %d to %s comes after its message %d", who, from, n, to, p)
			}
			last[from+to] = n
		}
	}
	// Every received message is in both parties' archives.
	count := 0
	for r, got := range received {
		for _, m := range got {
			count++
			var from, to string
			var n int
			fmt.Sscanf(m.body, "%s %s %d", &from, &to, &n)
			in, ok := byBody[user("r", r)][m.body]
			switch {
			case !ok:
				t.Errorf("%s received %q, which its archive lacks", user("r", r), m.body)
			case in.id != m.stanzaID:
				t.Errorf("%s received %q with stanza-id %q; its archive has id %q", user("r", r), m.body, m.stanzaID, in.id)
			}
			if _, ok := byBody[from][m.body]; !ok {
				t.Errorf("%s received %q, which the sender %s's archive lacks", user("r", r), m.body, from)
			}
		}
	}
	if count < killAfter {
		t.Errorf("%d messages received, want at least %d", count, killAfter)
	}
	t.Logf("%d messages received before SIGKILL; archives hold %d, %d, %d (senders) and %d, %d, %d (recipients)", count,
		len(archives["s0"]), len(archives["s1"]), len(archives["s2"]), len(archives["r0"]), len(archives["r1"]), len(archives["r2"]))
	if r := xmppd(t, dir, "", "verify"); r.code != 0 {
		t.Errorf("verify after SIGKILL: exit %d\n%s", r.code, r.stdout)
	}
}
