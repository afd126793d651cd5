// Package xmlnode is a minimal element tree for XMPP stanzas.
//
// A stanza read from a stream is parsed into an *Element whose names carry
// resolved namespaces (never prefixes), so the server core can inspect and
// build stanzas without an xml.Decoder at hand. Encoding writes the tree back
// with namespace declarations only where an element's namespace differs from
// its parent's, which is what XMPP streams expect (RFC 6120 section 4.8).
//
// The package does no I/O of its own and holds no state; it is pure.
package stanza
