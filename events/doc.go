// Package events owns the vocabulary of the xmppd event log: the Envelope
// that wraps every recorded fact, the catalogue of event types and their
// payloads, the codec with its upcaster chain, the hash chain that lets
// `xmppd verify` prove a stream was not altered, and the Store port that
// every event store adapter implements.
//
// The package is pure: it imports no adapter, no database driver and no
// network package (see imports_test.go, which enforces the rule of
// DESIGN.md for this package and for domain/).
package events
