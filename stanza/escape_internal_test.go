package stanza

import (
	"strconv"
	"testing"
	"unicode/utf8"
)

// escapeRuneByRune is appendEscaped as it was before runs of plain ASCII
// were copied whole: the reference the faster one must match exactly.
func escapeRuneByRune(b []byte, s string, attr bool) []byte {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '&':
			b = append(b, "&amp;"...)
		case r == '<':
			b = append(b, "&lt;"...)
		case r == '>':
			b = append(b, "&gt;"...)
		case r == '\'' && attr:
			b = append(b, "&apos;"...)
		case r == '"' && attr:
			b = append(b, "&quot;"...)
		case r == '\r':
			b = append(b, "&#xD;"...)
		case (r == '\n' || r == '\t') && attr:
			b = append(b, "&#x"...)
			b = strconv.AppendInt(b, int64(r), 16)
			b = append(b, ';')
		case r == utf8.RuneError && size == 1, !inCharRange(r):
			b = append(b, "\uFFFD"...)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

var escapeSeeds = []string{
	"", "plain", "juliet@example.com/balcony", "a&b<c>d'e\"f", "line\nbreak\ttab\rcr",
	"\x00\x01\x1f", "caf\u00e9 \u2603 \U0001F600", "\xff\xfe bad utf-8 \xc3", "\uFFFE\uFFFF",
	"'", "\"", "&", "trailing plain after é", "é leading", "\ud7ff\ue000",
}

// TestAppendEscapedMatchesRuneByRune: copying plain runs whole changes
// nothing in what is written, for text and for attributes.
func TestAppendEscapedMatchesRuneByRune(t *testing.T) {
	for _, s := range escapeSeeds {
		for _, attr := range []bool{false, true} {
			got := string(appendEscaped([]byte("x"), s, attr))
			want := string(escapeRuneByRune([]byte("x"), s, attr))
			if got != want {
				t.Errorf("appendEscaped(%q, attr=%v) = %q, want %q", s, attr, got, want)
			}
		}
	}
}

func FuzzAppendEscaped(f *testing.F) {
	for _, s := range escapeSeeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, attr bool) {
		if got, want := appendEscaped(nil, s, attr), escapeRuneByRune(nil, s, attr); string(got) != string(want) {
			t.Fatalf("appendEscaped(%q, attr=%v) = %q, want %q", s, attr, got, want)
		}
	})
}

func BenchmarkAppendEscaped(b *testing.B) {
	s := "romeo-the-contact-number-42@example.net"
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = appendEscaped(buf[:0], s, true)
	}
}
