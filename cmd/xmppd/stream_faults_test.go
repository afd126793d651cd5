package main_test

import (
	"crypto/tls"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"xmppd/events"
)

// streamErr is a <stream:error/> as a raw client reads it.
type streamErr struct {
	Conds []struct {
		XMLName xml.Name
		Text    string `xml:",chardata"`
	} `xml:",any"`
}

// condition and text of a stream error (RFC 6120 section 4.9.2).
func (e streamErr) condition() (cond, text string) {
	for _, c := range e.Conds {
		if c.XMLName.Local == "text" {
			text = c.Text
		} else if cond == "" {
			cond = c.XMLName.Local
		}
	}
	return cond, text
}

// streamError reads up to the stream error and the end of the stream,
// and returns the error's condition and text.
func (c *rawXMPP) streamError() (cond, text string) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		tok, err := c.d.Token()
		if err != nil {
			c.t.Fatalf("want a stream error, read: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local != "error" || se.Name.Space != "http://etherx.jabber.org/streams" {
			if se.Name.Local != "stream" {
				c.d.Skip()
			}
			continue
		}
		var e streamErr
		if err := c.d.DecodeElement(&e, &se); err != nil {
			c.t.Fatalf("stream error: %v", err)
		}
		cond, text = e.condition()
		// RFC 6120 section 4.9.1.1: the stream is closed right after.
		tok, err = c.d.Token()
		if end, ok := tok.(xml.EndElement); err != nil || !ok || end.Name.Local != "stream" {
			c.t.Fatalf("after the stream error want </stream:stream>, got %v %v", tok, err)
		}
		return cond, text
	}
}

// dialNoOpen connects over direct TLS without opening a stream.
func dialNoOpen(t *testing.T, addr string) *rawXMPP {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawXMPP{t: t, conn: conn, d: xml.NewDecoder(conn)}
}

const faultsHeader = `<stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`

// TestStreamFaults runs the real binary with a one-second stanza timeout
// (XMPPD_C2S_STANZA_TIMEOUT) and real TLS clients on 127.0.0.1:
//
//   - a client that stops in the middle of a stanza is closed with
//     <connection-timeout/> (RFC 6120 section 4.9.3.4) after about a
//     second, while an idle session and one sending only whitespace
//     keepalives (section 4.6.1) are still alive after the same time
//     (a ping round trip each, XEP-0199);
//   - a stanza with an undeclared prefix, on an element or an attribute,
//     is closed with <not-well-formed/> (sections 11.3 and 4.9.3.13) and
//     never delivered, while xml:lang and declared prefixes are;
//   - an XML declaration naming UTF-16 gets <unsupported-encoding/>
//     (sections 11.6 and 4.9.3.22), on a new stream and on the stream
//     restarted after SASL; 'utf-8' and version '1.1' (read as XML 1.0,
//     XML 1.0 section 2.8) open the stream;
//
// and `xmppd export` shows each session's end with its cause and
// condition.
func TestStreamFaults(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv := startServe(t, dir, "XMPPD_C2S_STANZA_TIMEOUT=1s")

	bob := dialXMPP(t, srv.directTLS)
	bob.login("bob", "bob-pw", "ws")
	bob.send(`<presence/>`)
	bob.await("presence", "")
	idle := dialXMPP(t, srv.directTLS)
	idle.login("alice", "alice-pw", "idle")
	half := dialXMPP(t, srv.directTLS)
	half.login("alice", "alice-pw", "half")

	// Half a stanza, then nothing; meanwhile bob sends whitespace only.
	start := time.Now()
	half.send(`<message to='bob@localhost/ws'><body>hel`)
	stop := make(chan struct{})
	keepalives := make(chan struct{})
	go func() {
		defer close(keepalives)
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
				bob.conn.SetWriteDeadline(time.Now().Add(time.Second))
				io.WriteString(bob.conn, " ")
			}
		}
	}()
	cond, text := half.streamError()
	took := time.Since(start)
	close(stop)
	<-keepalives
	if cond != "connection-timeout" || !strings.Contains(text, "incomplete") {
		t.Fatalf("half stanza: stream error %q %q, want connection-timeout saying a stanza was left incomplete", cond, text)
	}
	if took < 900*time.Millisecond || took > 5*time.Second {
		t.Errorf("half stanza cut after %v, want about the configured 1s", took)
	}
	t.Logf("half stanza cut after %v: %s", took.Round(time.Millisecond), text)
	for name, c := range map[string]*rawXMPP{"idle": idle, "whitespace": bob} {
		c.send(`<iq type='get' id='alive'><ping xmlns='urn:xmpp:ping'/></iq>`)
		if n := c.await("iq", "alive"); n.attr("type") != "result" {
			t.Fatalf("%s session after %v: ping answered %+v", name, time.Since(start), n)
		}
	}

	// Undeclared prefixes.
	for res, stanza := range map[string]string{
		"pfx-element":   `<message to='bob@localhost/ws' id='bad1'><body>x</body><foo:bar/></message>`,
		"pfx-attribute": `<message to='bob@localhost/ws' id='bad2' foo:bar='1'><body>x</body></message>`,
	} {
		c := dialXMPP(t, srv.directTLS)
		c.login("alice", "alice-pw", res)
		c.send(stanza)
		if cond, text := c.streamError(); cond != "not-well-formed" || !strings.Contains(text, "prefix") {
			t.Fatalf("%s: stream error %q %q, want not-well-formed about the prefix", res, cond, text)
		}
	}
	// The next message bob gets is this one: neither bad one went through.
	idle.send(`<message to='bob@localhost/ws' id='good' xml:lang='en'><body xml:lang='fr'>salut</body><p:x xmlns:p='urn:example:p' p:y='1'/></message>`)
	if n := bob.await("message", ""); n.attr("id") != "good" {
		t.Fatalf("bob got %+v, want the well-formed message 'good' first", n)
	}

	// XML declarations, on a new stream and after SASL.
	for _, tc := range []struct{ decl, cond string }{
		{`<?xml version='1.0' encoding='UTF-16'?>`, "unsupported-encoding"},
		{`<?xml version='2.0'?>`, "not-well-formed"},
		{`<?xml version='1.0' encoding='utf-8'?>`, ""},
		{`<?xml version='1.1'?>`, ""},
	} {
		for _, afterSASL := range []bool{false, true} {
			c := dialNoOpen(t, srv.directTLS)
			if afterSASL {
				c.open()
				if !c.plain("alice", "alice-pw") {
					t.Fatal("login refused")
				}
			}
			c.send(tc.decl + faultsHeader)
			if n := c.next(); n.XMLName.Local != "stream" {
				t.Fatalf("%s: want the server's stream header first, got %v", tc.decl, n.XMLName)
			}
			if tc.cond == "" {
				if n := c.next(); n.XMLName.Local != "features" {
					t.Fatalf("%s (after SASL %v): want features, got %v", tc.decl, afterSASL, n.XMLName)
				}
				continue
			}
			if cond, _ := c.streamError(); cond != tc.cond {
				t.Fatalf("%s (after SASL %v): stream error %q, want %q", tc.decl, afterSASL, cond, tc.cond)
			}
		}
	}

	// The log says why each session ended.
	srv.stop(t, syscall.SIGTERM)
	want := map[string]struct {
		cause events.SessionEndCause
		cond  string
	}{
		"half":          {events.EndTimeout, "connection-timeout"},
		"pfx-element":   {events.EndStreamError, "not-well-formed"},
		"pfx-attribute": {events.EndStreamError, "not-well-formed"},
	}
	found := map[string]bool{}
	for _, e := range readJSONL(t, mustRun(t, dir, "", "export", "--format", "jsonl").stdout) {
		if e.Type != events.TypeSessionEnded {
			continue
		}
		var ended events.SessionEnded
		if err := json.Unmarshal(e.Data, &ended); err != nil {
			t.Fatalf("session.ended %s: %v", e.Data, err)
		}
		w, ok := want[ended.Resource]
		if !ok {
			continue
		}
		found[ended.Resource] = true
		if ended.Cause != w.cause || ended.Condition != w.cond {
			t.Errorf("session %s ended %s/%s (%q), want %s/%s", ended.Resource, ended.Cause, ended.Condition, ended.Detail, w.cause, w.cond)
		}
		if ended.Resource == "half" && !strings.Contains(ended.Detail, "incomplete") {
			t.Errorf("session half: detail %q does not say a stanza was left incomplete", ended.Detail)
		}
	}
	for res := range want {
		if !found[res] {
			t.Errorf("no session.ended for %s in the export", res)
		}
	}
}

// TestServeRefusesBadStreamTimeouts: c2s.stanza_timeout and
// c2s.idle_timeout are durations; a bare number is nanoseconds to the
// configuration reader, which would cut every client, so anything under a
// second but 0 (off) is refused before serving.
func TestServeRefusesBadStreamTimeouts(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"c2s:\n  stanza_timeout: 30\n", "c2s.stanza_timeout 30ns must be 0 (off) or at least 1s"},
		{"c2s:\n  idle_timeout: 500ms\n", "c2s.idle_timeout 500ms must be 0 (off) or at least 1s"},
		{"c2s:\n  stanza_timeout: -5s\n", "c2s.stanza_timeout -5s must be 0 (off) or at least 1s"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "xmppd.yaml"), []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		r := xmppd(t, dir, "", "serve")
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q, want exit 2 saying %q", tc.yaml, r.code, r.stderr, tc.want)
		}
	}
}
