package stanza

import (
	"io"
	"strconv"
	"unicode/utf8"
)

// Bytes returns e encoded with a namespace declaration on the root.
func (e *Element) Bytes() []byte {
	return e.AppendXML(nil, "")
}

// String returns e encoded as by Bytes.
func (e *Element) String() string {
	return string(e.Bytes())
}

// WriteTo writes e as by Bytes.
func (e *Element) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(e.Bytes())
	return int64(n), err
}

// AppendXML appends e to b as XML, given the default namespace in scope
// where it is written (a stream's "jabber:client", or "" for a standalone
// document). An xmlns declaration is written only where an element's
// namespace differs from its parent's.
func (e *Element) AppendXML(b []byte, parentNS string) []byte {
	b = append(b, '<')
	b = append(b, e.Name.Local...)
	if e.Name.Space != parentNS {
		b = append(b, " xmlns='"...)
		b = appendEscaped(b, e.Name.Space, true)
		b = append(b, '\'')
	}
	prefixes := 0
	for _, a := range e.Attrs {
		b = append(b, ' ')
		switch a.Name.Space {
		case "":
		case NSXML, "xml":
			b = append(b, "xml:"...)
		default:
			// Rare outside XEPs that use namespaced attributes: give each
			// its own prefix, declared on this element.
			p := "ns" + strconv.Itoa(prefixes)
			prefixes++
			b = append(b, "xmlns:"...)
			b = append(b, p...)
			b = append(b, "='"...)
			b = appendEscaped(b, a.Name.Space, true)
			b = append(b, "' "...)
			b = append(b, p...)
			b = append(b, ':')
		}
		b = append(b, a.Name.Local...)
		b = append(b, "='"...)
		b = appendEscaped(b, a.Value, true)
		b = append(b, '\'')
	}
	if len(e.Children) == 0 {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	for _, c := range e.Children {
		switch c := c.(type) {
		case *Element:
			b = c.AppendXML(b, e.Name.Space)
		case CharData:
			b = appendEscaped(b, string(c), false)
		case Encoded:
			b = append(b, c...)
		}
	}
	b = append(b, "</"...)
	b = append(b, e.Name.Local...)
	return append(b, '>')
}

// appendEscaped escapes s for text or a single-quoted attribute. Characters
// XML 1.0 does not allow become U+FFFD, so a stanza the core built from bad
// input can never break a client's stream.
//
// Runs of printable ASCII that need no escaping are copied whole: most
// text and attributes are nothing else, and decoding them rune by rune
// was the largest part of writing a roster of a hundred items (issue 11).
func appendEscaped(b []byte, s string, attr bool) []byte {
	plain := 0 // s[plain:i] is to be copied as it is
	for i := 0; i < len(s); {
		if c := s[i]; c >= 0x20 && c < utf8.RuneSelf && c != '&' && c != '<' && c != '>' &&
			(!attr || (c != '\'' && c != '"')) {
			i++
			continue
		}
		b = append(b, s[plain:i]...)
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		plain = i
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
			// Attribute value normalisation would turn them into spaces.
			b = append(b, "&#x"...)
			b = strconv.AppendInt(b, int64(r), 16)
			b = append(b, ';')
		case r == utf8.RuneError && size == 1, !inCharRange(r):
			b = append(b, "\uFFFD"...)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, s[plain:]...)
}

// inCharRange reports whether r is allowed by XML 1.0's Char production.
func inCharRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
