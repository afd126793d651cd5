// Package projections folds the event log into the views the server routes
// from and the forensic commands replay: accounts and credentials, rosters
// with subscription states and pending requests, presence (available
// resources, priorities, directed presence), sessions and offline queues.
//
// Read-your-writes is the reader's: the core waits on its own reader of
// the log (im.Follower, adapters/bus), which also covers what the core
// keeps beside the views.
//
// Views are idempotent and ordered by log position: each applies an event
// once, in log order, with the same code whether the event comes from a
// rebuild at start-up, from the live bus, or from `xmppd replay`.
//
// Files:
//
//   - views.go: Views, the per-account state and its locks.
//   - apply.go: Apply, dispatch by stream and type; decoding only what a
//     view folds.
//   - accounts.go: the Accounts view (existence, credentials), also used
//     on its own by the command line.
//   - sessions.go, offline.go: the session and offline queue folds.
//   - archive.go: the XEP-0313 archive index (ids and positions, no
//     content) and its queries; archive_marks.go: its retractions
//     (XEP-0424) and the account's preferences (XEP-0441).
//   - read.go: WithAccount and the copying accessors for readers.
//   - rebuild.go: Rebuild and RebuildUntil, reading the log from a store
//     and decoding ahead on other cores (where the store read each page,
//     when it reads in pages: events.PageReader).
//   - dump.go: Dump, the canonical JSON form two Views are compared by.
package projections
