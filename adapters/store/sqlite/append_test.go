package sqlite_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
	"xmppd/events/storetest"
)

// TestAppendRefusesWhatCannotBeStored checks each malformed append fails
// (not as a conflict) and writes nothing.
func TestAppendRefusesWhatCannotBeStored(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, sqlite.Config{})
	defer s.Close()
	good := func() events.Envelope { return storetest.Envelopes(t, 1, storetest.FullMeta())[0] }
	tests := []struct {
		name     string
		stream   string
		expected events.ExpectedVersion
		evs      func() []events.Envelope
	}{
		{"empty stream name", "", events.Any, func() []events.Envelope { return []events.Envelope{good()} }},
		{"no events", "account-a@example.com", events.Any, func() []events.Envelope { return nil }},
		{"expected version below Any", "account-a@example.com", -2, func() []events.Envelope { return []events.Envelope{good()} }},
		{"no type", "account-a@example.com", events.Any, func() []events.Envelope {
			e := good()
			e.Type = ""
			return []events.Envelope{e}
		}},
		{"zero recorded time", "account-a@example.com", events.Any, func() []events.Envelope {
			e := good()
			e.Recorded = time.Time{}
			return []events.Envelope{e}
		}},
		{"data not JSON", "account-a@example.com", events.Any, func() []events.Envelope {
			e := good()
			e.Data = []byte(`{"resource":`)
			return []events.Envelope{good(), e}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Append(ctx, tc.stream, tc.expected, tc.evs()...)
			if err == nil || errors.Is(err, events.ErrConflict) {
				t.Fatalf("err = %v, want a refusal", err)
			}
			var se *events.StoreError
			if !errors.As(err, &se) || se.Op != "append" {
				t.Fatalf("err = %#v, want a *events.StoreError for append", err)
			}
		})
	}
	if head, err := s.Head(ctx); err != nil || head != 0 {
		t.Fatalf("Head = %d, %v; want an empty log", head, err)
	}
}
