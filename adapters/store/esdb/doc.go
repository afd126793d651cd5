// Package esdb is the EventStoreDB event store: an events.Store (and
// events.HeadReader) on github.com/EventStore/EventStore-Client-Go/v4/esdb,
// for deployments where several xmppd nodes share one EventStoreDB
// cluster. It owns the mapping between xmppd's log and EventStoreDB's:
// stream names, versions, positions, the encoding of envelopes, the
// translation of the client's errors, and the hash chain on append.
//
// # Streams
//
// xmppd stream names ("account-alice@localhost", "presence-…",
// "offline-…", "server-…") are used as EventStoreDB stream names unchanged.
// EventStoreDB accepts any non-empty UTF-8 name and reserves those starting
// with '$'; an xmppd name never starts with '$' and a canonical JID is
// UTF-8, so non-ASCII JIDs need no escaping. Names that are empty, start
// with '$' or are not UTF-8 are refused. The part before the first '-' is
// the stream's category for EventStoreDB's $by_category projection.
//
// # Versions
//
// Envelope.Version is 1-based, EventStoreDB revisions 0-based: Version =
// revision + 1. Expectations map as Any → esdb.Any{}, NoStream →
// esdb.NoStream{}, Exactly(n) → esdb.Revision(n-1); a wrong expected
// version is a *events.StoreError wrapping events.ErrConflict.
//
// # Hash chain
//
// Append reads the stream's last event (one event, backwards) to learn the
// head of the chain, seals the new events onto it with events.Seal, and
// appends at exactly the revision it read, whatever the caller expected:
// a concurrent writer then makes the append fail instead of forking the
// chain. An exact expectation that does not match the head read is
// ErrConflict without a write; with Any, a lost race is retried a few
// times (Config.AppendRetries).
//
// # Encoding
//
// EventType is Envelope.Type, the content type is JSON and Data is
// Envelope.Data unchanged. EventID is Envelope.ID when that is a canonical
// (lower-case) UUID; an empty ID gets a new UUID. Any other ID (xmppd IDs
// are strings) is kept verbatim in the metadata as "id" and the EventID is
// its name-based UUID (version 5, fixed namespace), so equal IDs still
// meet EventStoreDB's idempotence check. The user metadata is a JSON
// object with every other field: schema, recorded (Unix nanoseconds),
// actor, session, addr, stanza_id, causation, correlation, node, version,
// prev and hash. Reading reverses this exactly (Recorded comes back in
// UTC), so events.ChainChecker verifies what is read; an event without
// such metadata is reported as a *MetadataError.
//
// # Positions
//
// Envelope.Position is the event's commit position in $all.
//
// Why that is enough, as read in the EventStoreDB server source (not yet
// checked against a running server): an append of several events through
// gRPC is written as one prepare record per event, each flagged as
// implicitly committed, with no separate commit record
// (StorageWriterService, WritePrepares). Reading $all, the server gives
// such an event the position (commit, prepare) = (its record's log
// position, the same) (AllReader, "IsCommitted" prepares). So within one
// append the events have distinct, increasing commit positions, equal to
// their prepare positions, and $all order is commit order. Only the
// legacy explicit transactions of the TCP API (which this client cannot
// write) share one commit position between events; their prepare
// positions differ. A position is a byte offset: unique, not contiguous.
//
// EventStoreDB starts a read of $all only at a position where a record
// begins; p = last.Position+1 is in the middle of a record and is refused.
// ReadAll and Subscribe therefore first read $all backwards from the end
// to the first record before p and start there (see seekAll), skipping
// what is before p. Subscribe continues after the last record received
// when its subscription drops, and skips anything at or before it.
// ReadAll and Subscribe skip system streams and event types (names
// starting with '$'); Subscribe also filters them on the server.
//
// The Store is not an events.PageReader: a rebuild reads it through
// ReadAll, every event whole, so events.ReadOptions (ForFolding, Prepare,
// Bare) does not apply. EventStoreDB sends each event's data and metadata
// in one message anyway; leaving out the data of events a rebuild does not
// fold (Bare: the message archive) would save decoding, not reading.
//
// After an append, its events are read back once to learn their positions:
// the append reply carries one position for the whole batch. Stream reads
// carry positions only from EventStoreDB 22.6 on (before, both are sent
// as -1), so Open refuses older servers.
//
// # Connections
//
// When node discovery fails MaxDiscoverAttempts times in a row, the esdb
// client closes itself for good; the Store then replaces it on the next
// call, so xmppd outlives an EventStoreDB outage. Subscribe resubscribes
// with backoff. Only Close makes calls fail with events.ErrClosed.
//
// # Running against EventStoreDB
//
// EventStoreDB cannot run on the development machines, so the mapping is
// unit-tested without a server and the shared conformance suite
// (events/storetest) runs only when XMPPD_TEST_ESDB_URL names a server.
// On a machine with Docker:
//
//	docker run --rm -p 2113:2113 eventstore/eventstore:24.10 --insecure --max-append-size=16777216
//	XMPPD_TEST_ESDB_URL='esdb://localhost:2113?tls=false' go test ./adapters/store/esdb/
//
// Any EventStoreDB from 22.6 on will do (22.10 and 23.10 are LTS too). The
// suite appends 5,000 events in one atomic call, about 4 MB, which the
// default --max-append-size of 1 MiB refuses; an append is never split,
// since that would break its atomicity. No projections are needed. In
// insecure mode anyone may read $all; with security on, use a user
// allowed to read $all, for example esdb://admin:changeit@host:2113.
// The suite copes with a server already holding xmppd data (it tags its
// streams), but an event another program wrote makes ReadAll fail with a
// *MetadataError, so give it a server of its own.
//
// Without a server, TestConformanceOnFakeESDB runs the same suite against
// fakeESDBServer, an in-memory gRPC stand-in written to the semantics
// above: it proves how the adapter drives the client (iteration, errors,
// resubscription, closing), not how EventStoreDB behaves.
package esdb
