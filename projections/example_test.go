package projections_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"xmppd/adapters/store/sqlite"
	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
)

// Rebuild the views from a store at start-up, then read an account's
// roster and sessions as a c2s session's account actor would.
func ExampleRebuild() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "xmppd-example")
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "xmppd.db")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	for stream, p := range map[string]events.Payload{
		events.AccountStream("juliet@example.com"):  events.RosterItemSet{Contact: "romeo@example.net", Name: "Romeo"},
		events.PresenceStream("juliet@example.com"): events.SessionStarted{Resource: "balcony", Node: "node-a"},
	} {
		e, _ := events.New(p, events.Meta{Node: "node-a"})
		e.Recorded = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) // from the injected clock
		if _, err := store.Append(ctx, stream, events.NoStream, e); err != nil {
			fmt.Println(err)
			return
		}
	}

	v := projections.NewViews(domain.DefaultPolicy())
	if _, err := projections.Rebuild(ctx, store, v, 0, nil); err != nil {
		fmt.Println(err)
		return
	}
	v.WithAccount("juliet@example.com", func(a *domain.Account, _ *domain.PresenceView) {
		for _, c := range a.Roster() {
			fmt.Println("roster:", c.JID, c.Name)
		}
	})
	for _, s := range v.OpenSessionsOnNode("node-a") {
		fmt.Println("open on node-a:", s.JID+"/"+s.Resource)
	}
	// Output:
	// roster: romeo@example.net Romeo
	// open on node-a: juliet@example.com/balcony
}
