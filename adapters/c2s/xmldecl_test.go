package c2s_test

import (
	"strings"
	"testing"
	"time"

	"xmppd/events"
)

const streamOpen = `<stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`

// The XML declaration before a stream header (RFC 6120 section 11.5,
// XML 1.0 Fifth Edition's XMLDecl): UTF-8 in any spelling or none goes
// on; another encoding gets <unsupported-encoding/> (sections 11.6 and
// 4.9.3.22); a declaration that is not an XMLDecl gets <not-well-formed/>
// (section 11.3). Version 1.1 matches XML 1.0's VersionNum ('1.' [0-9]+)
// and a 1.0 processor reads such a document as 1.0 (XML 1.0 section 2.8),
// so it goes on. Each case on a new stream, on a restarted stream over
// TLS, and on the stream restarted after SASL.
func TestXMLDeclaration(t *testing.T) {
	cases := []struct {
		name, decl, cond string // cond "" means the stream opens
	}{
		{"none", ``, ""},
		{"1.0", `<?xml version='1.0'?>`, ""},
		{"utf-8", `<?xml version='1.0' encoding='utf-8'?>`, ""},
		{"UTF-8 double quotes", `<?xml version="1.0" encoding="UTF-8"?>`, ""},
		{"spaces and standalone", "<?xml  version = '1.0'\n encoding='Utf-8' standalone='no' ?>", ""},
		{"leading whitespace", "\n <?xml version='1.0'?>", ""},
		{"1.1 read as 1.0", `<?xml version='1.1'?>`, ""},
		{"UTF-16", `<?xml version='1.0' encoding='UTF-16'?>`, "unsupported-encoding"},
		{"ISO-8859-1", `<?xml version='1.0' encoding='ISO-8859-1'?>`, "unsupported-encoding"},
		{"UTF-16 bytes", "<\x00?\x00x\x00m\x00l\x00", "unsupported-encoding"},
		{"UTF-16 byte order mark", "\xfe\xff\x00<", "unsupported-encoding"},
		{"version 2.0", `<?xml version='2.0'?>`, "not-well-formed"},
		{"version 1", `<?xml version='1'?>`, "not-well-formed"},
		{"no version", `<?xml encoding='UTF-8'?>`, "not-well-formed"},
		{"encoding before version", `<?xml encoding='UTF-8' version='1.0'?>`, "not-well-formed"},
		{"bad standalone", `<?xml version='1.0' standalone='maybe'?>`, "not-well-formed"},
		{"unknown pseudo-attribute", `<?xml version='1.0' charset='UTF-8'?>`, "not-well-formed"},
		{"two declarations", `<?xml version='1.0'?><?xml version='1.0'?>`, "not-well-formed"},
		{"second declaration of version 1.1", `<?xml version='1.0'?><?xml version='1.1'?>`, "not-well-formed"},
		{"second declaration in UTF-16", `<?xml version='1.0'?><?xml version='1.0' encoding='UTF-16'?>`, "unsupported-encoding"},
		{"other processing instruction", `<?xml-stylesheet href='a'?>`, "restricted-xml"},
	}
	ts := startServer(t, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, stage := range []string{"first stream", "after STARTTLS", "after SASL"} {
				c := dialRaw(t, ts.srv.StartTLSAddr())
				c.conn.SetDeadline(time.Now().Add(5 * time.Second))
				if stage != "first stream" {
					c.open()
					c.startTLS(ts.clientTLS())
				}
				if stage == "after SASL" {
					c.open()
					if el := c.auth(mechPlain(), "alice", "secret"); el.Name.Local != "success" {
						t.Fatalf("auth: %s", el)
					}
				}
				c.send(tc.decl + streamOpen)
				if tc.cond == "" {
					c.readHeader()
					if f := c.next(); f.Name.Local != "features" {
						t.Fatalf("%s: want features, got %s", stage, f)
					}
					continue
				}
				c.readHeader() // the server opens its stream first (4.9.1.1)
				c.expectStreamError(tc.cond)
			}
		})
	}
}

// A stanza with a prefix no declaration binds is not namespace-well-formed
// (RFC 6120 sections 11.3 item 4 and 4.9.3.13): the stream is closed with
// <not-well-formed/>, the stanza goes nowhere, and the end is recorded.
// xml:lang, whose prefix is predeclared, and prefixes that are declared
// pass.
func TestUndeclaredPrefixClosesStream(t *testing.T) {
	ts := startServer(t, nil)
	for name, send := range map[string]string{
		"element":        `<message to='bob@localhost'><foo:bar/></message>`,
		"attribute":      `<message to='bob@localhost' foo:bar='1'><body>hi</body></message>`,
		"deep attribute": `<message to='bob@localhost'><body>hi</body><x xmlns='urn:x'><y foo:z='1'/></x></message>`,
		"stanza itself":  `<foo:message to='bob@localhost'/>`,
	} {
		t.Run(name, func(t *testing.T) {
			c, _, full := login(t, ts, "alice", "secret", "")
			sess := ts.core.session(full)
			c.send(send)
			if text := expectStreamErrorText(t, c, "not-well-formed"); !strings.Contains(text, "prefix") {
				t.Errorf("stream error text %q does not name the undeclared prefix", text)
			}
			waitFor(t, "session ended", func() bool {
				r, ok := ts.core.endedReason(sess.ID())
				return ok && r.Cause == events.EndStreamError && r.Condition == "not-well-formed"
			})
			select {
			case st := <-ts.core.stanzas:
				t.Fatalf("core got %s", st.El)
			default:
			}
		})
	}
	t.Run("declared and xml: prefixes pass", func(t *testing.T) {
		c, _, _ := login(t, ts, "alice", "secret", "")
		c.send(`<message to='bob@localhost' xml:lang='en'><body xml:lang='fr'>salut</body><p:x xmlns:p='urn:example:p' p:y='1'/></message>`)
		st := nextStanza(t, ts.core)
		if got := st.El.Child("body", "").Text(); got != "salut" {
			t.Fatalf("body %q", got)
		}
		if x := st.El.Child("x", "urn:example:p"); x == nil {
			t.Fatalf("declared prefix lost: %s", st.El)
		}
	})
}
