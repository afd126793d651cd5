package im

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"xmppd/events"
)

// The refusal book is tested with its clock in the test's hands: every
// call takes now.
var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// TestRefusalBookFloodOneEventPerInterval: one address refused 2,000
// times, every 5 ms for 10 s, with a 1 s interval, with the periodic sweep
// every 250 ms. Every refusal is accounted for exactly (the whole records
// plus the summaries' counts), the address writes one event per interval
// at most, and no two of its events are closer than the interval.
func TestRefusalBookFloodOneEventPerInterval(t *testing.T) {
	b := newRefusalBook(RefusalLogConfig{Interval: time.Second})
	const n = 2000
	var recorded []time.Time
	var whole, counted int64
	now := t0
	for i := range n {
		now = t0.Add(time.Duration(i) * 5 * time.Millisecond)
		w, sum := b.refused("192.0.2.7", now)
		if w && sum != nil {
			t.Fatalf("refusal %d: both recorded whole and summarised", i)
		}
		if w {
			whole++
			recorded = append(recorded, now)
		}
		if sum != nil {
			counted += sum.Count
			recorded = append(recorded, now)
			if sum.ClientAddr != "192.0.2.7" || sum.Last != now || sum.First.After(sum.Last) {
				t.Errorf("summary %+v at %s", sum, now)
			}
		}
		if i%50 == 49 {
			for _, s := range b.due(now, false) {
				counted += s.Count
				recorded = append(recorded, now)
			}
		}
	}
	for _, s := range b.due(now, true) {
		counted += s.Count
		recorded = append(recorded, now)
	}
	if whole+counted != n {
		t.Errorf("%d recorded whole + %d summarised = %d, want %d", whole, counted, whole+counted, n)
	}
	if whole != 1 {
		t.Errorf("%d refusals recorded whole, want only the first", whole)
	}
	// 10 s at one event a second, plus the flush at the end.
	if len(recorded) > 11 || len(recorded) < 9 {
		t.Errorf("%d events for %d refusals over 10 s, want about 10", len(recorded), n)
	}
	for i := 1; i < len(recorded)-1; i++ { // the last is the shutdown flush
		if gap := recorded[i].Sub(recorded[i-1]); gap < time.Second {
			t.Errorf("events %d and %d only %s apart", i-1, i, gap)
		}
	}
	t.Logf("%d refusals -> %d events (1 whole, %d summarised)", n, len(recorded), counted)
}

// TestRefusalBookQuietAddress: an address that stops after a few
// refusals has them summarised once the interval has passed (not
// before), with the times of the first and last; once quiet for an
// interval it is forgotten, and its next refusal is recorded whole again.
func TestRefusalBookQuietAddress(t *testing.T) {
	b := newRefusalBook(RefusalLogConfig{Interval: time.Minute})
	if w, _ := b.refused("2001:db8::/64", t0); !w {
		t.Fatal("the first refusal is not recorded whole")
	}
	for i := 1; i <= 5; i++ {
		if w, sum := b.refused("2001:db8::/64", t0.Add(time.Duration(i)*time.Second)); w || sum != nil {
			t.Fatalf("refusal %d within the interval: whole %v, summary %v", i, w, sum)
		}
	}
	if got := b.due(t0.Add(59*time.Second), false); len(got) != 0 {
		t.Fatalf("due before the interval: %+v", got)
	}
	got := b.due(t0.Add(time.Minute), false)
	want := events.AuthRefusalsSummarised{ClientAddr: "2001:db8::/64", Count: 5, First: t0.Add(time.Second), Last: t0.Add(5 * time.Second)}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("due = %+v, want %+v", got, want)
	}
	if got := b.due(t0.Add(90*time.Second), true); len(got) != 0 {
		t.Fatalf("nothing pending, but due = %+v", got)
	}
	if b.size() != 1 {
		t.Fatalf("%d addresses kept; the summary's interval has not passed", b.size())
	}
	if got := b.due(t0.Add(2*time.Minute), false); len(got) != 0 || b.size() != 0 {
		t.Fatalf("quiet for an interval: due %+v, %d addresses kept", got, b.size())
	}
	if w, _ := b.refused("2001:db8::/64", t0.Add(3*time.Minute)); !w {
		t.Error("the first refusal after a quiet interval is not recorded whole")
	}
}

// TestRefusalBookMemoryBound: at most MaxAddresses are counted apart;
// the refusals of further addresses are counted together and summarised
// under no address, none lost; once the table's addresses have been
// quiet for an interval they are swept and new addresses are counted
// apart again.
func TestRefusalBookMemoryBound(t *testing.T) {
	b := newRefusalBook(RefusalLogConfig{Interval: time.Minute, MaxAddresses: 3})
	var whole int
	for i := range 10 {
		for j := range 4 { // each address 4 times
			if w, sum := b.refused(fmt.Sprintf("198.51.100.%d", i), t0.Add(time.Duration(j)*time.Millisecond)); w {
				whole++
			} else if sum != nil {
				t.Fatalf("summary within the interval: %+v", sum)
			}
		}
	}
	if b.size() != 3 || whole != 3 {
		t.Fatalf("%d addresses kept, %d recorded whole; want 3 and 3", b.size(), whole)
	}
	got := b.due(t0.Add(time.Second), true)
	var total int64
	for _, s := range got {
		total += s.Count
	}
	if len(got) != 4 || got[0].ClientAddr != "" || got[0].Count != 7*4 || total+int64(whole) != 40 {
		t.Errorf("summaries %+v: want 3 addresses with 3 each and 28 under no address", got)
	}
	later := t0.Add(2 * time.Minute)
	if w, _ := b.refused("203.0.113.1", later); !w || b.size() > 3 {
		t.Errorf("after the table's addresses went quiet: whole %v, %d addresses kept", w, b.size())
	}
}

// TestRefusalBookRestore: a summary the log did not take is counted into
// the next one.
func TestRefusalBookRestore(t *testing.T) {
	b := newRefusalBook(RefusalLogConfig{Interval: time.Minute})
	b.refused("192.0.2.7", t0)
	b.refused("192.0.2.7", t0.Add(time.Second))
	failed := b.due(t0.Add(time.Minute), false)
	if len(failed) != 1 {
		t.Fatalf("due = %+v", failed)
	}
	b.restore(failed[0])
	b.refused("192.0.2.7", t0.Add(61*time.Second))
	got := b.due(t0.Add(3*time.Minute), false)
	if len(got) != 1 || got[0].Count != 2 || got[0].First != t0.Add(time.Second) || got[0].Last != t0.Add(61*time.Second) {
		t.Errorf("after restore: %+v", got)
	}
}

func TestRefusalLogConfigValidate(t *testing.T) {
	if err := (RefusalLogConfig{}).Validate(); err != nil {
		t.Errorf("zero config: %v", err)
	}
	err := RefusalLogConfig{Interval: -time.Second, MaxAddresses: -1}.Validate()
	if err == nil || !strings.Contains(err.Error(), "interval -1s is negative") || !strings.Contains(err.Error(), "max addresses -1 is negative") {
		t.Errorf("negative fields: %v", err)
	}
}
