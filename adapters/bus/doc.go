// Package bus publishes committed events on a watermill Pub/Sub so that
// projections and other consumers follow the log as it grows.
//
// One Feed per process reads the store's subscription (which sees appends
// from this process and from any other process writing the same store) and
// publishes each envelope, in log order, on one topic. Consumers apply them
// in that order, skip what they have already applied (by position), and
// let callers wait until a position has been applied: that is how a command
// reads its own writes before its stanzas are routed (DESIGN.md, flow step 5).
//
// On one node the Pub/Sub is watermill's GoChannel, configured to block each
// publish until every subscriber has acknowledged it: GoChannel otherwise
// hands each message to its own goroutine and ordering is lost. Several nodes
// would swap in a broker-backed Pub/Sub (NATS JetStream) behind the same
// Publisher/Subscriber interfaces.
package bus
