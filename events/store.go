package events

import (
	"context"
	"errors"
	"fmt"
	"iter"
)

// ExpectedVersion states what the appender believes about a stream before
// its append: Any, NoStream (the stream has no events), or the exact
// version of the stream's last event (a positive number).
type ExpectedVersion int64

const (
	// Any appends whatever the stream holds.
	Any ExpectedVersion = -1
	// NoStream appends only if the stream has no events yet.
	NoStream ExpectedVersion = 0
)

// Exactly expects the stream's last event to have version v. Exactly(0) is
// NoStream.
func Exactly(v uint64) ExpectedVersion { return ExpectedVersion(v) }

func (x ExpectedVersion) String() string {
	switch {
	case x == Any:
		return "any"
	case x == NoStream:
		return "no stream"
	case x < 0:
		return fmt.Sprintf("invalid(%d)", int64(x))
	}
	return fmt.Sprintf("version %d", int64(x))
}

// Matches reports whether a stream whose last version is current satisfies x.
func (x ExpectedVersion) Matches(current uint64) bool {
	return x == Any || (x >= 0 && uint64(x) == current)
}

// ErrConflict is returned (wrapped in a *StoreError) when an append's
// ExpectedVersion does not match the stream. The caller reloads the stream
// and decides again.
var ErrConflict = errors.New("events: wrong expected version")

// ErrClosed is returned by a store that has been closed.
var ErrClosed = errors.New("events: store closed")

// StoreError carries the operation, stream and version of a failed store
// call. It unwraps to the cause, so errors.Is(err, ErrConflict) works.
type StoreError struct {
	Op       string // "append", "read stream", "read all", "subscribe", ...
	Stream   string // empty for whole-log operations
	Version  int64  // expected or requested version; -1 if none applies
	Position uint64 // requested position for whole-log operations
	Err      error
}

func (e *StoreError) Error() string {
	s := "events: " + e.Op
	if e.Stream != "" {
		s += " " + e.Stream
	}
	if e.Version >= 0 && e.Stream != "" {
		s += fmt.Sprintf(" at version %d", e.Version)
	}
	if e.Stream == "" && e.Position > 0 {
		s += fmt.Sprintf(" from position %d", e.Position)
	}
	return s + ": " + e.Err.Error()
}

func (e *StoreError) Unwrap() error { return e.Err }

// Store is the port every event store implements (see DESIGN.md, Stores).
//
// All methods are safe for concurrent use. Iterators stop at the first
// error, which they yield with a zero Envelope; breaking out of a loop early
// releases whatever the iterator holds.
type Store interface {
	// Append adds evs to the end of stream if the stream matches expected,
	// durably, as one atomic unit: either every event is committed or none
	// is. It fills Stream, Version, Position, Prev and Hash (and ID when
	// empty) and returns the committed envelopes. A mismatch returns
	// ErrConflict and commits nothing. Append returns only once the events
	// are durable.
	Append(ctx context.Context, stream string, expected ExpectedVersion, evs ...Envelope) ([]Envelope, error)

	// ReadStream yields the events of stream with Version >= from, in
	// version order. A stream that does not exist yields nothing.
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[Envelope, error]

	// ReadAll yields every event with Position >= from, in commit order,
	// with no gaps and no duplicates. It ends at the head of the log as it
	// was when reading reached it.
	ReadAll(ctx context.Context, from uint64) iter.Seq2[Envelope, error]

	// Subscribe yields every event with Position >= from: first those
	// already committed, then new ones as they are committed, without
	// missing or repeating an event at the hand-over. It ends when ctx is
	// done, yielding ctx's error.
	Subscribe(ctx context.Context, from uint64) iter.Seq2[Envelope, error]

	// Close releases the store. Calls after Close fail with ErrClosed.
	Close() error
}

// HeadReader is an optional ability: a store that can say where its log
// ends without reading it. Found by type assertion.
type HeadReader interface {
	// Head returns the Position of the last committed event (0 when empty).
	Head(ctx context.Context) (uint64, error)
}

// StreamHead is what a store records about the end of one stream.
type StreamHead struct {
	Stream  string
	Version uint64
	Hash    string
}

// StreamHeadLister is an optional ability: a store that keeps, beside the
// log, the head of every stream (a live view `xmppd verify` checks the
// chains against, which catches a truncated tail).
type StreamHeadLister interface {
	StreamHeads(ctx context.Context) iter.Seq2[StreamHead, error]
}

// PageReader is an optional ability: a store that can hand a long read of
// the log to its consumer a page at a time, without copying each envelope
// through an iterator. projections.Rebuild uses it when it is there.
type PageReader interface {
	// ReadPages yields what ReadAll(ctx, from) yields, in the same order,
	// as consecutive pages. A page is the consumer's from then on: the
	// store never reads or writes its envelopes again, so the consumer
	// may hand it to other goroutines. Iteration stops at the first
	// error, yielded with an empty page.
	ReadPages(ctx context.Context, from uint64, opts ReadOptions) iter.Seq2[Page, error]

	// ReleasePage gives back a page once the consumer is done with its
	// events, envelopes and data alike (nothing it keeps may alias them),
	// so that the store may reuse their memory for a later page. Optional:
	// a page never released is simply collected.
	ReleasePage(page Page)
}

// Page is one page of a long read.
type Page struct {
	Events []Envelope
	// Prepared is what ReadOptions.Prepare returned for Events, if set.
	Prepared any
	// Memory is the store's handle on the memory behind Events, for
	// ReleasePage; consumers leave it alone.
	Memory any
}

// ReadOptions tunes a long read for what the consumer needs.
type ReadOptions struct {
	// ForFolding says the consumer only folds the events into views, as
	// a rebuild does: it reads Position, Stream, Version, Type,
	// SchemaVersion, Recorded, SessionID and Data, and nothing else. A
	// store may then leave ID, Prev, Hash and the rest of the provenance
	// empty, which spares copying them out of every event.
	ForFolding bool

	// Prepare, if not nil, is called with the events of every page on
	// the goroutine that read them, before the page is yielded, and its
	// result travels with the page (Page.Prepared). It is work best done
	// while the events are fresh in that core's cache: a rebuild decodes
	// the payloads there. Pages are prepared concurrently and in any
	// order; Prepare must not keep the slice.
	Prepare func(events []Envelope) any

	// Bare, if not nil, is asked for each event's stream and type before
	// its envelope is read; for those it reports true, the store may
	// deliver the event with only Position, Stream, Version, Type and
	// Recorded set (Data nil, SchemaVersion 0): the reader will not fold
	// it. It must be cheap and safe for concurrent use. A store that
	// keeps the envelope whole (EventStoreDB) may ignore it and deliver
	// every event in full; the reader must take either.
	//
	// It is for the bulk of a log that a rebuild does not fold (the
	// message archive, issue 13): skipping their envelopes spares
	// parsing and copying most of the bytes of the log.
	Bare func(stream, typ string) bool
}
