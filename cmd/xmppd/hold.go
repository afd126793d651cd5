package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"mellium.im/xmpp/jid"

	"xmppd/events"
	"xmppd/im"
)

// holdCommand is `xmppd hold`: legal holds (issue 13). Each change is an
// event of the compliance stream (compliance-<domain>) with the
// administrator as its actor and the command in its payload; a running
// server follows it within a second, so the commands run beside it.
func (a *app) holdCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hold",
		Short: "Place, list and release legal holds on accounts",
		Long: `A legal hold keeps an account's personal content for a case: while any
hold is on an account, retention (archive.retention) destroys none of its
keys and ` + "`xmppd user erase`" + ` refuses, naming the cases. Holds are events in
the domain's compliance stream (who placed or released which hold, when,
why), shown by ` + "`xmppd audit --user JID`" + ` and ` + "`xmppd audit --compliance`" + `.
The commands write to the log beside a running server, which sees each
change within a second.`,
	}
	var user, caseID, reason string
	need := func(what string, withReason bool) error {
		var missing []string
		if user == "" {
			missing = append(missing, "--user JID (the account)")
		}
		if caseID == "" {
			missing = append(missing, "--case ID (the case the hold is for)")
		}
		if withReason && strings.TrimSpace(reason) == "" {
			missing = append(missing, "--reason TEXT (why the content must be kept)")
		}
		if len(missing) > 0 {
			return usagef("%s needs %s", what, strings.Join(missing, ", "))
		}
		return nil
	}
	add := &cobra.Command{
		Use:     "add --user JID --case ID --reason TEXT",
		Short:   "Place a legal hold on an account",
		Example: `  xmppd hold add --user alice@example.org --case 2026-041 --reason "litigation hold, Smith v. Example"`,
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := need("hold add", true); err != nil {
				return err
			}
			return a.holdChange(cmd, user, func(h im.Holds, j jid.JID, meta events.Meta) error {
				if err := h.Place(cmd.Context(), j, caseID, reason, cmd.CommandPath(), meta); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "held %s for case %s\n", j, caseID)
				return nil
			})
		},
	}
	release := &cobra.Command{
		Use:   "release --user JID --case ID [--reason TEXT]",
		Short: "Release a legal hold",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := need("hold release", false); err != nil {
				return err
			}
			return a.holdChange(cmd, user, func(h im.Holds, j jid.JID, meta events.Meta) error {
				if err := h.Release(cmd.Context(), j, caseID, reason, cmd.CommandPath(), meta); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "released %s from case %s\n", j, caseID)
				return nil
			})
		},
	}
	list := &cobra.Command{
		Use:   "list [--user JID]",
		Short: "List the legal holds in force",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), true, func(c *Config, s events.Store) error {
				account := ""
				if user != "" {
					j, err := accountJID(c, user)
					if err != nil {
						return err
					}
					account = j.String()
				}
				holds, err := (im.Holds{Store: s}).List(cmd.Context(), c.Domain, account)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ACCOUNT\tCASE\tSINCE\tBY\tREASON")
				for _, h := range holds {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.Account, h.Case, h.Since.Format(time.RFC3339), dash(h.By), h.Reason)
				}
				return tw.Flush()
			})
		},
	}
	for _, c := range []*cobra.Command{add, release, list} {
		c.Flags().StringVar(&user, "user", "", "the account (bare JID)")
	}
	for _, c := range []*cobra.Command{add, release} {
		c.Flags().StringVar(&caseID, "case", "", "the case the hold is for (your case or docket number)")
		c.Flags().StringVar(&reason, "reason", "", "why (recorded in the compliance stream)")
	}
	cmd.AddCommand(add, release, list)
	return cmd
}

// holdChange runs change on the log for the account named by user, with
// the administrator's provenance.
func (a *app) holdChange(cmd *cobra.Command, user string, change func(im.Holds, jid.JID, events.Meta) error) error {
	return a.withStore(cmd.Context(), false, func(c *Config, s events.Store) error {
		j, err := accountJID(c, user)
		if err != nil {
			return err
		}
		return change(im.Holds{Store: s}, j, adminMeta(c))
	})
}
