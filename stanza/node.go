package stanza

import (
	"encoding/xml"
	"strings"
)

// NSXML is the namespace the reserved "xml" prefix is bound to; xml:lang
// appears in attributes with this space.
const NSXML = "http://www.w3.org/XML/1998/namespace"

// Node is a child of an Element: *Element, CharData or Encoded.
type Node interface {
	node()
}

// CharData is text inside an element, already unescaped.
type CharData string

func (CharData) node() {}

// Encoded is a child element already encoded as standalone XML (its
// namespace declared on it, as Element.Bytes writes it), which the
// encoder copies as it is: for a large payload rendered once and sent
// many times (a roster). It is immutable, invisible to Child, Elements
// and Text, and must be well-formed: whoever builds one vouches for it.
type Encoded []byte

func (Encoded) node() {}

// Element is one XML element with its attributes and children.
//
// Name.Space is the resolved namespace of the element. Attributes never
// include namespace declarations (xmlns, xmlns:p): the encoder derives them
// from the names.
type Element struct {
	Name     xml.Name
	Attrs    []xml.Attr
	Children []Node
}

func (*Element) node() {}

// New returns an element named local in namespace space with the given
// attributes as name/value pairs (a trailing odd name is ignored).
func New(space, local string, attrs ...string) *Element {
	e := &Element{Name: xml.Name{Space: space, Local: local}}
	// Room for two more: a stanza built here usually gets 'from' and 'to'
	// (or an item its optional attributes) next, which would otherwise
	// grow the slice twice.
	e.Attrs = make([]xml.Attr, 0, len(attrs)/2+2)
	for i := 0; i+1 < len(attrs); i += 2 {
		e.SetAttr(attrs[i], attrs[i+1])
	}
	return e
}

// Attr returns the value of the unnamespaced attribute local, or "".
func (e *Element) Attr(local string) string {
	v, _ := e.LookupAttr(local)
	return v
}

// LookupAttr returns the value of the unnamespaced attribute local and
// whether it is present.
func (e *Element) LookupAttr(local string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// SetAttr sets the unnamespaced attribute local, replacing any value, and
// returns e for chaining.
func (e *Element) SetAttr(local, value string) *Element {
	for i, a := range e.Attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			e.Attrs[i].Value = value
			return e
		}
	}
	e.Attrs = append(e.Attrs, xml.Attr{Name: xml.Name{Local: local}, Value: value})
	return e
}

// RemoveAttr deletes the unnamespaced attribute local and returns e.
func (e *Element) RemoveAttr(local string) *Element {
	out := e.Attrs[:0]
	for _, a := range e.Attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			continue
		}
		out = append(out, a)
	}
	e.Attrs = out
	return e
}

// Child returns the first child element with the given local name and
// namespace, or nil. An empty space matches any namespace.
func (e *Element) Child(local, space string) *Element {
	for _, c := range e.Children {
		if ce, ok := c.(*Element); ok && ce.Name.Local == local && (space == "" || ce.Name.Space == space) {
			return ce
		}
	}
	return nil
}

// Elements returns the child elements of e, in order.
func (e *Element) Elements() []*Element {
	var out []*Element
	for _, c := range e.Children {
		if ce, ok := c.(*Element); ok {
			out = append(out, ce)
		}
	}
	return out
}

// Text returns the concatenated character data directly inside e.
func (e *Element) Text() string {
	var b strings.Builder
	for _, c := range e.Children {
		if cd, ok := c.(CharData); ok {
			b.WriteString(string(cd))
		}
	}
	return b.String()
}

// AddChild appends child elements and returns e.
func (e *Element) AddChild(children ...*Element) *Element {
	for _, c := range children {
		e.Children = append(e.Children, c)
	}
	return e
}

// AddText appends character data and returns e.
func (e *Element) AddText(s string) *Element {
	e.Children = append(e.Children, CharData(s))
	return e
}

// Copy returns a deep copy of e that shares no memory with it, so one
// goroutine may change the copy while another reads the original.
// CopyRoot is a copy of e that shares e's child elements: it has its own
// name, attributes (with room for extra more) and list of children, so
// attributes may be set and children added, removed or replaced on the
// copy alone, but the children themselves are e's and must not be
// changed through either. One stanza sent to many recipients, each with
// its own 'to', costs one small allocation per copy this way instead of a
// whole tree.
func (e *Element) CopyRoot(extra int) *Element {
	if e == nil {
		return nil
	}
	c := &Element{Name: e.Name, Attrs: make([]xml.Attr, len(e.Attrs), len(e.Attrs)+extra)}
	copy(c.Attrs, e.Attrs)
	if e.Children != nil {
		c.Children = append([]Node(nil), e.Children...)
	}
	return c
}

func (e *Element) Copy() *Element {
	if e == nil {
		return nil
	}
	c := &Element{Name: e.Name}
	if e.Attrs != nil {
		c.Attrs = append([]xml.Attr(nil), e.Attrs...)
	}
	if e.Children != nil {
		c.Children = make([]Node, len(e.Children))
		for i, n := range e.Children {
			switch n := n.(type) {
			case *Element:
				c.Children[i] = n.Copy()
			default:
				c.Children[i] = n
			}
		}
	}
	return c
}
