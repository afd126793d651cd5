// Package im is xmppd's IM core: it implements router.Core, so that any
// transport that hands it sessions (c2s today) serves RFC 6121 instant
// messaging and presence, with every roster change, subscription
// transition, session and presence change an event in the log (DESIGN.md,
// "The flow of one stanza"). It imports no transport: sessions are
// router.Session values in a router.Registry.
//
// One file per use case: roster_iq.go (roster get and set), subscription.go,
// presence.go, message.go, iq.go, offline.go, account.go (create, password,
// delete, for `xmppd user`), accounts.go (what a deletion ends), archive.go
// (XEP-0313 archiving, kept in order by archive_order.go and
// archive_writer.go; archive_prefs.go applies XEP-0441 preferences,
// archive_retract.go XEP-0424 retractions) and mam.go (queries of the
// archive; mam_fulltext.go its XEP-0431 search); core.go
// is a session's bind, stanzas and end; dispatch.go hands a client's stanza
// to its use case; commit.go is the decide-append-wait loop.
//
// Each stanza a client sends becomes a command on the actor of the account
// that sent it (actor.go): one goroutine per bare JID, created on demand and
// ended when idle, so commands for one account run one at a time. The actor
// decides with package domain from the projections' views, appends the
// decision's events to the account's streams with optimistic concurrency
// (commit.go), waits until the views have applied them (read-your-writes),
// and then carries out the effects (effects.go): roster pushes, stanzas to
// the user's own resources, and stanzas to other local accounts, which are
// enqueued as inbound commands on the recipient's actor (inbound.go) so
// that the recipient's side is recorded in the recipient's streams and
// delivery is decided (RFC 6121 8.5) by the one goroutine that also
// handles the recipient's presence. Stanzas for other domains are refused
// with remote-server-not-found: there is no s2s yet.
//
// Nothing is lost (delivery.go): a stanza routed to sessions is written
// to one of them or routed again around them (domain.RouteInput.Gone):
// to the account's other resources, offline storage, or back to its
// sender as an error. c2s tells, per stanza, whether it was written
// (router.Receipt). Offline delivery (offline.go) is recorded only for
// windows the client has answered for (clientack.go); a message the
// store refuses is bounced (resource-constraint, wait); a session end
// the store refuses is recorded once it takes writes again (ends.go).
//
// Stream ownership: account-<bare> is written by the account's actor and by
// `xmppd user` (another process); presence-<bare> and offline-<bare> only
// by the account's actor; server-<domain> by Start and Stop.
//
// Lifecycle (lifecycle.go; cmd/xmppd wires it with the transports): Start
// rebuilds the views from the log, follows the log on the bus, records
// server.started, ends the sessions a killed process left open (cause
// restart) and delivers again the subscription stanzas such a process
// recorded on the sender's side only (redelivery.go). At shutdown
// BeginStop comes before the transports end their sessions, so that each
// session's unavailable presence and session.ended (cause shutdown) are
// recorded and broadcast; Stop then records server.stopped.
//
// Concurrency: per-account state lives in the views (guarded there) and is
// changed only through the log; the session registry (router.Registry) is
// shared and guarded by its mutex; the bus, consumer and actors' context
// are set by Start before a transport calls in and never change after.
package im
