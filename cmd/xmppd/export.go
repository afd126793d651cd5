package main

import (
	"bufio"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"xmppd/events"
)

func (a *app) exportCommand() *cobra.Command {
	var format string
	var since uint64
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the event log as JSON lines, for SIEM systems",
		Long: `export writes every event of the log from position --since on, one JSON
envelope per line, in log order: id, stream, version, position, type,
schema, recorded, actor, session, addr, stanza_id, causation, correlation,
node, prev, hash and data (the payload). Resume an export by passing the
last position seen plus one as --since.`,
		Example: `  xmppd export --format jsonl > log.jsonl
  xmppd export --format jsonl --since 120001 | siem-ingest`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			batchGC()
			if format != "jsonl" {
				return usagef("--format %q: only jsonl is supported", format)
			}
			return a.withStore(cmd.Context(), true, func(_ *Config, s events.Store) error {
				ctx := cmd.Context()
				w := bufio.NewWriterSize(a.stdout, 1<<16)
				enc := json.NewEncoder(w)
				enc.SetEscapeHTML(false)
				prog := newProgress(a.stderr, "export", logTotal(ctx, s, since))
				defer prog.done()
				for e, err := range s.ReadAll(ctx, since) {
					if err != nil {
						return fmt.Errorf("export: %w", err)
					}
					if err := enc.Encode(&e); err != nil {
						return fmt.Errorf("export: write: %w", err)
					}
					prog.add(1)
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "jsonl", "output format: jsonl")
	cmd.Flags().Uint64Var(&since, "since", 0, "first log position to export")
	return cmd
}
