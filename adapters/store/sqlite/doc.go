// Package sqlite is the embedded default event store: the whole log in one
// SQLite file, pure Go (no cgo), that an auditor can open with the sqlite3
// shell.
//
// # Driver
//
// It uses zombiezen.com/go/sqlite, a thin API over modernc.org/sqlite (the
// same SQLite compiled to Go), rather than modernc's database/sql driver:
// reads are about three times faster without database/sql's per-row
// reflection and interface boxing (2.0-2.4M against 0.6-0.7M rows/s in the
// comparison in shared/LIBRARIES.md), statements are prepared once per connection and reused,
// and the writer holds one plain connection with nothing between it and
// SQLite's transaction control (BEGIN IMMEDIATE, PRAGMA data_version).
//
// # Schema (PRAGMA user_version = 2)
//
//	events   one row per event, in commit order
//	  position   INTEGER PRIMARY KEY  place in the whole log: assigned inside
//	             the write lock, so position order is commit order, and
//	             1, 2, 3... with no gaps (nothing is ever deleted)
//	  stream     TEXT      e.g. account-juliet@example.com
//	  version    INTEGER   1, 2, 3... within the stream
//	  type       TEXT      catalogue name, e.g. subscription.changed
//	  recorded   INTEGER   when decided, Unix nanoseconds (UTC)
//	  hash       TEXT      SHA-256 of the canonical encoding (events.CanonicalHash)
//	  envelope   TEXT      JSON object with every other field, in this order
//	             (logs written before 2026-11-24 hold it as a BLOB of the
//	             same bytes, which every reader and json_extract accept):
//	    prev         hash of the stream's previous event (64 zeros first)
//	    id           event id (a UUID; version 7 when the store made it)
//	    schema       schema version of data for that type
//	    actor        full JID, admin:<name> or server:<node>
//	    session      c2s session id
//	    addr         client network address
//	    stanza_id    id attribute of the causing stanza
//	    causation    id of the causing event
//	    correlation  id shared by one user action's events
//	    node         xmppd process that wrote it
//	    data         the payload, byte for byte as appended
//	  Empty metadata is "" (never absent or null), so what is stored is
//	  what was hashed.
//
//	stream_index  where each stream's events are, written in bulk
//	  stream, first_version, last_version  PRIMARY KEY (stream, first_version)
//	  positions   JSON array: the position of each version first..last
//
//	streams  the head of every stream
//	  stream   TEXT PRIMARY KEY
//	  version  INTEGER   last version
//	  hash     TEXT      hash of the last event
//
//	indexed  one row: through, the position up to which stream_index and
//	         streams cover the log
//
//	log      a view of events with every envelope field as a column and
//	         recorded as ISO 8601 text, for reading.
//
//	write_probe  one row the writer rewrites to learn whether the disk
//	         takes writes again after commits failed (health.go); made
//	         by the first probe, not part of the log, safe to drop.
//
// Why the index is not written with each commit: an index on (stream,
// version) costs every commit one more page per stream in it (a batch of 64
// appends to 64 streams rewrites 64 index pages), which measured here cut
// durable appends from about 110k to 33k events/s. The writer instead
// indexes the end of the log in bulk, one stream_index row per stream,
// every 4,096 events, after 100ms without appends, when another process
// has written, and at Close; until then a stream read scans the few rows
// past indexed.through. `xmppd verify` checks each chain in events against
// streams (plus the unindexed tail's own heads), which catches a log whose
// indexed tail was cut off.
//
// Schema 1 (xmppd before 2026-11-24: one column per envelope field, the
// stream index written in every commit) is read as it is by a read-only
// store and rewritten as schema 2 by the first writable open, in one
// transaction; positions, versions, hashes and data bytes do not change,
// so the chains verify the same.
//
// To look at a log (a copy, or the live file: readers never block xmppd):
//
//	sqlite3 -readonly data/xmppd.db
//	sqlite> .mode box
//	sqlite> SELECT position, recorded_utc, stream, version, type, actor FROM log
//	   ...>   WHERE stream = 'account-juliet@example.com' ORDER BY version;
//	sqlite> SELECT recorded_utc, stream, json_extract(data, '$.contact') AS contact,
//	   ...>   json_extract(data, '$.before') AS before, json_extract(data, '$.after') AS after
//	   ...>   FROM log WHERE type = 'subscription.changed';
//
// (The log view reads events in position order; for many queries by
// stream on a large copy, CREATE INDEX on events(stream, version) in the
// copy first.)
//
// # One server per log, and start-up checks
//
// LockServer takes <path>.lock with flock(2) for the serving process (its
// pid, node and start written inside), so a second server on the same
// file is refused at once; the kernel drops the lock with the process,
// so a crash leaves none. Readers and `xmppd user` do not take it.
// Inspect refuses a file that is empty, not SQLite, or SQLite without
// xmppd's schema before anything would write to it. CheckHeads compares
// each streams row with the event the stream index places at that
// version, and that event's content with its hash, in one query (128 ms
// on a million events in 5,913 streams); RebaseHeads moves chosen heads
// back to the last event actually present (heads.go).
//
// # Pragmas and why
//
//   - journal_mode=WAL: readers and the one writer never block each other;
//     a commit appends to the -wal file. Close checkpoints it back into the
//     main file, so a stopped server leaves one self-contained file.
//   - synchronous=FULL: in WAL mode every COMMIT syncs the WAL before it
//     returns and before readers can see the commit, so an acknowledged
//     append survives power loss and nobody reads an event that could be
//     lost.
//   - busy_timeout (Config.BusyTimeout, 5s): how long to wait for another
//     process holding the write lock (for example `xmppd user add` beside a
//     running server).
//   - cache_size (Config.CacheKiB, 32 MiB per connection), mmap_size (1 GiB)
//     and temp_store=MEMORY: reads of the database file come from the page
//     cache or the OS's mapping rather than read(2) copies.
//   - wal_autocheckpoint=16384 pages on the writer, with passive checkpoints
//     run by a separate goroutine and connection after commits: the writer
//     does not stop to copy the WAL into the database; the high automatic
//     threshold is only a backstop.
//   - query_only=1 on read connections; a ReadOnly store opens the file
//     read-only and never runs a schema change or a checkpoint.
//
// # Writing: group commit
//
// Append hands its events to a single writer goroutine. The writer takes
// every append queued, opens one BEGIN IMMEDIATE transaction, checks each
// append's expected version against the stream head as the transaction
// sees it (a cache of heads is used only while PRAGMA data_version shows no
// other connection has committed), seals the events into the hash chain
// (events.Seal), inserts them, commits, and only then answers each caller.
// The callers encode their envelope columns before queueing, so the writer
// only glues on the chain. A conflicting append fails alone and writes
// nothing; a failed COMMIT fails the batch, none of which is durable.
//
// # Reading and subscribing
//
// Reads take a pooled connection one page (1,024 rows) at a time, so no
// reader holds a WAL snapshot across a slow consumer. ReadAll and Subscribe
// fetch pages on other goroutines while the caller consumes: up to the head
// of the log as it was when the read began, two fetchers read position
// ranges in parallel (turning rows into envelopes is the costly part of a
// read); past it, one follows the tail.
//
// A read of 4,096 events or more (a rebuild, verify, export, a replay of
// the whole log) takes its rows up to that head straight from the events
// table's leaf pages instead (rawread.go, package sqlitefile), two
// goroutines at once, holding one read transaction for the snapshot: SQL
// costs about 0.6 µs a row, the file a fifth of that. It is an
// accelerator only: rows must come in rising positions and end at the
// snapshot's head, and anything else (damage, a layout it does not know)
// continues through SQL from the last event delivered, with a warning.
// The transaction does not stall the writer: checkpoints are passive and
// only wait to copy the pages it may still read. Subscribe always asks for rows
// after the last one it delivered: it is woken at once by commits in this
// process, and by a PRAGMA data_version poll (Config.PollInterval, 100ms)
// for commits by other processes. Once caught up, it takes this process's
// own commits from memory (the writer keeps its last few hundred events)
// instead of reading them back, and reads the file only for the others'
// (a gap before its next position, or a poll that saw a commit).
package sqlite
