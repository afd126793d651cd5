package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"mellium.im/xmpp/jid"

	"xmppd/events"
	"xmppd/replay"
)

func (a *app) replayCommand() *cobra.Command {
	var at, user, format string
	var diff bool
	cmd := &cobra.Command{
		Use:   "replay --at TIME|POSITION [--user JID] | --diff FROM TO [--user JID]",
		Short: "Show the rosters and presence as they were at any past moment",
		Long: `replay rebuilds, with the projection code the server runs, each account's
state as of a past moment: its roster (jid, name, groups, subscription,
ask, approved), unanswered inbound subscription requests, pre-approvals,
and presence (connected resources with show, status, priority, session and
client address, directed presence).

A moment is an RFC 3339 time (every event recorded at or before it: an
account's replay stops at its first event recorded later) or a bare
integer, a log position. With --user only that account's streams are
read; without it every account is replayed and printed, one at a time.

--diff FROM TO lists what changed between two moments, one change a line,
in log order.

replay opens the log read-only: it can run beside the server or on a copy.`,
		Example: `  xmppd replay --at 2026-11-20T10:02:11Z --user alice@localhost
  xmppd replay --at 1200 --format json | jq .
  xmppd replay --diff 2026-11-20T10:00:00Z 2026-11-20T11:00:00Z --user alice@localhost`,
		Args: args(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, argv []string) error {
			batchGC()
			if format != "text" && format != "json" {
				return usagef("--format %q: use text or json", format)
			}
			bare, err := optionalBare("--user", user)
			if err != nil {
				return err
			}
			if diff {
				if at != "" || len(argv) != 2 {
					return usagef("--diff takes two moments, FROM and TO, and no --at")
				}
				from, err := parseMoment(argv[0])
				if err != nil {
					return err
				}
				to, err := parseMoment(argv[1])
				if err != nil {
					return err
				}
				return a.withKeyedStore(cmd.Context(), func(_ *Config, s events.Store) error {
					return a.replayDiff(cmd.Context(), s, bare, from, to, format)
				})
			}
			if at == "" || len(argv) != 0 {
				return usagef("replay needs --at TIME|POSITION (or --diff FROM TO)")
			}
			c, err := parseMoment(at)
			if err != nil {
				return err
			}
			return a.withKeyedStore(cmd.Context(), func(_ *Config, s events.Store) error {
				return a.replayAt(cmd.Context(), s, bare, c, format)
			})
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "the moment: RFC 3339 time or log position")
	cmd.Flags().BoolVar(&diff, "diff", false, "list the changes between two moments FROM TO")
	cmd.Flags().StringVar(&user, "user", "", "only this account (bare JID)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json (one object a line)")
	return cmd
}

// parseMoment reads a cutoff; an unreadable one is a usage error.
func parseMoment(s string) (replay.Cutoff, error) {
	c, err := replay.ParseCutoff(s)
	if err != nil {
		return c, usageError{err}
	}
	return c, nil
}

// optionalBare parses a bare JID flag, empty allowed. Forensics may run on
// a copy of another server's log, so the domain is not checked.
func optionalBare(flag, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	j, err := jid.Parse(s)
	if err != nil {
		return "", usagef("%s %q is not a valid JID: %v", flag, s, err)
	}
	if j.Resourcepart() != "" {
		return "", usagef("%s %q has a resource: give the bare JID", flag, s)
	}
	return j.String(), nil
}

// replayAt prints the state of one account or of all, as of c.
func (a *app) replayAt(ctx context.Context, s events.Store, bare string, c replay.Cutoff, format string) error {
	w := bufio.NewWriterSize(a.stdout, 1<<16)
	total := uint64(0)
	if bare == "" {
		// An estimate: the whole log up to the cutoff, server events
		// included, which replay does not read.
		total = logTotal(ctx, s, 0)
		if c.Position != 0 && total != 0 {
			total = min(total, c.Position)
		}
	}
	prog := newProgress(a.stderr, "replay", total)
	show := func(st replay.State) error {
		prog.done() // keep the progress line off the output on a terminal
		if format == "json" {
			return writeJSONLine(w, stateLine{AsOf: c.String(), State: st})
		}
		writeStateText(w, c, st)
		return nil
	}
	if bare != "" {
		st, _, err := replay.At(ctx, s, bare, c, prog.add)
		prog.done()
		if err != nil {
			return err
		}
		if err := show(st); err != nil {
			return err
		}
		return w.Flush()
	}
	err := replay.All(ctx, s, c, prog.add, func(st replay.State) error {
		if err := show(st); err != nil {
			return err
		}
		return w.Flush() // one account at a time: nothing piles up
	})
	prog.done()
	if err != nil {
		return err
	}
	return w.Flush()
}

// stateLine is one line of `replay --format json`.
type stateLine struct {
	AsOf string `json:"as_of"`
	replay.State
}

func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// writeStateText prints one account's state for a person.
func writeStateText(w io.Writer, c replay.Cutoff, st replay.State) {
	exists := ""
	if !st.Exists {
		exists = " (no such account at this moment)"
	}
	fmt.Fprintf(w, "%s as of %s%s\n", st.JID, c, exists)
	if st.Position != 0 {
		fmt.Fprintf(w, "  last event: position %d at %s\n", st.Position, st.Recorded.Format(time.RFC3339Nano))
	}
	fmt.Fprintf(w, "  roster (version %d, %d items):\n", st.RosterVersion, len(st.Roster))
	if len(st.Roster) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "    JID\tNAME\tGROUPS\tSUBSCRIPTION\tASK\tAPPROVED\tSTATE")
		for _, it := range st.Roster {
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.JID, dash(it.Name), dash(strings.Join(it.Groups, ",")),
				it.Subscription, yes(it.Ask, "subscribe"), yes(it.Approved, "yes"), it.State)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "  pending requests: %d\n", len(st.Pending))
	for _, r := range st.Pending {
		fmt.Fprintf(w, "    %s since %s\n", r.From, r.Since.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "  pre-approvals: %s\n", dash(strings.Join(st.Preapproved, ", ")))
	fmt.Fprintf(w, "  presence: %d resources\n", len(st.Resources))
	if len(st.Resources) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "    RESOURCE\tAVAILABLE\tSHOW\tSTATUS\tPRIORITY\tADDRESS\tSESSION\tDIRECTED")
		for _, r := range st.Resources {
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.Name, yes(r.Available, "yes"), dash(r.Show), dash(r.Status),
				r.Priority, dash(r.ClientAddr), dash(r.SessionID), dash(strings.Join(r.Directed, ",")))
		}
		tw.Flush()
	}
	if st.Offline > 0 {
		fmt.Fprintf(w, "  offline queue: %d stanzas\n", st.Offline)
	}
	fmt.Fprintln(w)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yes(b bool, word string) string {
	if b {
		return word
	}
	return "-"
}

// replayDiff prints the changes between two moments.
func (a *app) replayDiff(ctx context.Context, s events.Store, bare string, from, to replay.Cutoff, format string) error {
	prog := newProgress(a.stderr, "replay", 0)
	var changes []replay.Change
	var err error
	if bare != "" {
		changes, err = replay.Diff(ctx, s, bare, from, to, prog.add)
	} else {
		changes, err = replay.DiffAll(ctx, s, from, to, prog.add)
	}
	prog.done()
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(a.stdout, 1<<16)
	if format == "json" {
		for _, ch := range changes {
			if err := writeJSONLine(w, ch); err != nil {
				return err
			}
		}
		return w.Flush()
	}
	fmt.Fprintf(w, "%d changes from %s to %s\n", len(changes), from, to)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tPOSITION\tACCOUNT\tCHANGE\tWHAT\tBY")
	for _, ch := range changes {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", ch.Time.Format(time.RFC3339Nano), ch.Position, ch.Account, ch.Kind, ch.Text, dash(ch.Actor))
	}
	tw.Flush()
	return w.Flush()
}
