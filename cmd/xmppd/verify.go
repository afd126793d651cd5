package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"xmppd/events"
)

func (a *app) verifyCommand() *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Prove the event log was not altered",
		Long: `verify reads the whole log and checks, for every stream, that versions
run 1, 2, 3... with none missing or out of order, that each event's hash
matches its content, and that each event's prev is the hash of the event
before it. Where the store records the head of each stream (the SQLite log
does), verify also checks that every chain ends where the store says, which
catches a stream whose tail was cut off. Then it rebuilds every view
(rosters, presence, sessions, offline queues) from the log with the
projection code the server runs, and names each event that cannot be
decoded or applied.

Exit status: 0 when the log is intact, 1 when any event was altered,
removed or reordered (each break is named by stream and version), 2 for a
usage error.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			batchGC()
			return a.withStore(cmd.Context(), true, func(_ *Config, s events.Store) error {
				problems, err := verifyLog(cmd.Context(), s, a.stdout, a.stderr, quiet)
				if err != nil {
					return err
				}
				if problems > 0 {
					return exitError{exitFailure}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only problems and the verdict")
	return cmd
}

// verifyLog checks every chain and prints what it checked and each
// problem found; it returns the number of problems. An error means the
// log could not be read at all.
func verifyLog(ctx context.Context, s events.Store, out, stderr io.Writer, quiet bool) (int, error) {
	checker := events.NewChainChecker()
	prog := newProgress(stderr, "verify", logTotal(ctx, s, 0))
	problems := 0
	problem := func(verdict, format string, args ...any) {
		problems++
		fmt.Fprintf(out, verdict+": "+format+"\n", args...)
	}
	report := func(format string, args ...any) { problem("ALTERED", format, args...) }
	var first, last uint64
	var accepted []string // notes on server.altered_log_accepted events
	for e, err := range s.ReadAll(ctx, 0) {
		if err != nil {
			prog.done()
			return problems, fmt.Errorf("verify: read the log: %w", err)
		}
		if first == 0 {
			first = e.Position
		}
		last = e.Position
		if e.Type == events.TypeAlteredLogAccepted {
			accepted = append(accepted, acceptedNote(&e))
		}
		if err := checker.Check(&e); err != nil {
			var ce *events.ChainError
			if errors.As(err, &ce) {
				report("stream %s version %d (position %d): %s", ce.Stream, ce.Version, e.Position, ce.Problem)
			} else {
				report("%v", err)
			}
		}
		prog.add(1)
	}
	prog.done()
	if !quiet {
		fmt.Fprintf(out, "checked %d events in %d streams", checker.Events, checker.Streams())
		if checker.Events > 0 {
			fmt.Fprintf(out, " (positions %d to %d)", first, last)
		}
		fmt.Fprintln(out)
	}
	if lister, ok := s.(events.StreamHeadLister); ok {
		n, err := compareHeads(ctx, lister, checker, report)
		if err != nil {
			return problems, err
		}
		if !quiet {
			fmt.Fprintf(out, "checked %d stream heads recorded by the store\n", n)
		}
	}
	// Each event the views cannot apply is counted in problems by report.
	if _, err := rebuildViews(ctx, s, out, stderr, quiet, problem); err != nil {
		return problems, err
	}
	// A re-based stream verifies again: the record of the operator's
	// decision is the trace of what was removed, so it is always shown.
	for _, n := range accepted {
		fmt.Fprintln(out, n)
	}
	if problems > 0 {
		fmt.Fprintf(out, "FAILED: %d problem(s): the log was altered\n", problems)
	} else {
		fmt.Fprintln(out, "OK: every chain is intact")
	}
	return problems, nil
}

// compareHeads checks each stream's chain against the head the store
// recorded beside the log (in the same transaction as the events).
func compareHeads(ctx context.Context, lister events.StreamHeadLister, c *events.ChainChecker, report func(string, ...any)) (int, error) {
	type head struct {
		version uint64
		hash    string
	}
	seen := map[string]head{}
	c.Heads(func(stream string, version uint64, hash string) { seen[stream] = head{version, hash} })
	n := 0
	for h, err := range lister.StreamHeads(ctx) {
		if err != nil {
			return n, fmt.Errorf("verify: read stream heads: %w", err)
		}
		n++
		got, ok := seen[h.Stream]
		delete(seen, h.Stream)
		switch {
		case !ok:
			report("stream %s version %d: the store records this stream but the log holds none of its events (removed)", h.Stream, h.Version)
		case got.version < h.Version:
			report("stream %s version %d: the log ends at version %d but the store recorded version %d (tail removed)", h.Stream, got.version+1, got.version, h.Version)
		case got.version > h.Version:
			report("stream %s version %d: the log goes on past version %d, where the store recorded the stream's end (events added)", h.Stream, h.Version+1, h.Version)
		case got.hash != h.Hash:
			report("stream %s version %d: the last event's hash differs from the one the store recorded", h.Stream, h.Version)
		}
	}
	rest := make([]string, 0, len(seen))
	for s := range seen {
		rest = append(rest, s)
	}
	sort.Strings(rest)
	for _, s := range rest {
		report("stream %s version 1: the log holds this stream but the store has no record of it (added)", s)
	}
	return n, nil
}

// acceptedNote describes a server.altered_log_accepted event for verify.
func acceptedNote(e *events.Envelope) string {
	p, err := events.Decode(e)
	a, ok := p.(events.AlteredLogAccepted)
	if err != nil || !ok {
		return fmt.Sprintf("NOTE: position %d: an altered log was accepted (record unreadable: %v)", e.Position, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "NOTE: position %d (%s): %s accepted an altered log on node %s:", e.Position, e.Recorded.Format(time.RFC3339), a.Operator, a.Node)
	for _, s := range a.Streams {
		fmt.Fprintf(&b, "\n  stream %s: %s", s.Stream, s.Detail)
		if s.Rebased {
			fmt.Fprintf(&b, " (continued from version %d)", s.FoundVersion)
		}
	}
	return b.String()
}
