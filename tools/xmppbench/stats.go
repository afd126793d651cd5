package main

import (
	"math"
	"slices"
	"time"
)

// samples collects latencies. Each goroutine keeps its own and they are
// merged at the end, so recording never contends on a lock. Every sample
// is kept (8 bytes each) so percentiles are exact rather than bucketed:
// runs are bounded, and a million samples is only 8 MB.
type samples struct {
	d []time.Duration
}

func (s *samples) add(d time.Duration) { s.d = append(s.d, d) }

func (s *samples) merge(o *samples) { s.d = append(s.d, o.d...) }

// latencySummary is what a report prints about one set of samples, in
// milliseconds for the JSON consumers.
type latencySummary struct {
	Count  int     `json:"count"`
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P90MS  float64 `json:"p90_ms"`
	P99MS  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`
}

// summarize sorts the samples in place and returns their summary.
func (s *samples) summarize() latencySummary {
	if len(s.d) == 0 {
		return latencySummary{}
	}
	slices.Sort(s.d)
	var sum time.Duration
	for _, d := range s.d {
		sum += d
	}
	return latencySummary{
		Count:  len(s.d),
		MeanMS: ms(sum / time.Duration(len(s.d))),
		P50MS:  ms(percentile(s.d, 50)),
		P90MS:  ms(percentile(s.d, 90)),
		P99MS:  ms(percentile(s.d, 99)),
		MaxMS:  ms(s.d[len(s.d)-1]),
	}
}

// percentile returns the p-th percentile of sorted by the nearest-rank
// method: the smallest sample such that at least p% of the samples are
// less than or equal to it. It never interpolates, so the answer is
// always a latency that was actually observed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

func ms(d time.Duration) float64 {
	// Three decimals (microseconds) are all the precision the clocks give
	// across goroutines; more only clutters the JSON.
	return math.Round(float64(d)/1e3) / 1e3
}
