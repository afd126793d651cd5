package replay_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"xmppd/events"
	"xmppd/replay"
)

// XEP-0191: replay --at shows the block list as it was at a past
// instant, and audit tells who blocked whom, when, from which session and
// address.
func TestReplayAndAuditBlockList(t *testing.T) {
	store := tempStore(t)
	ctx := context.Background()
	const bare = "alice@localhost"
	meta := events.Meta{Actor: "session:s1", SessionID: "s1", ClientAddr: "192.0.2.7:5555", StanzaID: "b1"}
	appendAt := accountAppender(t, store, bare, meta)
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	appendAt(t0, events.AccountCreated{})
	appendAt(t0.Add(time.Minute), events.BlockingBlocked{JIDs: []string{"bob@localhost", "spam.example"}})
	appendAt(t0.Add(2*time.Minute), events.BlockingUnblocked{JIDs: []string{"bob@localhost"}})
	appendAt(t0.Add(3*time.Minute), events.BlockingUnblocked{All: true})

	for _, tc := range []struct {
		at   time.Time
		want []string
	}{
		{t0, []string{}},
		{t0.Add(time.Minute), []string{"bob@localhost", "spam.example"}},
		{t0.Add(2 * time.Minute), []string{"spam.example"}},
		{t0.Add(3 * time.Minute), []string{}},
	} {
		s, ok, err := replay.At(ctx, store, bare, replay.Cutoff{Time: tc.at}, nil)
		if err != nil || !ok {
			t.Fatalf("At(%v): %v %v", tc.at, ok, err)
		}
		if !slices.Equal(s.Blocked, tc.want) {
			t.Errorf("block list at %v: %v, want %v", tc.at, s.Blocked, tc.want)
		}
	}

	var got []replay.Entry
	err := replay.Audit(ctx, store, bare, replay.Filter{Categories: []string{"blocking"}}, nil, func(e replay.Entry) error {
		got = append(got, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("audit: %d blocking entries, want 3: %+v", len(got), got)
	}
	if e := got[0]; !strings.Contains(e.Text, "blocked bob@localhost, spam.example") || e.SessionID != "s1" ||
		e.ClientAddr != "192.0.2.7:5555" || !e.Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("audit of the block: %+v", e)
	}
	if e := got[2]; !strings.Contains(e.Text, "every JID") {
		t.Errorf("audit of unblock all: %+v", e)
	}
}
