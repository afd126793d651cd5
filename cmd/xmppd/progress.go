package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"xmppd/events"
)

// progress shows how far a long command has got — events read, events
// per second and time left — on a terminal, and nothing when the output
// is piped or redirected (STYLE.md habit 12).
type progress struct {
	w       io.Writer // nil when disabled
	label   string
	total   uint64 // 0 when unknown
	n       uint64
	start   time.Time
	last    time.Time
	every   time.Duration
	written bool
}

// newProgress returns a progress line on stderr if stderr is a terminal.
func newProgress(stderr io.Writer, label string, total uint64) *progress {
	p := &progress{label: label, total: total, start: time.Now(), every: 200 * time.Millisecond}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.w = stderr
	}
	return p
}

// add counts n more events and redraws the line at most every 200 ms.
func (p *progress) add(n uint64) {
	p.n += n
	if p.w == nil {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	fmt.Fprintf(p.w, "\r\033[K%s", p.line(now))
	p.written = true
}

// done clears the line.
func (p *progress) done() {
	if p.w != nil && p.written {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// line renders the state at now, e.g.
// "verify: 120000/1000000 events (12%), 530000 events/s, 2s left".
func (p *progress) line(now time.Time) string {
	el := now.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.n) / el
	}
	s := fmt.Sprintf("%s: %d", p.label, p.n)
	if p.total > 0 {
		s += fmt.Sprintf("/%d events (%d%%)", p.total, min(100, p.n*100/p.total))
	} else {
		s += " events"
	}
	s += fmt.Sprintf(", %.0f events/s", rate)
	if p.total > p.n && rate > 0 {
		left := time.Duration(float64(p.total-p.n) / rate * float64(time.Second)).Round(time.Second)
		s += fmt.Sprintf(", %s left", left)
	}
	return s
}

// logTotal estimates how many events a whole-log read from position from
// will see. Only a store whose positions count events (the SQLite log's
// positions are consecutive) can say; otherwise 0, "unknown".
func logTotal(ctx context.Context, s events.Store, from uint64) uint64 {
	hr, ok := s.(interface {
		events.HeadReader
		ConsecutivePositions() bool
	})
	if !ok || !hr.ConsecutivePositions() {
		return 0
	}
	h, err := hr.Head(ctx)
	if err != nil || h < max(from, 1) {
		return 0
	}
	return h - max(from, 1) + 1
}
