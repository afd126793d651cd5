// Package stanza is the XML vocabulary under every tier of xmppd: what
// the domain, the IM core and every transport speak.
//
//   - node.go, parse.go, encode.go, prefix.go: a minimal element tree. A
//     stanza read from a stream is parsed into an *Element whose names
//     carry resolved namespaces (never prefixes), so the core inspects and
//     builds stanzas without an xml.Decoder at hand; encoding declares a
//     namespace only where an element's differs from its parent's, as
//     XMPP streams expect (RFC 6120 section 4.8).
//   - ns.go: the namespaces, in one place.
//   - errors.go: stanza errors (the Error type and conditions of RFC 6120
//     section 8.3, mellium's values under this package's names) and the one
//     place stanza and stream errors are rendered (ErrorReply, StreamError).
//   - stanza.go: Stanza and Kind, a checked stanza as a transport hands it
//     to the core.
//   - address.go: JID parsing through a cache (Addresses), a value owned
//     by whoever parses: the process gives one to its transports and core.
//
// The package does no I/O and holds no process-wide state.
package stanza
