package esdb

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"xmppd/events"
)

// fakeESDBError stands in for an *esdb.Error of a given code, which only
// the client can make (its fields are unexported) and only a server makes
// it return. It offers the same Code method the translation looks at.
type fakeESDBError struct{ code esdb.ErrorCode }

func (e fakeESDBError) Code() esdb.ErrorCode { return e.code }
func (e fakeESDBError) Error() string        { return fmt.Sprintf("fake esdb error code %d", e.code) }

func TestStoreError(t *testing.T) {
	cause := errors.New("connection refused")
	for _, tc := range []struct {
		name        string
		err         error
		is          []error
		isNot       []error
		wantMessage string
	}{
		{
			name: "wrong expected version",
			err:  fakeESDBError{esdb.ErrorCodeWrongExpectedVersion},
			is:   []error{events.ErrConflict}, isNot: []error{events.ErrClosed, ErrStreamDeleted},
			wantMessage: "events: append account-a@b at version 3: events: wrong expected version: fake esdb error code 7",
		},
		{
			name: "wrong expected version wrapped by the client",
			err:  fmt.Errorf("could not send append request. Reason: %w", fakeESDBError{esdb.ErrorCodeWrongExpectedVersion}),
			is:   []error{events.ErrConflict},
		},
		{
			// The client closes itself when discovery fails; only the
			// store's own Close means ErrClosed (see Store.fail).
			name: "client closed itself",
			err:  fakeESDBError{esdb.ErrorCodeConnectionClosed},
			is:   []error{fakeESDBError{esdb.ErrorCodeConnectionClosed}}, isNot: []error{events.ErrClosed, events.ErrConflict},
			wantMessage: "events: append account-a@b at version 3: esdb client gave up connecting: fake esdb error code 6",
		},
		{
			name: "stream deleted",
			err:  fakeESDBError{esdb.ErrorCodeStreamDeleted},
			is:   []error{ErrStreamDeleted}, isNot: []error{events.ErrConflict, events.ErrClosed},
		},
		{
			name: "not found keeps its cause",
			err:  fakeESDBError{esdb.ErrorCodeResourceNotFound},
			is:   []error{fakeESDBError{esdb.ErrorCodeResourceNotFound}}, isNot: []error{events.ErrConflict},
		},
		{
			name: "unavailable",
			err:  fakeESDBError{esdb.ErrorUnavailable},
			is:   []error{fakeESDBError{esdb.ErrorUnavailable}}, isNot: []error{events.ErrConflict, events.ErrClosed},
		},
		{
			name: "client deadline",
			err:  fakeESDBError{esdb.ErrorCodeDeadlineExceeded},
			is:   []error{context.DeadlineExceeded},
		},
		{
			name: "context canceled",
			err:  fmt.Errorf("rpc: %w", context.Canceled),
			is:   []error{context.Canceled}, isNot: []error{events.ErrConflict},
		},
		{
			name: "real esdb.Error of unknown code",
			err:  mustFromError(cause),
			is:   []error{cause}, isNot: []error{events.ErrConflict, events.ErrClosed},
		},
		{
			name: "plain error",
			err:  cause,
			is:   []error{cause},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := storeError("append", "account-a@b", 3, 0, tc.err)
			var se *events.StoreError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *events.StoreError", err)
			}
			if se.Op != "append" || se.Stream != "account-a@b" || se.Version != 3 {
				t.Errorf("StoreError{Op %q Stream %q Version %d}", se.Op, se.Stream, se.Version)
			}
			for _, target := range tc.is {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) = false", err, target)
				}
			}
			for _, target := range tc.isNot {
				if errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) = true", err, target)
				}
			}
			if tc.wantMessage != "" && err.Error() != tc.wantMessage {
				t.Errorf("message = %q\nwant      %q", err, tc.wantMessage)
			}
		})
	}
}

func mustFromError(err error) error {
	e, _ := esdb.FromError(err) // ok is false for any real error
	return e
}

func TestStoreErrorNilAndAlreadyTranslated(t *testing.T) {
	if err := storeError("append", "s", 1, 0, nil); err != nil {
		t.Errorf("storeError(nil) = %v", err)
	}
	inner := &events.StoreError{Op: "read stream", Stream: "s", Version: 2, Err: events.ErrClosed}
	if err := storeError("append", "t", 5, 0, inner); err != error(inner) {
		t.Errorf("a translated error was wrapped again: %v", err)
	}
}

func TestStoreErrorWholeLog(t *testing.T) {
	err := storeError("read all", "", -1, 4096, fakeESDBError{esdb.ErrorUnavailable})
	if got, want := err.Error(), "events: read all from position 4096: fake esdb error code 15"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestPermanent(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fakeESDBError{esdb.ErrorCodeAccessDenied}, true},
		{fakeESDBError{esdb.ErrorCodeUnauthenticated}, true},
		{fakeESDBError{esdb.ErrorCodeConnectionClosed}, false}, // renewed, see Store.renew
		{fmt.Errorf("failed to construct subscription. Reason: %w", fakeESDBError{esdb.ErrorCodeAccessDenied}), true},
		{events.ErrClosed, true},
		{fakeESDBError{esdb.ErrorUnavailable}, false},
		{fakeESDBError{esdb.ErrorCodeNotLeader}, false},
		{fakeESDBError{esdb.ErrorCodeDeadlineExceeded}, false},
		{mustFromError(errors.New("rpc error: code = Internal")), false},
		{errors.New("subscription has dropped"), false},
	} {
		if got := permanent(tc.err); got != tc.want {
			t.Errorf("permanent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
