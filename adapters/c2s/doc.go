// Package c2s is xmppd's client-to-server stream adapter (RFC 6120): it
// accepts TCP connections, negotiates STARTTLS (port 5222) or direct TLS
// (XEP-0368, port 5223), authenticates with SASL SCRAM-SHA-256, SCRAM-SHA-1
// or PLAIN against stored SCRAM keys, binds a resource, and then turns the
// stream into parsed, from-stamped stanzas (stanza.Stanza) for a
// router.Core, with one goroutine per idle session. Its Session implements
// router.Session.
//
// It knows nothing of rosters or presence: the core (package im) does, and
// c2s does not import it; cmd/xmppd wires the two.
// c2s itself answers only what concerns the stream: XEP-0199 pings and
// XEP-0030 disco#info addressed to the server (with its XEP-0115 caps in
// the stream features), the legacy RFC 3921 session IQ, XEP-0352 client
// state (csi.go), XEP-0077 registration before login when the core offers
// it (register.go), and XEP-0198 stream management (sm.go): acks, and the
// suspension and resumption of a session whose connection was lost, which
// the core hears of through router.Core's Suspended and Resumed. With
// stream management a stanza's router.Receipt waits for the client's
// acknowledgement rather than the write.
//
// Why not mellium's server Session: mellium.im/xmpp is used for JIDs
// (PRECIS), stream and stanza error values, and its client is the interop
// test, but the server side of the stream is negotiated here. mellium's
// receiving negotiator returns Go errors where RFC 6120 wants a stream error
// on the wire, does not check the stream's 'to' (host-unknown), its bind
// feature answers errors with type='result', its server SCRAM needs the
// salted password (which xmppd never stores) and closes without a
// <failure/> on a bad proof, and its decoder cannot be limited. Owning the
// decoder lets every byte be counted against the stanza limit.
//
// Threads: a goroutine negotiates each connection and, once a resource is
// bound, hands it to a fresh goroutine that is the session's reader (so
// the handshake's deep stack is not kept). A writer goroutine runs only
// while the session's bounded queue holds something (or a keepalive is
// due), so an idle session costs one parked goroutine, its TLS state and
// a 512-byte read buffer. Per-connection state is touched by the reader
// only, except what Session documents as safe for any goroutine.
package c2s
