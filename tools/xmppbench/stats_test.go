package main

import (
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	cases := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"single p50", []time.Duration{7}, 50, 7},
		{"single p99", []time.Duration{7}, 99, 7},
		{"p0 is the minimum", hundred, 0, time.Millisecond},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p100 is the maximum", hundred, 100, 100 * time.Millisecond},
		{"p50 of four rounds up", []time.Duration{1, 2, 3, 4}, 50, 2},
		{"p51 of four", []time.Duration{1, 2, 3, 4}, 51, 3},
		{"p99 of ten is the max", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 10},
		{"p90 of ten", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9},
	}
	for _, tc := range cases {
		if got := percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("%s: percentile(p%v) = %v, want %v", tc.name, tc.p, got, tc.want)
		}
	}
}

func TestSummarizeMergesAndSorts(t *testing.T) {
	var a, b samples
	for _, d := range []time.Duration{5, 1, 3} {
		a.add(d * time.Millisecond)
	}
	for _, d := range []time.Duration{4, 2} {
		b.add(d * time.Millisecond)
	}
	a.merge(&b)
	got := a.summarize()
	want := latencySummary{Count: 5, MeanMS: 3, P50MS: 3, P90MS: 5, P99MS: 5, MaxMS: 5}
	if got != want {
		t.Fatalf("summary = %+v, want %+v", got, want)
	}
	if (&samples{}).summarize() != (latencySummary{}) {
		t.Fatal("empty samples should summarize to zero")
	}
}
