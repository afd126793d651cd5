package stanza

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"unicode"
)

// Errors a parse reports besides the decoder's own syntax errors.
var (
	// ErrTooDeep: the element nests deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("stanza: element nested too deep")
	// ErrTooMany: the element has more nodes than Limits.MaxNodes.
	ErrTooMany = errors.New("stanza: element has too many nodes")
	// ErrRestricted: a comment, processing instruction or DTD appeared,
	// which XMPP forbids (RFC 6120 section 11.1).
	ErrRestricted = errors.New("stanza: restricted XML (comment, processing instruction or DTD)")
	// ErrBadName: an element or attribute name is not an XML name.
	ErrBadName = errors.New("stanza: invalid XML name")
	// ErrDuplicateAttr: an attribute appears twice on one element.
	ErrDuplicateAttr = errors.New("stanza: duplicate attribute")
	// ErrUnboundPrefix: an element or attribute name has a prefix that
	// no namespace declaration in scope binds, or a prefix is declared
	// with an empty name: the XML is not namespace-well-formed
	// (Namespaces in XML 1.0 sections 3 and 5, "Prefix Declared" and
	// "No Prefix Undeclaring"; RFC 6120 section 11.3 item 4).
	ErrUnboundPrefix = errors.New("stanza: undeclared namespace prefix")
)

// Limits bound what one parse may build. Zero fields mean no limit. The
// number of bytes is bounded by the caller's reader, which sees them first.
type Limits struct {
	MaxDepth int // nesting depth, the root being depth 1
	MaxNodes int // elements plus text nodes

	// Declared lists the namespace names declared outside the element
	// (on a stream header) that contain no colon; see checkNames. It is
	// not a limit, but travels with them to every parse.
	Declared []string
}

// Parse reads the rest of the element opened by start from r, which must
// be the reader start came from, and returns it as a tree. Character data
// is copied, so r may reuse its buffers.
func Parse(r xml.TokenReader, start xml.StartElement, lim Limits) (*Element, error) {
	sc := scope{outer: lim.Declared}
	root, err := fromStart(start, 1, &sc)
	if err != nil {
		return nil, err
	}
	stack := []*Element{root}
	nodes := 1
	if lim.MaxDepth > 0 && len(stack) > lim.MaxDepth {
		return nil, ErrTooDeep
	}
	for len(stack) > 0 {
		tok, err := r.Token()
		if err != nil {
			return nil, err
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			if lim.MaxDepth > 0 && len(stack) >= lim.MaxDepth {
				return nil, ErrTooDeep
			}
			nodes++
			if lim.MaxNodes > 0 && nodes > lim.MaxNodes {
				return nil, ErrTooMany
			}
			child, err := fromStart(t, len(stack)+1, &sc)
			if err != nil {
				return nil, err
			}
			top.Children = append(top.Children, child)
			stack = append(stack, child)
		case xml.EndElement:
			if t.Name != top.Name {
				// A strict xml.Decoder never lets this through; a hand-made
				// token reader might.
				return nil, fmt.Errorf("stanza: end %v does not close %v", t.Name, top.Name)
			}
			stack = stack[:len(stack)-1]
			sc.leave(len(stack))
		case xml.CharData:
			// Merge adjacent text so Text() and encoding stay simple.
			if n := len(top.Children); n > 0 {
				if prev, ok := top.Children[n-1].(CharData); ok {
					top.Children[n-1] = prev + CharData(t)
					continue
				}
			}
			nodes++
			if lim.MaxNodes > 0 && nodes > lim.MaxNodes {
				return nil, ErrTooMany
			}
			top.Children = append(top.Children, CharData(t))
		case xml.Comment, xml.ProcInst, xml.Directive:
			return nil, ErrRestricted
		}
	}
	return root, nil
}

// ParseBytes parses exactly one element from b (surrounding whitespace is
// allowed; anything else is an error).
func ParseBytes(b []byte, lim Limits) (*Element, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var root *Element
	for {
		tok, err := d.Token()
		if err != nil {
			if root != nil && err == io.EOF {
				return root, nil
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil {
				return nil, errors.New("stanza: more than one element")
			}
			root, err = Parse(d, t, lim)
			if err != nil {
				return nil, err
			}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, errors.New("stanza: text outside the element")
			}
		case xml.ProcInst:
			// The XML declaration is tolerated before the element.
			if t.Target != "xml" || root != nil {
				return nil, ErrRestricted
			}
		default:
			return nil, ErrRestricted
		}
	}
}

// fromStart builds an element from a start tag at depth (the root being
// 1). encoding/xml is lenient about names, repeated attributes and
// undeclared prefixes; all are refused here because a stanza with two
// 'to' attributes, or a prefix bound to nothing, could mean one thing to
// us and another to the recipient.
func fromStart(s xml.StartElement, depth int, sc *scope) (*Element, error) {
	if !isName(s.Name.Local) {
		return nil, fmt.Errorf("%w: element name %q", ErrBadName, s.Name.Local)
	}
	if err := sc.checkNames(s, depth); err != nil {
		return nil, err
	}
	e := &Element{Name: s.Name}
	for _, a := range s.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue // namespace declarations live in the names
		}
		if !isName(a.Name.Local) {
			return nil, fmt.Errorf("%w: attribute name %q", ErrBadName, a.Name.Local)
		}
		for _, b := range e.Attrs {
			if b.Name == a.Name {
				return nil, fmt.Errorf("%w: %q", ErrDuplicateAttr, a.Name.Local)
			}
		}
		e.Attrs = append(e.Attrs, a)
	}
	return e, nil
}

// isName reports whether s is an XML NCName, approximated with Unicode
// classes (letters, digits, marks), which is what any real stanza uses.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)):
		default:
			return false
		}
	}
	return true
}
