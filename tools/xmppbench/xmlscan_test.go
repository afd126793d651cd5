package main

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

const testHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' version='1.0'>"

// readAll drains r, returning the raw elements (the header marked with
// a leading "OPEN ") and the error that ended the stream.
func readAll(r *elemReader) ([]string, error) {
	var out []string
	for {
		e, err := r.next()
		if err != nil {
			return out, err
		}
		s := string(e.raw)
		if e.open {
			s = "OPEN " + s
		}
		out = append(out, s)
	}
}

func TestElemReaderSplitsTopLevelElements(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    []string
		wantErr error
	}{
		{
			name: "features then stanzas, whitespace keepalives between",
			in: testHeader + "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>" +
				" \n\t <message to='a'><body>hi</body></message>\n \n<presence/>  </stream:stream>",
			want: []string{
				"OPEN <stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' version='1.0'>",
				"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
				"<message to='a'><body>hi</body></message>",
				"<presence/>",
			},
			wantErr: errStreamClosed,
		},
		{
			name: "a '>' and '/>' inside attribute values",
			in:   testHeader + `<message id='a>b' x="/>"><body>1</body></message><iq id="q/>"/>`,
			want: []string{"", `<message id='a>b' x="/>"><body>1</body></message>`, `<iq id="q/>"/>`},
		},
		{
			name: "nested elements of the same name, comments, CDATA and a PI",
			in: testHeader + "<message><message><x/></message><!-- <not/> --><body><![CDATA[</message> <]]></body></message>" +
				"<?pi <x>?><presence/>",
			want: []string{"", "<message><message><x/></message><!-- <not/> --><body><![CDATA[</message> <]]></body></message>", "<presence/>"},
		},
		{
			name:    "EOF inside an element",
			in:      testHeader + "<message><body>half",
			want:    []string{""},
			wantErr: io.ErrUnexpectedEOF,
		},
	}
	for _, tc := range cases {
		for _, oneByte := range []bool{false, true} {
			var src io.Reader = strings.NewReader(tc.in)
			if oneByte { // every element split across many reads
				src = iotest.OneByteReader(src)
			}
			got, err := readAll(newElemReader(src))
			want := tc.wantErr
			if want == nil {
				want = io.ErrUnexpectedEOF
			}
			if !errors.Is(err, want) {
				t.Errorf("%s (one byte %v): error %v, want %v", tc.name, oneByte, err, want)
			}
			if len(got) != len(tc.want) {
				t.Errorf("%s (one byte %v): got %d elements %q, want %d", tc.name, oneByte, len(got), got, len(tc.want))
				continue
			}
			for i := range got {
				if tc.want[i] == "" { // the header, not under test here
					if !strings.HasPrefix(got[i], "OPEN <stream:stream") {
						t.Errorf("%s: element %d = %q, want the stream header", tc.name, i, got[i])
					}
					continue
				}
				if got[i] != tc.want[i] {
					t.Errorf("%s (one byte %v): element %d = %q, want %q", tc.name, oneByte, i, got[i], tc.want[i])
				}
			}
		}
	}
}

func TestElemReaderRestartAndLimits(t *testing.T) {
	// After SASL success the client sends a new header; the server
	// answers with a new one on the same connection.
	r := newElemReader(strings.NewReader(testHeader + "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"))
	if e, _ := r.next(); !e.open {
		t.Fatal("first element is not the header")
	}
	if e, _ := r.next(); !e.is("success") {
		t.Fatalf("got %q, want success", e.raw)
	}
	r.restart(strings.NewReader(testHeader + "<stream:features/>"))
	if e, _ := r.next(); !e.open {
		t.Fatal("no header after restart")
	}
	if e, _ := r.next(); !e.is("features") {
		t.Fatalf("got %q after restart, want features", e.raw)
	}

	big := newElemReader(strings.NewReader(testHeader + "<message><body>" + strings.Repeat("x", 40000) + "</body></message>"))
	big.maxElem = 16384
	big.next()
	if _, err := big.next(); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized element: err = %v, want a size error", err)
	}
}

func TestElemAccessors(t *testing.T) {
	e := elem{raw: []byte(`<message from="a@b/c" type='chat' id='x&amp;y' to = 'q'><body>1 &lt; 2</body>` +
		`<items><item jid='1'/><item jid='2'>t</item></items></message>`)}
	if e.name() != "message" || !e.is("message") || e.is("iq") {
		t.Errorf("name = %q", e.name())
	}
	for attr, want := range map[string]string{"from": "a@b/c", "type": "chat", "id": "x&y", "to": "q", "missing": ""} {
		if got := e.attr(attr); got != want {
			t.Errorf("attr(%q) = %q, want %q", attr, got, want)
		}
	}
	if body, ok := e.childText("body"); !ok || body != "1 < 2" {
		t.Errorf("body = %q, %v", body, ok)
	}
	if n := e.countChildren("item"); n != 2 {
		t.Errorf("countChildren(item) = %d, want 2 (not counting <items>)", n)
	}
	if got := e.childTexts("item"); len(got) != 2 || got[1] != "t" {
		t.Errorf("childTexts(item) = %q", got)
	}
	if e.hasChild("status") {
		t.Error("hasChild(status) on a message without one")
	}
	f := elem{raw: []byte("<stream:features><mechanisms><mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>")}
	if f.local() != "features" || !f.is("features") {
		t.Errorf("local = %q", f.local())
	}
	if m := f.childTexts("mechanism"); len(m) != 2 || m[0] != "PLAIN" || m[1] != "SCRAM-SHA-1" {
		t.Errorf("mechanisms = %q", m)
	}
	if escapeXML(`a<'&">`) != "a&lt;&apos;&amp;&quot;&gt;" {
		t.Errorf("escapeXML = %q", escapeXML(`a<'&">`))
	}
}

// FuzzElemReader feeds arbitrary bytes as a server's stream: the reader
// must not panic, and every element it returns must be a piece of the
// input, in order, that starts with '<' and ends with '>'.
func FuzzElemReader(f *testing.F) {
	f.Add([]byte(testHeader + "<message><body>x</body></message> <presence/></stream:stream>"))
	f.Add([]byte("<a b='>'><!-- x --><![CDATA[<]]></a>"))
	f.Add([]byte("<a><b></a></b></c>"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := newElemReader(iotest.HalfReader(bytes.NewReader(in)))
		r.maxElem = 1 << 16
		pos := 0
		for range len(in) + 1 {
			e, err := r.next()
			if err != nil {
				return
			}
			if len(e.raw) < 2 || e.raw[0] != '<' || e.raw[len(e.raw)-1] != '>' {
				t.Fatalf("element %q is not delimited markup", e.raw)
			}
			i := bytes.Index(in[pos:], e.raw)
			if i < 0 {
				t.Fatalf("element %q is not in the input after offset %d", e.raw, pos)
			}
			pos += i + len(e.raw)
		}
		t.Fatal("the reader returned more elements than the input has bytes")
	})
}
