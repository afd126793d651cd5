// Package domain owns xmppd's pure rules: the RFC 6121 Appendix A
// subscription state machine (subscription.go, the only place that decides
// subscription states), the account aggregate and its roster (account.go,
// roster.go), the processing of outbound and inbound subscription stanzas
// (subscribe.go), presence broadcast, directed presence and probes
// (presence.go), and local delivery of stanzas (routing.go, RFC 6121 8.5;
// message_content.go says which messages are worth offline storage).
// It also derives SCRAM credentials (credentials.go), and decides what an
// archive keeps (archive_prefs.go, XEP-0441), whose retraction is honoured
// (retraction.go, XEP-0424) and which words a search matches (fulltext.go).
//
// Every decision takes the current state and a command and returns the
// events to record plus the effects to carry out, as plain values: nothing
// here performs I/O, reads a clock or starts a goroutine, and no decision
// mutates the state it is given. The caller appends the events and then
// folds them in with Apply, which is also how projections and replay
// rebuild the same state from the log.
//
// Effects are not XML. Where the RFC says a stanza is forwarded whole
// (subscription requests with extensions, presence broadcasts) the raw
// stanza travels as an opaque string; otherwise the adapter renders the
// stanza from the effect's fields. Errors carry a Kind (errors.go) that the
// XMPP adapter maps to a stanza error condition in one place.
package domain
