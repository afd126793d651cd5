package domain_test

import (
	"fmt"
	"slices"
	"testing"

	"xmppd/domain"
	"xmppd/events"
)

// TestRosterGetLargeRosterSortedAndOwned: a roster get of a hundred items
// (RFC 6121 2.1.4) lists every item once, sorted by JID whatever the
// order they were added in, and what it returns is the caller's: changing
// an item's groups does not change the account.
func TestRosterGetLargeRosterSortedAndOwned(t *testing.T) {
	var evs []events.Payload
	var want []string
	for i := range 100 {
		j := fmt.Sprintf("c%03d@example.net", (i*37)%100) // added out of order
		evs = append(evs, events.RosterItemSet{Contact: j, Groups: []string{"g"}})
		want = append(want, j)
	}
	slices.Sort(want)
	a := account(evs...)
	res, err := domain.DecideRosterGet(a, domain.RosterGet{From: balcony})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range res.Items {
		got = append(got, it.JID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("items %v,\nwant %v", got, want)
	}
	res.Items[0].Groups[0] = "changed"
	again, _ := domain.DecideRosterGet(a, domain.RosterGet{From: balcony})
	if g := again.Items[0].Groups; len(g) != 1 || g[0] != "g" {
		t.Fatalf("the account's groups changed through a result: %v", g)
	}
}
