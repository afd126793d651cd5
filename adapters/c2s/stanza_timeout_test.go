package c2s_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"xmppd/adapters/c2s"
	"xmppd/events"
)

// A bound client that stops in the middle of a stanza is closed with
// <connection-timeout/> (RFC 6120 section 4.9.3.4) once StanzaTimeout has
// passed since the stanza began, and the session's end says so.
func TestStanzaTimeoutHalfStanza(t *testing.T) {
	ts := startServer(t, func(cfg *c2s.Config, _ *c2s.Deps) { cfg.StanzaTimeout = 300 * time.Millisecond })
	c, _, full := login(t, ts, "alice", "secret", "")
	sess := ts.core.session(full)
	start := time.Now()
	c.send(`<message to='bob@localhost'><body>hel`)
	text := expectStreamErrorText(t, c, "connection-timeout")
	if took := time.Since(start); took < 250*time.Millisecond || took > 3*time.Second {
		t.Errorf("cut after %v, want about 300ms", took)
	}
	if !strings.Contains(text, "incomplete") {
		t.Errorf("stream error text %q does not say a stanza was left incomplete", text)
	}
	waitFor(t, "session ended", func() bool {
		r, ok := ts.core.endedReason(sess.ID())
		return ok && r.Cause == events.EndTimeout && r.Condition == "connection-timeout" && strings.Contains(r.Detail, "incomplete")
	})
	select {
	case st := <-ts.core.stanzas:
		t.Fatalf("core got the incomplete stanza: %s", st.El)
	default:
	}
}

// The deadline bounds the whole stanza, not each read: a client trickling
// one byte at a time (the slowloris pattern) is cut as well.
func TestStanzaTimeoutTrickle(t *testing.T) {
	ts := startServer(t, func(cfg *c2s.Config, _ *c2s.Deps) { cfg.StanzaTimeout = 300 * time.Millisecond })
	c, _, _ := login(t, ts, "alice", "secret", "")
	stanza := `<message to='bob@localhost'><body>` + strings.Repeat("x", 100) + `</body></message>`
	start := time.Now()
	go func() {
		for i := 0; i < len(stanza); i++ {
			if _, err := io.WriteString(c.conn, stanza[i:i+1]); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond) // 2.7 s for the whole stanza
		}
	}()
	expectStreamErrorText(t, c, "connection-timeout")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("trickling client cut after %v, want about 300ms", took)
	}
}

// An idle session is not cut, nor one that only sends whitespace
// keepalives (RFC 6120 section 4.6.1), nor a stanza that arrives in
// pieces within the limit; a ping round trip proves the session lives.
func TestStanzaTimeoutSparesIdleSessions(t *testing.T) {
	ts := startServer(t, func(cfg *c2s.Config, _ *c2s.Deps) { cfg.StanzaTimeout = 200 * time.Millisecond })
	idle, _, _ := login(t, ts, "alice", "secret", "idle")
	spaces, _, _ := login(t, ts, "alice", "secret", "spaces")
	pieces, _, _ := login(t, ts, "bob", "hunter2", "pieces")

	// A stanza just after one that armed the deadline: the deadline of
	// the first must not carry over to the wait for the next.
	pieces.send(`<iq type='get' id='a'><ping xmlns='urn:xmpp:ping'/>`)
	time.Sleep(100 * time.Millisecond)
	pieces.send(`</iq>`)
	if el := pieces.next(); el.Attr("id") != "a" || el.Attr("type") != "result" {
		t.Fatalf("ping in pieces: %s", el)
	}
	for i := 0; i < 12; i++ { // 600 ms: three stanza timeouts
		spaces.send(" ")
		time.Sleep(50 * time.Millisecond)
	}
	for name, c := range map[string]*rawClient{"idle": idle, "whitespace": spaces, "pieces": pieces} {
		c.send(`<iq type='get' id='alive'><ping xmlns='urn:xmpp:ping'/></iq>`)
		if el := c.next(); el.Attr("id") != "alive" || el.Attr("type") != "result" {
			t.Fatalf("%s session: want ping result, got %s", name, el)
		}
	}
}

// Closing's grace deadline (two seconds for the client's
// </stream:stream>, RFC 6120 section 4.4) is not extended by a stanza the
// client then leaves half sent.
func TestStanzaTimeoutKeepsCloseGrace(t *testing.T) {
	ts := startServer(t, func(cfg *c2s.Config, _ *c2s.Deps) { cfg.StanzaTimeout = time.Minute })
	first, _, _ := login(t, ts, "alice", "secret", "r")
	start := time.Now()
	login(t, ts, "alice", "secret", "r") // replaces the first: <conflict/>
	first.expectStreamError("conflict")
	first.send(`<message to='bob@localhost'><body>never end`)
	first.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := first.conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("server sent more after </stream:stream>")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("connection cut after %v, want the 2 s grace", took)
	}
}

// expectStreamErrorText is expectStreamError that also returns the
// error's text.
func expectStreamErrorText(t *testing.T, c *rawClient, cond string) string {
	t.Helper()
	for {
		el, err := c.nextErr()
		if err != nil {
			t.Fatalf("want stream error %s, got %v", cond, err)
		}
		if el.Name.Local != "error" || el.Name.Space != "http://etherx.jabber.org/streams" {
			continue
		}
		if got := el.Elements()[0].Name.Local; got != cond {
			t.Fatalf("stream error = %s, want %s (%s)", got, cond, el)
		}
		text := ""
		if txt := el.Child("text", "urn:ietf:params:xml:ns:xmpp-streams"); txt != nil {
			text = txt.Text()
		}
		if _, err := c.nextErr(); err != io.EOF {
			t.Fatalf("after stream error want </stream:stream>, got %v", err)
		}
		return text
	}
}
