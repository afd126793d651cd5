package esdb

import (
	"fmt"
	"math"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"xmppd/events"
)

// Versions are 1-based in xmppd (the first event of a stream is version 1)
// and revisions 0-based in EventStoreDB (the first event is revision 0):
// version = revision + 1, everywhere, with no exception.

// versionOf returns the xmppd version of the event at revision r.
func versionOf(r uint64) uint64 { return r + 1 }

// revisionOf returns the EventStoreDB revision of version v (v >= 1).
func revisionOf(v uint64) uint64 { return v - 1 }

// expectedRevision maps an xmppd expectation to the esdb option of the same
// meaning. Append itself always passes a concrete version (the head it has
// just read), never Any, so two writers can never both extend the same head
// and fork the hash chain; Any is mapped for completeness.
func expectedRevision(x events.ExpectedVersion) (esdb.ExpectedRevision, error) {
	switch {
	case x == events.Any:
		return esdb.Any{}, nil
	case x == events.NoStream:
		return esdb.NoStream{}, nil
	case x > 0:
		return esdb.Revision(revisionOf(uint64(x))), nil
	}
	return nil, fmt.Errorf("esdb: invalid expected version %d", int64(x))
}

// readFrom returns where a forward stream read for versions >= from starts.
// Version 0 does not exist, so from 0 means from the first event, like 1.
func readFrom(from uint64) esdb.StreamPosition {
	if from <= 1 {
		return esdb.Start{}
	}
	return esdb.Revision(revisionOf(from))
}

// unknownPosition is what the server sends for a position it does not have
// (-1 on its side, which it converts to the largest unsigned value).
const unknownPosition = math.MaxUint64

// positionOf maps an EventStoreDB $all position to Envelope.Position.
//
// See doc.go (Positions) for why the commit position alone is enough: every
// event appended through gRPC is its own implicitly committed record, so
// its commit and prepare positions are equal and unique. When the server
// did not send a commit position (some versions omit it on stream reads)
// the prepare position, equal for such events, stands in; 0 means unknown.
func positionOf(p esdb.Position) uint64 {
	switch {
	case p.Commit != unknownPosition:
		return p.Commit
	case p.Prepare != unknownPosition:
		return p.Prepare
	}
	return 0
}

// after reports whether a comes strictly after b in $all order, which is
// the order of (commit, prepare) pairs.
func after(a, b esdb.Position) bool {
	if a.Commit != b.Commit {
		return a.Commit > b.Commit
	}
	return a.Prepare > b.Prepare
}
