package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/replay"
)

func (a *app) archiveSearchCommand() *cobra.Command {
	var f archiveFlags
	var text, format string
	cmd := &cobra.Command{
		Use:   "search --user JID --text WORDS [--with JID] [--since T] [--until T] [--format text|jsonl]",
		Short: "Find an account's archived messages that hold all the given words",
		Long: `search reads one account's archive and prints the messages whose body
holds every word of --text: whole words, in any order, in any case, in
any script (words are runs of letters and digits), by the rule MAM's
XEP-0431 full-text search uses (domain.MatchWords). For each: the
archive time, direction, the other party, the archive id and the body.

There is no search index: search opens every archived message afresh
from the log and the key store as it scans. Content whose key was
destroyed (erasure, retention) cannot be opened, so it is never found:
the search forgets erased and expired messages by construction.

The search is recorded when it is done, words included, as
archive.searched in the compliance stream (see ` + "`xmppd archive --help`" + `):
an organisation can show who looked for what in whose messages.`,
		Example: `  xmppd archive search --user alice@example.com --text "quarterly report"
  xmppd archive search --user alice@example.com --with bob@example.com --since 2026-12-01 --text budget --format jsonl`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			bare, filter, sel, err := f.parse()
			if err != nil {
				return err
			}
			words := domain.SplitWords(text)
			if len(words) == 0 {
				return usagef("--text %q has no words to search for", text)
			}
			if format != "text" && format != "jsonl" {
				return usagef("--format %q: use text or jsonl", format)
			}
			ctx := cmd.Context()
			return a.withKeyedStore(ctx, func(c *Config, s events.Store) error {
				if err := checkArchive(ctx, s, bare); err != nil {
					return err
				}
				rec := events.ArchiveSearched{ArchiveSelection: sel, Text: text, Words: words, By: archiveReader()}
				prog := newProgress(a.stderr, "archive search", 0)
				w := bufio.NewWriterSize(a.stdout, 1<<16)
				emit := func(m replay.ArchivedMessage) error { return writeJSONLine(w, searchHit{m, m.Body}) }
				var tw *tabwriter.Writer
				if format == "text" {
					tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "TIME\tDIRECTION\tWITH\tID\tBODY")
					emit = func(m replay.ArchivedMessage) error {
						_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Time.Format(time.RFC3339Nano), m.Direction, m.With, m.ID, oneLine(m.Body))
						return err
					}
				}
				var werr error
				for m, err := range replay.SearchArchive(ctx, s, bare, filter, text, func(n uint64) { rec.Scanned += int(n); prog.add(n) }) {
					if err == nil {
						err = emit(m)
					}
					if err != nil {
						werr = err
						break
					}
					rec.Count++
				}
				if tw != nil {
					werr = errors.Join(werr, tw.Flush())
				}
				werr = errors.Join(werr, w.Flush())
				prog.done()
				rec.Error = errorText(werr)
				if err := a.recordArchiveRead(ctx, c, bare, rec, werr); err != nil {
					return fmt.Errorf("archive search of %s, after %d messages: %w", bare, rec.Scanned, err)
				}
				fmt.Fprintf(a.stderr, "%d of %d archived messages of %s match\n", rec.Count, rec.Scanned, bare)
				return nil
			})
		},
	}
	f.bind(cmd)
	fl := cmd.Flags()
	fl.StringVar(&text, "text", "", "the words to find, all of them (quote them as one argument)")
	fl.StringVar(&format, "format", "text", "text (aligned columns) or jsonl (one JSON object a line, as export writes, plus the body)")
	return cmd
}

// searchHit is a jsonl line of a search: the message as export writes
// it, with its body.
type searchHit struct {
	replay.ArchivedMessage
	Body string `json:"body"`
}

// oneLine shows a body on one line of a table.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
