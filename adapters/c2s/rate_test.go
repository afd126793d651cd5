package c2s

import (
	"testing"
	"time"
)

func testBucket(rate float64, burst int, flood time.Duration, now time.Time) stanzaBucket {
	cfg := Config{StanzaRate: rate, StanzaBurst: burst, FloodTimeout: flood}
	return newStanzaBucket(&cfg, nopMetrics{}, now)
}

// The bucket lets burst stanzas through at once, then one per 1/rate, and
// tells how long to wait for the next token.
func TestStanzaBucketRate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := testBucket(10, 5, 0, t0) // one token per 100 ms
	for i := range 5 {
		if w := b.take(t0); w != 0 {
			t.Fatalf("stanza %d of the burst waits %v", i, w)
		}
	}
	if w := b.take(t0); w != 100*time.Millisecond {
		t.Fatalf("after the burst: wait %v, want 100ms", w)
	}
	if w := b.take(t0.Add(40 * time.Millisecond)); w != 60*time.Millisecond {
		t.Fatalf("40 ms later: wait %v, want 60ms", w)
	}
	if w := b.take(t0.Add(100 * time.Millisecond)); w != 0 {
		t.Fatalf("one token's time later: wait %v, want none", w)
	}
	// 250 ms later: two more tokens have accrued (at 200 and 300 is the next).
	at := t0.Add(350 * time.Millisecond)
	for i := range 2 {
		if w := b.take(at); w != 0 {
			t.Fatalf("accrued token %d: wait %v", i, w)
		}
	}
	if w := b.take(at); w != 50*time.Millisecond {
		t.Fatalf("after the accrued tokens: wait %v, want 50ms", w)
	}
	// A long silence refills the bucket to burst, not beyond.
	at = t0.Add(time.Hour)
	for i := range 5 {
		if w := b.take(at); w != 0 {
			t.Fatalf("refilled token %d: wait %v", i, w)
		}
	}
	if w := b.take(at); w <= 0 {
		t.Fatalf("the refill exceeded the burst")
	}
}

// A negative rate is no limit.
func TestStanzaBucketUnlimited(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := testBucket(-1, 1, 0, t0)
	for i := range 10000 {
		if w := b.take(t0); w != 0 {
			t.Fatalf("stanza %d waits %v with no limit", i, w)
		}
	}
}

// Flooding is staying at the rate with an empty bucket for longer than
// the timeout; a client that falls back below the rate until the bucket is
// half full again starts afresh.
func TestStanzaBucketFlooding(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := testBucket(10, 4, time.Second, t0)
	now := t0
	sendAtRate := func(d time.Duration) {
		for end := now.Add(d); now.Before(end); {
			if w := b.take(now); w > 0 {
				now = now.Add(w)
			}
		}
	}
	sendAtRate(900 * time.Millisecond)
	if b.flooding(now) {
		t.Fatalf("flooding after 0.9 s, timeout 1 s")
	}
	sendAtRate(200 * time.Millisecond)
	if !b.flooding(now) {
		t.Fatalf("not flooding after 1.1 s at the rate")
	}
	now = now.Add(300 * time.Millisecond) // 3 tokens: over half of 4
	b.take(now)
	if b.flooding(now) {
		t.Fatalf("still flooding after the client paused")
	}

	// With a burst of one, a client exactly at the rate is flooding, one
	// that pauses for two tokens' time is not.
	b = testBucket(10, 1, time.Second, t0)
	now = t0
	sendAtRate(1100 * time.Millisecond)
	if !b.flooding(now) {
		t.Fatalf("burst 1: not flooding after 1.1 s at the rate")
	}
	now = now.Add(250 * time.Millisecond)
	b.take(now)
	if b.flooding(now) {
		t.Fatalf("burst 1: still flooding after the client paused")
	}
}

// The check on the hot path: a stanza that finds a token allocates
// nothing and reads no clock.
func TestStanzaBucketNoAlloc(t *testing.T) {
	now := time.Now()
	b := testBucket(1e9, 1<<30, 0, now)
	if n := testing.AllocsPerRun(1000, func() { b.take(now) }); n != 0 {
		t.Fatalf("%v allocations per stanza", n)
	}
}

// BenchmarkStanzaBucket is the per-stanza cost of the rate check when the
// client is under the rate (the ordinary case): the reader's fast path.
func BenchmarkStanzaBucket(b *testing.B) {
	now := time.Now()
	bk := testBucket(DefaultStanzaRate, DefaultStanzaBurst, 0, now)
	b.ReportAllocs()
	for b.Loop() {
		if bk.tokens == 0 {
			bk.tokens = bk.burst // stay on the path a client under the rate takes
		}
		bk.take(now)
	}
}
