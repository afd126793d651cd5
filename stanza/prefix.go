package stanza

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// encoding/xml resolves a prefix to the namespace name its declaration
// binds; a prefix that nothing binds is left as it is, so <foo:bar/> with
// no xmlns:foo reads as Name{Space: "foo", Local: "bar"} and would be
// passed on, re-encoded as a declared namespace "foo". scope tells such a
// name from a real one without a second parse:
//
//   - a prefix is an NCName, which has no colon, while a namespace name
//     in real use is an absolute URI ("jabber:client", "urn:...",
//     "http://..."), which has one: a name with a colon is bound, and
//     that is the one comparison the hot path makes;
//   - a name without one is bound only if a declaration in scope (on the
//     element, an ancestor, or the stream header: Limits.Declared) gives
//     exactly that (relative, deprecated but legal) namespace name.
//
// What the token API cannot show is an undeclared prefix spelled like a
// colon-free namespace name declared in scope (<a xmlns='foo'><foo:b/>):
// that one reads as namespace "foo", which it then is to every later
// reader, so nothing is misrouted.
type scope struct {
	outer []string // declared outside the parsed element
	rel   []relDecl
}

// relDecl is a colon-free namespace name declared at depth.
type relDecl struct {
	name  string
	depth int
}

// checkNames checks the names of start tag s at depth, after taking in
// its own declarations.
func (sc *scope) checkNames(s xml.StartElement, depth int) error {
	for _, a := range s.Attr {
		switch {
		case a.Name.Space == "xmlns":
			if a.Value == "" {
				// Namespaces in XML 1.0 section 5, "No Prefix Undeclaring".
				return fmt.Errorf("%w: prefix %q declared with an empty namespace name", ErrUnboundPrefix, a.Name.Local)
			}
			sc.declare(a.Value, depth)
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			sc.declare(a.Value, depth)
		}
	}
	if !sc.bound(s.Name.Space) {
		return fmt.Errorf("%w: element <%s:%s>", ErrUnboundPrefix, s.Name.Space, s.Name.Local)
	}
	for _, a := range s.Attr {
		if a.Name.Space == "" || a.Name.Space == "xmlns" {
			continue
		}
		if !sc.bound(a.Name.Space) {
			return fmt.Errorf("%w: attribute %s:%s", ErrUnboundPrefix, a.Name.Space, a.Name.Local)
		}
	}
	return nil
}

func (sc *scope) declare(name string, depth int) {
	if name != "" && strings.IndexByte(name, ':') < 0 {
		sc.rel = append(sc.rel, relDecl{name, depth})
	}
}

// bound reports whether space, as encoding/xml resolved it, is a
// namespace name rather than a prefix nothing declared.
func (sc *scope) bound(space string) bool {
	if space == "" || strings.IndexByte(space, ':') >= 0 {
		return true
	}
	for _, d := range sc.rel {
		if d.name == space {
			return true
		}
	}
	for _, name := range sc.outer {
		if name == space {
			return true
		}
	}
	return false
}

// leave drops the declarations of elements deeper than depth, which have
// ended.
func (sc *scope) leave(depth int) {
	for len(sc.rel) > 0 && sc.rel[len(sc.rel)-1].depth > depth {
		sc.rel = sc.rel[:len(sc.rel)-1]
	}
}
