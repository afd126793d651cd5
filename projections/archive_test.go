package projections_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
)

// archiveViews folds n archive.message_stored events into bob's archive,
// every third from carol, the rest from alice, one second apart.
func archiveViews(t testing.TB, n int) *projections.Views {
	t.Helper()
	v := projections.NewViews(domain.DefaultPolicy())
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		with := "alice@localhost/phone"
		if i%3 == 2 {
			with = "carol@localhost/pc"
		}
		e, err := events.New(events.ArchiveMessageStored{ID: fmt.Sprint("id", i), With: with, Direction: events.ArchiveIn, Content: "<message/>"}, events.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		e.Stream, e.Version, e.Position, e.Recorded = events.ArchiveStream("bob@localhost"), uint64(i+1), uint64(i+1), t0.Add(time.Duration(i)*time.Second)
		if err := v.Apply(&e); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

func pageIDs(p projections.ArchivePage) []string {
	var out []string
	for _, it := range p.Items {
		out = append(out, it.ID)
	}
	return out
}

// XEP-0313 4.1 and 4.3 over the index itself: each filter, each paging
// direction, and complete only on the page that ends the result set.
func TestQueryArchive(t *testing.T) {
	v := archiveViews(t, 9) // carol: id2, id5, id8
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		q        projections.ArchiveQuery
		want     string
		count    int
		complete bool
	}{
		{"all", projections.ArchiveQuery{Max: -1}, "[id0 id1 id2 id3 id4 id5 id6 id7 id8]", 9, true},
		{"first page", projections.ArchiveQuery{Max: 4}, "[id0 id1 id2 id3]", 9, false},
		{"after", projections.ArchiveQuery{Max: 4, After: "id3"}, "[id4 id5 id6 id7]", 9, false},
		{"after, last", projections.ArchiveQuery{Max: 4, After: "id7"}, "[id8]", 9, true},
		{"last page", projections.ArchiveQuery{Max: 4, HasBefore: true}, "[id5 id6 id7 id8]", 9, false},
		{"before", projections.ArchiveQuery{Max: 4, HasBefore: true, Before: "id5"}, "[id1 id2 id3 id4]", 9, false},
		{"before, first", projections.ArchiveQuery{Max: 4, HasBefore: true, Before: "id1"}, "[id0]", 9, true},
		{"with bare", projections.ArchiveQuery{Max: -1, With: "carol@localhost"}, "[id2 id5 id8]", 3, true},
		{"with full", projections.ArchiveQuery{Max: -1, With: "alice@localhost/phone"}, "[id0 id1 id3 id4 id6 id7]", 6, true},
		{"with, last page", projections.ArchiveQuery{Max: 2, With: "carol@localhost", HasBefore: true}, "[id5 id8]", 3, false},
		{"start end", projections.ArchiveQuery{Max: -1, Start: t0.Add(2 * time.Second), End: t0.Add(4 * time.Second)}, "[id2 id3 id4]", 3, true},
		{"after-id before-id", projections.ArchiveQuery{Max: -1, AfterID: "id2", BeforeID: "id6"}, "[id3 id4 id5]", 3, true},
		{"ids", projections.ArchiveQuery{Max: -1, IDs: []string{"id7", "id1"}}, "[id1 id7]", 2, true},
		{"max 0", projections.ArchiveQuery{Max: 0}, "[]", 9, false},
	}
	for _, tc := range cases {
		p, err := v.QueryArchive("bob@localhost", tc.q, 250)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := fmt.Sprint(pageIDs(p)); got != tc.want || p.Count != tc.count || p.Complete != tc.complete {
			t.Errorf("%s: %s count %d complete %v; want %s count %d complete %v", tc.name, got, p.Count, p.Complete, tc.want, tc.count, tc.complete)
		}
	}
	for _, q := range []projections.ArchiveQuery{{After: "nope"}, {Before: "nope", HasBefore: true}, {AfterID: "nope"}, {BeforeID: "nope"}, {IDs: []string{"id1", "nope"}}} {
		if _, err := v.QueryArchive("bob@localhost", q, 250); err != projections.ErrArchiveIDUnknown {
			t.Errorf("%+v: %v, want ErrArchiveIDUnknown", q, err)
		}
	}
}

// BenchmarkQueryArchiveLastPage1M: the last 50 of a million archived
// messages (an empty <before/>, XEP-0313 4.3.3), without and with a with
// filter. It also reports the index's heap per message.
func BenchmarkQueryArchiveLastPage1M(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := archiveViews(b, 1_000_000)
	runtime.GC()
	runtime.ReadMemStats(&after)
	perMsg := float64(after.HeapAlloc-before.HeapAlloc) / 1e6
	for _, with := range []string{"", "carol@localhost"} {
		b.Run("with="+with, func(b *testing.B) {
			for b.Loop() {
				p, err := v.QueryArchive("bob@localhost", projections.ArchiveQuery{Max: 50, HasBefore: true, With: with}, 250)
				if err != nil || len(p.Items) != 50 {
					b.Fatal(len(p.Items), err)
				}
			}
			b.ReportMetric(perMsg, "index-bytes/msg")
		})
	}
}
