package stanza_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"testing"

	"xmppd/stanza"
)

func TestParseEncodeRoundTrip(t *testing.T) {
	in := `<message xmlns='jabber:client' to='a@b' type='chat' xml:lang='en'><body>hi &amp; &lt;bye&gt;</body><x xmlns='urn:x'><y a='1&apos;"'/></x></message>`
	e, err := stanza.ParseBytes([]byte(in), stanza.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Name.Space != "jabber:client" || e.Name.Local != "message" {
		t.Fatalf("name = %v", e.Name)
	}
	if got := e.Attr("to"); got != "a@b" {
		t.Errorf("to = %q", got)
	}
	if got := e.Child("body", "jabber:client").Text(); got != "hi & <bye>" {
		t.Errorf("body = %q", got)
	}
	if e.Child("x", "urn:x").Child("y", "urn:x").Attr("a") != `1'"` {
		t.Errorf("nested attr lost")
	}
	want := `<message xmlns='jabber:client' to='a@b' type='chat' xml:lang='en'><body>hi &amp; &lt;bye&gt;</body><x xmlns='urn:x'><y a='1&apos;&quot;'/></x></message>`
	if got := e.String(); got != want {
		t.Errorf("encode:\n got %s\nwant %s", got, want)
	}
	// Inside a jabber:client stream the root needs no declaration.
	if got := string(e.AppendXML(nil, "jabber:client")); !strings.HasPrefix(got, "<message to=") {
		t.Errorf("in-stream encode = %s", got)
	}
}

func TestHelpers(t *testing.T) {
	e := stanza.New("jabber:client", "iq", "type", "get", "id", "1")
	e.AddChild(stanza.New("urn:xmpp:ping", "ping"))
	e.SetAttr("type", "result").SetAttr("to", "x@y").RemoveAttr("id")
	if e.Attr("type") != "result" || e.Attr("to") != "x@y" {
		t.Fatalf("attrs = %v", e.Attrs)
	}
	if _, ok := e.LookupAttr("id"); ok {
		t.Fatal("id not removed")
	}
	c := e.Copy()
	c.SetAttr("type", "error")
	c.Child("ping", "urn:xmpp:ping").SetAttr("z", "1")
	if e.Attr("type") != "result" || e.Child("ping", "").Attr("z") != "" {
		t.Fatal("Copy shares memory with the original")
	}
	if len(e.Elements()) != 1 {
		t.Fatalf("elements = %d", len(e.Elements()))
	}
}

func TestLimits(t *testing.T) {
	deep := strings.Repeat("<a>", 10) + strings.Repeat("</a>", 10)
	if _, err := stanza.ParseBytes([]byte(deep), stanza.Limits{MaxDepth: 5}); !errors.Is(err, stanza.ErrTooDeep) {
		t.Errorf("deep: err = %v", err)
	}
	if _, err := stanza.ParseBytes([]byte(deep), stanza.Limits{MaxDepth: 10}); err != nil {
		t.Errorf("depth 10 within limit: %v", err)
	}
	wide := "<a>" + strings.Repeat("<b/>", 50) + "</a>"
	if _, err := stanza.ParseBytes([]byte(wide), stanza.Limits{MaxNodes: 20}); !errors.Is(err, stanza.ErrTooMany) {
		t.Errorf("wide: err = %v", err)
	}
	// RFC 6120 section 11.1: no comments or processing instructions.
	for _, in := range []string{`<a><!-- c --></a>`, `<a><?pi x?></a>`, `<!DOCTYPE a><a/>`} {
		if _, err := stanza.ParseBytes([]byte(in), stanza.Limits{}); !errors.Is(err, stanza.ErrRestricted) {
			t.Errorf("%s: err = %v", in, err)
		}
	}
	var se *xml.SyntaxError
	if _, err := stanza.ParseBytes([]byte(`<a><b></a>`), stanza.Limits{}); !errors.As(err, &se) {
		t.Errorf("mismatched: err = %v", err)
	}
}

func TestEncodeSanitises(t *testing.T) {
	e := stanza.New("", "body").AddText("a\x00b\r")
	e.SetAttr("v", "x\ny")
	got := e.String()
	if got != "<body v='x&#xa;y'>a\uFFFDb&#xD;</body>" {
		t.Fatalf("got %q", got)
	}
	back, err := stanza.ParseBytes([]byte(got), stanza.Limits{})
	if err != nil || back.Attr("v") != "x\ny" || back.Text() != "a\uFFFDb\r" {
		t.Fatalf("reparse: %v %q %q", err, back.Attr("v"), back.Text())
	}
}

func ExampleElement() {
	e := stanza.New("jabber:client", "message", "to", "juliet@example.com", "type", "chat")
	e.AddChild(stanza.New("jabber:client", "body").AddText("Art thou not Romeo?"))
	fmt.Println(string(e.AppendXML(nil, "jabber:client")))
	// Output: <message to='juliet@example.com' type='chat'><body>Art thou not Romeo?</body></message>
}

// FuzzParse: whatever parses must encode to XML that parses back to the
// same encoding (the parser is fed outside input by every stream).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`<a/>`, `<message xmlns='jabber:client'><body>x</body></message>`,
		`<a xmlns:p='urn:p' p:q='1' xml:lang='en'><b xmlns=''>t</b></a>`,
		`<a>&#x1F600;&amp;</a>`, `<a><b><c/></b></a>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := stanza.ParseBytes(in, stanza.Limits{MaxDepth: 32, MaxNodes: 1000})
		if err != nil {
			return
		}
		out := e.Bytes()
		e2, err := stanza.ParseBytes(out, stanza.Limits{})
		if err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", out, in, err)
		}
		if out2 := e2.Bytes(); !bytes.Equal(out, out2) {
			t.Fatalf("unstable encoding:\n%q\n%q", out, out2)
		}
	})
}

func TestRefusesAmbiguousNames(t *testing.T) {
	for in, want := range map[string]error{
		`<message to='a@b' to='c@d'/>`: stanza.ErrDuplicateAttr,
		`<a xmlns:p='urn:p' p:0=''/>`:  stanza.ErrBadName,
	} {
		if _, err := stanza.ParseBytes([]byte(in), stanza.Limits{}); !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", in, err, want)
		}
	}
}

// An Encoded child is written as it is, inside its parent, and a copy
// shares it (it is immutable).
func TestEncodedChildWrittenAsIs(t *testing.T) {
	q := stanza.New("jabber:iq:roster", "query", "ver", "3").AddChild(stanza.New("jabber:iq:roster", "item", "jid", "a@b"))
	enc := stanza.Encoded(q.Bytes())
	iq := stanza.New("jabber:client", "iq", "type", "result", "id", "1")
	iq.Children = append(iq.Children, enc)
	got := string(iq.Copy().AppendXML(nil, "jabber:client"))
	want := `<iq type='result' id='1'><query xmlns='jabber:iq:roster' ver='3'><item jid='a@b'/></query></iq>`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if _, err := stanza.ParseBytes([]byte(got), stanza.Limits{MaxDepth: 8, MaxNodes: 16}); err != nil {
		t.Fatalf("not well-formed: %v", err)
	}
}
