package stanza_test

import (
	"errors"
	"strings"
	"testing"

	"xmppd/stanza"
)

// RFC 6120 section 11.3 item 4 and section 4.9.3.13's example: data that
// is not namespace-well-formed (Namespaces in XML 1.0 section 5: every
// prefix but xml and xmlns must be declared) is refused, for elements
// and attributes alike, at any depth and only where the declaration is
// out of scope.
func TestUndeclaredPrefix(t *testing.T) {
	cases := []struct {
		name, in string
		declared []string // Limits.Declared: the stream header's
		ok       bool
	}{
		{"RFC 6120 4.9.3.13 example", `<message xmlns='jabber:client'><foo:body>What is this foo?</foo:body></message>`, nil, false},
		{"child element", `<message xmlns='jabber:client'><foo:bar/></message>`, nil, false},
		{"root element", `<foo:message/>`, nil, false},
		{"attribute", `<message xmlns='jabber:client' foo:bar='1'/>`, nil, false},
		{"attribute deep down", `<a xmlns='urn:a'><b><c foo:d='1'/></b></a>`, nil, false},
		{"xmlns as an element prefix", `<xmlns:a/>`, nil, false},
		{"prefix declared empty", `<a xmlns:p=''><p:b/></a>`, nil, false},
		{"declaration out of scope", `<a xmlns='urn:a'><b xmlns:p='urn:p'/><p:c/></a>`, nil, false},
		{"colon-free declaration out of scope", `<a xmlns='urn:a'><b xmlns:p='p'/><p:c/></a>`, nil, false},
		{"colon-free namespace on a sibling", `<a xmlns='urn:a'><b xmlns='foo'/><foo:c/></a>`, nil, false},

		{"xml:lang, predeclared", `<message xmlns='jabber:client' xml:lang='en'><body xml:lang='fr'>x</body></message>`, nil, true},
		{"declared on the element", `<message xmlns='jabber:client'><p:x xmlns:p='urn:p' p:y='1'/></message>`, nil, true},
		{"declared on an ancestor", `<message xmlns='jabber:client' xmlns:p='urn:p'><a><p:x p:y='1'/></a></message>`, nil, true},
		{"colon-free namespace name, prefixed", `<a xmlns='urn:a'><p:b xmlns:p='rel'/></a>`, nil, true},
		{"colon-free default namespace", `<a xmlns='rel'><b/></a>`, nil, true},
		{"colon-free name declared on the stream header", `<p:a/>`, []string{"rel"}, false},
		{"stream header declares the same name", `<a xmlns='rel'/>`, []string{"rel"}, true},
		{"prefix declared again inside", `<a xmlns:p='urn:1'><p:b xmlns:p='urn:2'><p:c/></p:b><p:d/></a>`, nil, true},
		{"no namespace at all", `<a b='1'><c/></a>`, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stanza.ParseBytes([]byte(tc.in), stanza.Limits{Declared: tc.declared})
			if tc.ok && err != nil {
				t.Fatalf("%s refused: %v", tc.in, err)
			}
			if !tc.ok && !errors.Is(err, stanza.ErrUnboundPrefix) {
				t.Fatalf("%s: err = %v, want ErrUnboundPrefix", tc.in, err)
			}
		})
	}
}

// FuzzUndeclaredPrefix: whatever parses has, in every name, either no
// namespace, an absolute namespace name (with a colon, which no prefix
// has) or a colon-free one the input itself declares; and the parse of
// what it encodes to is accepted too (the encoder declares every
// namespace it uses).
func FuzzUndeclaredPrefix(f *testing.F) {
	for _, s := range []string{
		`<message xmlns='jabber:client'><foo:bar/></message>`,
		`<message xmlns='jabber:client' foo:bar='1'/>`,
		`<a xmlns:p='urn:p' p:q='1' xml:lang='en'><p:b/></a>`,
		`<a xmlns='rel'><p:b xmlns:p='q'/></a>`,
		`<a><b xmlns:p='p'/><p:c/></a>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := stanza.ParseBytes(in, stanza.Limits{MaxDepth: 32, MaxNodes: 1000})
		if err != nil {
			return
		}
		var check func(*stanza.Element)
		check = func(el *stanza.Element) {
			spaces := []string{el.Name.Space}
			for _, a := range el.Attrs {
				spaces = append(spaces, a.Name.Space)
			}
			for _, sp := range spaces {
				// (A declaration written with references, '&#x66;oo', is
				// not looked for.)
				if sp != "" && !strings.Contains(sp, ":") && !strings.Contains(string(in), "&") && !strings.Contains(string(in), "'"+sp+"'") && !strings.Contains(string(in), `"`+sp+`"`) {
					t.Fatalf("%q accepted with namespace %q, which it never declares", in, sp)
				}
			}
			for _, ch := range el.Elements() {
				check(ch)
			}
		}
		check(e)
		if _, err := stanza.ParseBytes(e.Bytes(), stanza.Limits{}); err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", e.Bytes(), in, err)
		}
	})
}
