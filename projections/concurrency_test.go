package projections_test

import (
	"sync"
	"testing"

	"xmppd/domain"
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
