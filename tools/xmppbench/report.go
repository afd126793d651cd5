package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"
)

// result is what one run reports. Its JSON shape is the interface to
// comparison scripts: add fields, do not rename them.
type result struct {
	Scenario  string `json:"scenario"`
	Label     string `json:"label,omitempty"`
	Addr      string `json:"addr"`
	Mechanism string `json:"mechanism"`

	Users       int     `json:"users"`
	Concurrency int     `json:"concurrency,omitempty"`
	DurationS   float64 `json:"duration_s"` // the measured phase
	ElapsedS    float64 `json:"elapsed_s"`  // the whole run, setup included

	Unit      string  `json:"unit"` // what one operation is: login, message, delivery, roster-get, session
	Ops       int64   `json:"ops"`
	OpsPerSec float64 `json:"ops_per_s"`

	Latency      latencySummary            `json:"latency"`
	MoreLatency  map[string]latencySummary `json:"more_latency,omitempty"`
	Figures      map[string]float64        `json:"figures,omitempty"`
	Errors       int64                     `json:"errors"`
	ErrorsByKind map[string]int64          `json:"errors_by_kind,omitempty"`
	ErrorSamples []string                  `json:"error_samples,omitempty"`

	started time.Time
}

func newResult(unit string) *result {
	return &result{Unit: unit, started: time.Now(), Figures: map[string]float64{}}
}

// fill copies the run's parameters and counts the elapsed time.
func (r *result) fill(c *config) {
	r.Scenario, r.Label, r.Addr, r.Mechanism = c.scenario, c.label, c.addr, c.mech
	if c.client != nil {
		if m := c.client.used.Load(); m != nil {
			r.Mechanism = *m
		}
	}
	r.Users = c.users
	if r.ElapsedS == 0 && !r.started.IsZero() {
		r.ElapsedS = roundTo(time.Since(r.started).Seconds(), 3)
	}
}

// measured sets the operation count and rate over the measured phase.
func (r *result) measured(ops int64, d time.Duration) {
	r.Ops = ops
	r.DurationS = roundTo(d.Seconds(), 3)
	if d > 0 {
		r.OpsPerSec = roundTo(float64(ops)/d.Seconds(), 1)
	}
}

func (r *result) takeErrors(e *errCounter) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r.Errors = e.total
	if e.total > 0 {
		r.ErrorsByKind = e.byKind
		r.ErrorSamples = e.samples
	}
}

func (r *result) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("xmppbench: writing JSON: %w", err)
	}
	return nil
}

func (r *result) writeTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	label := r.Label
	if label == "" {
		label = r.Addr
	}
	fmt.Fprintf(tw, "scenario\t%s against %s (%s, %d users)\n", r.Scenario, label, r.Mechanism, r.Users)
	fmt.Fprintf(tw, "%s ops\t%d in %.3fs = %.1f/s\n", r.Unit, r.Ops, r.DurationS, r.OpsPerSec)
	fmt.Fprintf(tw, "errors\t%d\n", r.Errors)
	kinds := make([]string, 0, len(r.ErrorsByKind))
	for k := range r.ErrorsByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(tw, "  %s\t%d\n", k, r.ErrorsByKind[k])
	}
	for _, s := range r.ErrorSamples {
		fmt.Fprintf(tw, "  e.g.\t%s\n", s)
	}
	rows := []struct {
		name string
		l    latencySummary
	}{{r.Unit + " latency", r.Latency}}
	names := make([]string, 0, len(r.MoreLatency))
	for n := range r.MoreLatency {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rows = append(rows, struct {
			name string
			l    latencySummary
		}{n, r.MoreLatency[n]})
	}
	header := false
	for _, row := range rows {
		if row.l.Count == 0 { // a step that times nothing (subscribe) prints no table
			continue
		}
		if !header {
			fmt.Fprintf(tw, "\n\tcount\tmean ms\tp50 ms\tp90 ms\tp99 ms\tmax ms\n")
			header = true
		}
		l := row.l
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\n", row.name, l.Count, l.MeanMS, l.P50MS, l.P90MS, l.P99MS, l.MaxMS)
	}
	if len(r.Figures) > 0 {
		fmt.Fprintln(tw)
		figs := make([]string, 0, len(r.Figures))
		for n := range r.Figures {
			figs = append(figs, n)
		}
		sort.Strings(figs)
		for _, n := range figs {
			fmt.Fprintf(tw, "%s\t%s\n", n, strconv.FormatFloat(r.Figures[n], 'f', -1, 64))
		}
	}
	tw.Flush()
}

// errCounter counts failed operations by kind and keeps the first few
// messages. Errors are rare next to successes, so one mutex is cheap.
type errCounter struct {
	mu      sync.Mutex
	total   int64
	byKind  map[string]int64
	samples []string
}

func newErrCounter() *errCounter { return &errCounter{byKind: map[string]int64{}} }

func (e *errCounter) add(err error) { e.addKind(errorPhase(err), 1, err.Error()) }

// addKind counts n failures of kind; msg, if not empty, may be kept.
func (e *errCounter) addKind(kind string, n int64, msg string) {
	if n <= 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.total += n
	e.byKind[kind] += n
	if msg != "" && len(e.samples) < 5 {
		e.samples = append(e.samples, truncate(msg, 300))
	}
}

func (e *errCounter) count() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.total
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func roundTo(f float64, decimals int) float64 {
	p := 1.0
	for range decimals {
		p *= 10
	}
	return float64(int64(f*p+0.5)) / p
}
