package projections_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
	"xmppd/projections/projtest"
)

// TestReadersDuringApply runs readers of every kind while one goroutine
// applies a generated log; run with -race, it proves the locking. Each
// reader also checks that what it sees is whole: a roster version never
// goes back, and the position never does either.
func TestReadersDuringApply(t *testing.T) {
	log := projtest.Seal(projtest.Generate(t, projtest.GenConfig{Seed: 3, Accounts: 8, MinRoster: 5, MaxRoster: 30, Sessions: 4}))
	v := projections.NewViews(domain.DefaultPolicy())
	done := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Go(func() {
			bare := "user0000" + string(rune('0'+r)) + "@localhost"
			var lastVer, lastPos uint64
			for {
				select {
				case <-done:
					return
				default:
				}
				v.WithAccount(bare, func(a *domain.Account, p *domain.PresenceView) {
					if a.Version < lastVer {
						t.Errorf("%s: roster version went back from %d to %d", bare, lastVer, a.Version)
					}
					lastVer = a.Version
					_ = a.Roster()
					_ = p.Available()
				})
				if pos := v.Position(); pos < lastPos {
					t.Errorf("position went back from %d to %d", lastPos, pos)
				} else {
					lastPos = pos
				}
				_ = v.Sessions(bare)
				_ = v.Offline(bare)
				_ = v.OpenSessionsOnNode("node-a")
				_, _ = v.Accounts.Get(bare)
				if r == 0 {
					_ = dumpOf(t, v)
				}
			}
		})
	}
	for i := range log {
		if err := v.Apply(&log[i]); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if got, want := dumpOf(t, v), dumpOf(t, applyAll(t, log)); got != want {
		t.Fatalf("views applied beside readers differ:\n%s", firstDiff(want, got))
	}
}

// TestWaitApplied checks read-your-writes: a wait returns once the
// position is reached, at once if it already is, and with the context's
// error if it never is.
func TestWaitApplied(t *testing.T) {
	l := newLog(t)
	evs := []events.Envelope{
		l.add(jacct, events.AccountCreated{JID: juliet}, events.Meta{}),
		l.add(jacct, events.RosterItemSet{Contact: "romeo@example.net"}, phone),
		l.add(jacct, events.RosterItemSet{Contact: "nurse@example.com"}, phone),
	}
	v := projections.NewViews(domain.DefaultPolicy())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	waited := make(chan error, 1)
	go func() { waited <- v.WaitApplied(ctx, 2) }()
	if err := v.Apply(&evs[0]); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		t.Fatalf("wait for position 2 returned at position 1: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := v.Apply(&evs[1]); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatalf("wait for position 2: %v", err)
	}
	if err := v.WaitApplied(ctx, 1); err != nil {
		t.Fatalf("wait for a position already reached: %v", err)
	}
	short, cancelShort := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancelShort()
	if err := v.WaitApplied(short, 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait for a position never reached: %v", err)
	}
	// The abandoned wait must not linger: applying position 3 later is
	// fine and a new wait for it returns.
	if err := v.Apply(&evs[2]); err != nil {
		t.Fatal(err)
	}
	if err := v.WaitApplied(ctx, 3); err != nil {
		t.Fatal(err)
	}
}
