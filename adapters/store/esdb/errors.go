package esdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"xmppd/events"
)

// ErrStreamDeleted is wrapped by errors about a stream that was tombstoned
// (hard-deleted) in EventStoreDB. xmppd never deletes a stream; seeing this
// means an operator did, and the stream's history is gone for good.
var ErrStreamDeleted = errors.New("esdb: stream deleted in EventStoreDB")

// coder is what *esdb.Error offers to classify itself. Matching on the
// method instead of the concrete type lets the unit tests build errors of
// every code: *esdb.Error has only unexported fields and no constructor.
type coder interface {
	Code() esdb.ErrorCode
}

// codeOf returns the esdb error code anywhere in err's chain. The client
// wraps its *esdb.Error with fmt.Errorf("...: %w") on some paths, and
// esdb.FromError only type-asserts the outermost error (and reports ok=false
// even then), so errors.As is the reliable way in.
func codeOf(err error) (esdb.ErrorCode, bool) {
	var c coder
	if errors.As(err, &c) {
		return c.Code(), true
	}
	return esdb.ErrorCodeUnknown, false
}

// storeError translates a failure of the esdb client, or of this adapter,
// into the *events.StoreError every store returns. It is the only place
// that looks at esdb error codes; everything above it sees events.ErrConflict,
// events.ErrClosed, ErrStreamDeleted or the cause.
func storeError(op, stream string, version int64, pos uint64, err error) error {
	if err == nil {
		return nil
	}
	var se *events.StoreError
	if errors.As(err, &se) {
		return err // already translated below us
	}
	wrap := func(err error) error {
		return &events.StoreError{Op: op, Stream: stream, Version: version, Position: pos, Err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, events.ErrClosed) || errors.Is(err, events.ErrConflict) {
		return wrap(err)
	}
	code, ok := codeOf(err)
	if !ok {
		return wrap(err)
	}
	switch code {
	case esdb.ErrorCodeWrongExpectedVersion:
		return wrap(fmt.Errorf("%w: %w", events.ErrConflict, err))
	case esdb.ErrorCodeConnectionClosed:
		// Not events.ErrClosed: the client also closes itself when it
		// gives up discovering a node. Store.fail reports ErrClosed when
		// the store was closed, and renews the client otherwise.
		return wrap(fmt.Errorf("esdb client gave up connecting: %w", err))
	case esdb.ErrorCodeStreamDeleted:
		return wrap(fmt.Errorf("%w: %w", ErrStreamDeleted, err))
	case esdb.ErrorCodeDeadlineExceeded:
		// The client's own deadline (DefaultDeadline) rather than ctx's:
		// still a deadline, so callers can test for it the usual way.
		return wrap(fmt.Errorf("%w: %w", context.DeadlineExceeded, err))
	}
	return wrap(err)
}

// permanent reports whether retrying the operation that failed with err
// cannot help: the server refused us, or the store is gone. Subscribe uses
// it to tell a dropped connection (resubscribe) from a refusal (give up).
// A client that closed itself is not permanent: Store.renew replaces it.
func permanent(err error) bool {
	if errors.Is(err, events.ErrClosed) {
		return true
	}
	code, ok := codeOf(err)
	if !ok {
		return false
	}
	switch code {
	case esdb.ErrorCodeUnauthenticated, esdb.ErrorCodeAccessDenied, esdb.ErrorCodeUnsupportedFeature,
		esdb.ErrorCodeStreamDeleted, esdb.ErrorCodeParsing,
		esdb.ErrorCodeInternalClient:
		return true
	}
	return false
}
