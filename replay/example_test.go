package replay_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
	"xmppd/replay"
)

// Alice adds Bob and asks for his presence (RFC 6121 3.1.1) from her
// laptop; replay shows her roster and presence as of the request.
func ExampleAt() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "replay-example")
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "xmppd.db")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	laptop := events.Meta{Actor: "alice@localhost/laptop", SessionID: "s1", ClientAddr: "10.1.2.4:5000", Node: "n1"}
	appendAt := func(stream string, p events.Payload, m events.Meta) {
		e, _ := events.New(p, m)
		at = at.Add(time.Second)
		e.Recorded = at
		if _, err := store.Append(ctx, stream, events.Any, e); err != nil {
			fmt.Println(err)
		}
	}
	appendAt(events.AccountStream("alice@localhost"), events.AccountCreated{JID: "alice@localhost"}, events.Meta{Actor: "admin:root"})
	appendAt(events.PresenceStream("alice@localhost"), events.SessionStarted{Resource: "laptop", ClientAddr: "10.1.2.4:5000", Node: "n1"}, laptop)
	appendAt(events.PresenceStream("alice@localhost"), events.PresenceAvailable{Resource: "laptop", Show: "away", Priority: 5, Stanza: "<presence/>"}, laptop)
	appendAt(events.AccountStream("alice@localhost"), events.RosterItemSet{Contact: "bob@localhost", Name: "Bob", Groups: []string{"Friends"}}, laptop)
	appendAt(events.AccountStream("alice@localhost"), events.SubscriptionChanged{Contact: "bob@localhost", Cause: events.OutSubscribe,
		Before: events.StateNone, After: events.StateNonePendingOut}, laptop)

	st, _, err := replay.At(ctx, store, "alice@localhost", replay.Cutoff{Position: 5}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, it := range st.Roster {
		fmt.Printf("%s %q %v subscription=%s ask=%v (%s)\n", it.JID, it.Name, it.Groups, it.Subscription, it.Ask, it.State)
	}
	for _, r := range st.Resources {
		fmt.Printf("%s show=%s priority=%d from %s (session %s)\n", r.Name, r.Show, r.Priority, r.ClientAddr, r.SessionID)
	}
	// Output:
	// bob@localhost "Bob" [Friends] subscription=none ask=true (None + Pending Out)
	// laptop show=away priority=5 from 10.1.2.4:5000 (session s1)
}
