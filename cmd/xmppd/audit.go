package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"xmppd/events"
	"xmppd/replay"
)

func (a *app) auditCommand() *cobra.Command {
	var user, contact, since, until, at, format string
	var types []string
	var explain, serverLog, complianceLog bool
	cmd := &cobra.Command{
		Use:   "audit --user JID|--server [--contact JID] [--since TIME] [--until TIME] [--type KIND] [--format text|json|csv]",
		Short: "Tell an account's story from the log, one event a line",
		Long: `audit tells the story of one account from its own streams, one event a
line, in log order: when, what happened (for subscriptions the RFC 6121
Appendix A input and the states before and after; for a session's end
its cause and the RFC 6120 stream error condition), and who: the actor's
full JID, session id, client address, stanza id, and the node that
recorded it.

--type keeps one kind of event: subscription, roster, session, presence
(also account, offline, archive, compliance); repeat it or separate kinds by commas.

--explain --contact JID [--at TIME|POSITION] tells instead the chain of
transitions that produced the account's subscription state toward the
contact, joining both accounts' records of each subscription stanza.

--server tells instead the story of the server itself (server-<domain>):
starts and stops, administrative actions, failed logins, and the logins
refused by the throttle, which are counted and summarised (how many, from
which address, between when and when) rather than recorded one by one.

--compliance tells instead the story of the domain's compliance stream
(compliance-<domain>): legal holds placed and released, keys destroyed by
retention. An account's story (--user) includes those about the account
(--type compliance keeps only them).

audit opens the log read-only: it can run beside the server or on a copy.`,
		Example: `  xmppd audit --user alice@localhost --contact bob@localhost --type subscription
  xmppd audit --user alice@localhost --since 2026-11-20T00:00:00Z --format csv > alice.csv
  xmppd audit --explain --user alice@localhost --contact bob@localhost --at 2026-11-20T10:05:00Z`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			batchGC()
			bare, err := optionalBare("--user", user)
			if err != nil {
				return err
			}
			if serverLog && (bare != "" || explain || complianceLog) {
				return usagef("--server tells the server's story: not with --user, --explain or --compliance")
			}
			if complianceLog && (bare != "" || explain) {
				return usagef("--compliance tells the domain's compliance story: not with --user or --explain (--user JID --type compliance tells one account's)")
			}
			if bare == "" && !serverLog && !complianceLog {
				return usagef("audit needs --user JID (or --server, or --compliance)")
			}
			other, err := optionalBare("--contact", contact)
			if err != nil {
				return err
			}
			if explain {
				if other == "" {
					return usagef("--explain needs --contact JID")
				}
				if format != "text" && format != "json" {
					return usagef("--format %q: --explain writes text or json", format)
				}
				c := replay.Cutoff{}
				if at != "" {
					if c, err = parseMoment(at); err != nil {
						return err
					}
				}
				return a.withKeyedStore(cmd.Context(), func(_ *Config, s events.Store) error {
					return a.auditExplain(cmd.Context(), s, bare, other, c, format)
				})
			}
			if at != "" {
				return usagef("--at goes with --explain; use --since and --until for the story")
			}
			if format != "text" && format != "json" && format != "csv" {
				return usagef("--format %q: use text, json or csv", format)
			}
			f := replay.Filter{Contact: other, Categories: types}
			if f.Since, err = parseTime("--since", since); err != nil {
				return err
			}
			if f.Until, err = parseTime("--until", until); err != nil {
				return err
			}
			if err := f.Validate(); err != nil {
				return usageError{err}
			}
			return a.withKeyedStore(cmd.Context(), func(c *Config, s events.Store) error {
				tell := func(ctx context.Context, progress replay.Progress, emit func(replay.Entry) error) error {
					return replay.Audit(ctx, s, bare, f, progress, emit)
				}
				if serverLog {
					tell = func(ctx context.Context, progress replay.Progress, emit func(replay.Entry) error) error {
						return replay.AuditServer(ctx, s, c.Domain, f, progress, emit)
					}
				}
				if complianceLog {
					tell = func(ctx context.Context, progress replay.Progress, emit func(replay.Entry) error) error {
						return replay.AuditCompliance(ctx, s, c.Domain, f, progress, emit)
					}
				}
				return a.auditStory(cmd.Context(), tell, format)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&user, "user", "", "the account (bare JID)")
	fl.StringVar(&contact, "contact", "", "only events about this contact (bare JID)")
	fl.StringVar(&since, "since", "", "only events recorded at or after this RFC 3339 time")
	fl.StringVar(&until, "until", "", "only events recorded at or before this RFC 3339 time")
	fl.StringSliceVar(&types, "type", nil, "only these kinds: subscription, roster, session, presence, account, offline, archive, compliance")
	fl.StringVar(&format, "format", "text", "output format: text, json (one object a line) or csv")
	fl.BoolVar(&serverLog, "server", false, "tell the server's story (server-<domain>) instead of an account's")
	fl.BoolVar(&complianceLog, "compliance", false, "tell the compliance story (compliance-<domain>: holds, retention) instead of an account's")
	fl.BoolVar(&explain, "explain", false, "explain how --user's subscription toward --contact came about")
	fl.StringVar(&at, "at", "", "with --explain: the moment (RFC 3339 time or log position); default now")
	return cmd
}

func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, usagef("%s %q is not an RFC 3339 time (2026-11-20T10:02:11Z)", flag, s)
	}
	return t, nil
}

// csvHeader is the first row of `audit --format csv`.
func csvHeader() []string {
	return []string{"time", "position", "stream", "version", "type", "category", "contact", "resource",
		"cause", "before", "after", "condition", "detail", "text", "actor", "session", "addr", "stanza_id", "node", "id", "causation", "correlation"}
}

func csvRow(e replay.Entry) []string {
	return []string{e.Time.Format(time.RFC3339Nano), strconv.FormatUint(e.Position, 10), e.Stream,
		strconv.FormatUint(e.Version, 10), e.Type, e.Category, e.Contact, e.Resource, e.Cause, e.Before, e.After,
		e.Condition, e.Detail, e.Text, e.Actor, e.SessionID, e.ClientAddr, e.StanzaID, e.Node, e.EventID, e.CausationID, e.CorrelationID}
}

// auditStory prints the filtered story that tell tells (one account's,
// or the server's).
func (a *app) auditStory(ctx context.Context, tell func(context.Context, replay.Progress, func(replay.Entry) error) error, format string) error {
	w := bufio.NewWriterSize(a.stdout, 1<<16)
	prog := newProgress(a.stderr, "audit", 0)
	defer prog.done()
	var emit func(replay.Entry) error
	var flush func() error
	switch format {
	case "json":
		emit = func(e replay.Entry) error { return writeJSONLine(w, e) }
		flush = func() error { return nil }
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(csvHeader()); err != nil {
			return err
		}
		emit = func(e replay.Entry) error { return cw.Write(csvRow(e)) }
		flush = func() error { cw.Flush(); return cw.Error() }
	default:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tPOSITION\tWHAT\tACTOR\tSESSION\tADDRESS\tSTANZA\tNODE")
		n := 0
		emit = func(e replay.Entry) error {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Format(time.RFC3339Nano), e.Position, e.Text,
				dash(e.Actor), dash(e.SessionID), dash(e.ClientAddr), dash(e.StanzaID), dash(e.Node))
			// Columns are aligned a page at a time, so a long story
			// streams instead of waiting for its end.
			if n++; n%500 == 0 {
				return tw.Flush()
			}
			return nil
		}
		flush = tw.Flush
	}
	if err := tell(ctx, prog.add, emit); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return w.Flush()
}

// auditExplain prints how bare's subscription toward contact came about.
func (a *app) auditExplain(ctx context.Context, s events.Store, bare, contact string, c replay.Cutoff, format string) error {
	prog := newProgress(a.stderr, "audit", 0)
	x, err := replay.Explain(ctx, s, bare, contact, c, prog.add)
	prog.done()
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSONLine(a.stdout, x)
	}
	return writeExplainText(a.stdout, x)
}

func writeExplainText(w io.Writer, x replay.Explanation) error {
	fmt.Fprintf(w, "%s's subscription toward %s as of %s: %s (subscription %s), after %d step(s):\n",
		x.User, x.Contact, x.At, x.State, x.Subscription, len(x.Steps))
	for i, st := range x.Steps {
		if _, err := fmt.Fprintf(w, "%d. %s\n", i+1, st.Story); err != nil {
			return err
		}
	}
	return nil
}
