package main

import (
	"bytes"
	"strings"
)

// name returns the element's qualified name as written ("message",
// "stream:features").
func (e elem) name() string {
	return string(e.nameBytes())
}

func (e elem) nameBytes() []byte {
	b := e.raw[1:]
	for i, c := range b {
		if c == ' ' || c == '/' || c == '>' || c == '\t' || c == '\n' || c == '\r' {
			return b[:i]
		}
	}
	return b
}

// local returns the name without its prefix: "features" for
// "stream:features". The benchmark tells elements apart by local name
// and context, which is enough for the handful of servers it targets.
func (e elem) local() string {
	n := e.nameBytes()
	if i := bytes.IndexByte(n, ':'); i >= 0 {
		n = n[i+1:]
	}
	return string(n)
}

// is reports whether the element's local name is local, without
// allocating.
func (e elem) is(local string) bool {
	n := e.nameBytes()
	if i := bytes.IndexByte(n, ':'); i >= 0 {
		n = n[i+1:]
	}
	return string(n) == local
}

// attr returns the unescaped value of the start tag's attribute name, or
// "" when it is absent.
func (e elem) attr(name string) string {
	b := e.raw[1+len(e.nameBytes()):]
	for {
		// Skip whitespace to the attribute name.
		i := 0
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
		b = b[i:]
		if len(b) == 0 || b[0] == '>' || b[0] == '/' {
			return ""
		}
		eq := bytes.IndexByte(b, '=')
		if eq < 0 {
			return ""
		}
		key := bytes.TrimSpace(b[:eq])
		b = bytes.TrimLeft(b[eq+1:], " \t\r\n")
		if len(b) == 0 || (b[0] != '"' && b[0] != '\'') {
			return ""
		}
		q := b[0]
		endq := bytes.IndexByte(b[1:], q)
		if endq < 0 {
			return ""
		}
		val := b[1 : 1+endq]
		b = b[endq+2:]
		if string(key) == name {
			return unescapeXML(val)
		}
	}
}

// childText returns the unescaped text of the first descendant element
// named tag (written without prefix, as servers send these), and whether
// one was found. <tag/> is found with empty text.
func (e elem) childText(tag string) (string, bool) {
	return findText(e.raw[1:], tag)
}

// hasChild reports whether a descendant element named tag is present.
func (e elem) hasChild(tag string) bool {
	_, ok := e.childText(tag)
	return ok
}

// childTexts returns the text of every descendant named tag, in order.
func (e elem) childTexts(tag string) []string {
	var out []string
	b := e.raw[1:]
	for {
		i := indexTag(b, tag)
		if i < 0 {
			return out
		}
		s, _ := findText(b[i:], tag)
		out = append(out, s)
		b = b[i+1:]
	}
}

// countChildren counts the start tags named tag (e.g. roster items).
func (e elem) countChildren(tag string) int {
	n := 0
	b := e.raw[1:]
	for {
		i := indexTag(b, tag)
		if i < 0 {
			return n
		}
		n++
		b = b[i+1:]
	}
}

// indexTag finds "<tag" followed by a delimiter, so "<item" does not
// match "<items".
func indexTag(b []byte, tag string) int {
	off := 0
	for {
		i := bytes.Index(b[off:], []byte("<"+tag))
		if i < 0 {
			return -1
		}
		j := off + i + 1 + len(tag)
		if j < len(b) && (b[j] == ' ' || b[j] == '>' || b[j] == '/' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r') {
			return off + i
		}
		off = j
	}
}

func findText(b []byte, tag string) (string, bool) {
	i := indexTag(b, tag)
	if i < 0 {
		return "", false
	}
	n, kind := scanTag(b[i:])
	if n == 0 {
		return "", false
	}
	if kind == tagEmpty {
		return "", true
	}
	rest := b[i+n:]
	end := bytes.Index(rest, []byte("</"+tag+">"))
	if end < 0 {
		return "", false
	}
	return unescapeXML(rest[:end]), true
}

// unescapeXML decodes the five predefined entities. Numeric character
// references are left as written: the values the benchmark reads back
// (its own ids, bodies and JIDs) never need them.
func unescapeXML(b []byte) string {
	if bytes.IndexByte(b, '&') < 0 {
		return string(b)
	}
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'", "&amp;", "&").Replace(string(b))
}

// escapeXML encodes s for use in text or a quoted attribute.
func escapeXML(s string) string {
	if !strings.ContainsAny(s, `<>&'"`) {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", `"`, "&quot;").Replace(s)
}
