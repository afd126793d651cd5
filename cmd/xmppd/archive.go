package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/spf13/cobra"
	"mellium.im/xmpp/jid"

	"xmppd/events"
	"xmppd/replay"
)

// archiveCommand is `xmppd archive`: eDiscovery over the message archive
// (issue 13). Its subcommands read one account's archive-<bare> stream
// with the log and the key store opened read-only, so they run beside
// `xmppd serve` or on a copy, and each run that finds the archive is
// recorded afterwards in the compliance stream of the account's domain
// (events.ArchiveExported, ArchiveSearched): the audit of the auditors.
func (a *app) archiveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "archive",
		Short: "Export and search an account's message archive (eDiscovery)",
		Long: `archive reads one account's message archive (XEP-0313) back from the
event log, opening each sealed message with the key store (keys.path).
Messages whose key was destroyed (erasure, retention) are shown as erased
or expired, never as an error.

Every export and search is itself recorded, once it has run, as an event
in the compliance stream of the account's domain (compliance-<domain>):
the OS user, host and process, the command line, the filters, the words
searched for, and how many messages came out. ` + "`xmppd audit --user JID`" + `
lists the exports and searches of that account's archive, and
` + "`xmppd audit --compliance`" + ` all of them. A run that fails after finding the
archive is recorded with its error; one refused for its command line, or
for an account the log does not know, read nothing and is not.`,
	}
	cmd.AddCommand(a.archiveExportCommand(), a.archiveSearchCommand())
	return cmd
}

// archiveFlags are the selection flags export and search share.
type archiveFlags struct {
	user, with, since, until string
}

func (f *archiveFlags) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.user, "user", "", "the account whose archive to read (bare JID)")
	fl.StringVar(&f.with, "with", "", "only messages with this party: a bare JID (any resource) or a full JID")
	fl.StringVar(&f.since, "since", "", "only messages archived at or after this time (RFC 3339, or a date 2026-12-01: its start, UTC)")
	fl.StringVar(&f.until, "until", "", "only messages archived at or before this time (RFC 3339, or a date: through its end, UTC)")
}

// parse checks the flags: the account and the filter, or a usage error
// naming what is wrong.
func (f *archiveFlags) parse() (bare string, filter replay.ArchiveFilter, sel events.ArchiveSelection, err error) {
	if f.user == "" {
		return "", filter, sel, usagef("--user JID is required: whose archive to read")
	}
	if bare, err = optionalBare("--user", f.user); err != nil {
		return "", filter, sel, err
	}
	if f.with != "" {
		j, err := jid.Parse(f.with)
		if err != nil {
			return "", filter, sel, usagef("--with %q is not a valid JID: %v", f.with, err)
		}
		filter.With = j.String()
	}
	if filter.Since, err = parseArchiveTime("--since", f.since, false); err != nil {
		return "", filter, sel, err
	}
	if filter.Until, err = parseArchiveTime("--until", f.until, true); err != nil {
		return "", filter, sel, err
	}
	if err := filter.Validate(); err != nil {
		return "", filter, sel, usageError{err}
	}
	sel = events.ArchiveSelection{Account: bare, With: filter.With, Since: stampOrEmpty(filter.Since), Until: stampOrEmpty(filter.Until)}
	return bare, filter, sel, nil
}

// parseArchiveTime reads an RFC 3339 time or a date (2026-12-01, UTC): a
// date stands for its first instant, or, as an upper bound (end), for
// its last, so --until 2026-12-01 includes the whole day.
func parseArchiveTime(flag, s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, usagef("%s %q is neither an RFC 3339 time (2026-12-01T10:02:11Z) nor a date (2026-12-01)", flag, s)
	}
	if end {
		d = d.AddDate(0, 0, 1).Add(-time.Nanosecond)
	}
	return d, nil
}

func stampOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// errNoArchive is an account the log has neither an account stream nor an
// archive of.
var errNoArchive = errors.New("no such account")

// checkArchive fails with errNoArchive unless the log holds the account
// bare or an archive of it (an erased account's archive outlives its
// credentials, its content erased).
func checkArchive(ctx context.Context, s events.Store, bare string) error {
	for _, stream := range []string{events.AccountStream(bare), events.ArchiveStream(bare)} {
		for _, err := range s.ReadStream(ctx, stream, 1) {
			if err != nil {
				return fmt.Errorf("read %s: %w", stream, err)
			}
			return nil
		}
	}
	return fmt.Errorf("%w: the log holds no account and no archive %s (see xmppd user list)", errNoArchive, bare)
}

// archiveReader is who runs this command, as the compliance record
// names them.
func archiveReader() events.ArchiveReader {
	r := events.ArchiveReader{OSUser: "unknown", PID: os.Getpid(), Command: os.Args}
	if u, err := user.Current(); err == nil {
		r.OSUser = u.Username
	}
	if h, err := os.Hostname(); err == nil {
		r.Host = h
	}
	return r
}

// recordArchiveRead appends p, the record of an export or search of
// bare's archive that ended with werr (nil for success), to the
// compliance stream of bare's domain, through a store opened for writing
// (the reading was done read-only). It is the last step of the command
// and returns werr, joined with the failure to record if there was one:
// a run whose record cannot be appended fails, naming what was done.
func (a *app) recordArchiveRead(ctx context.Context, c *Config, bare string, p events.Payload, werr error) error {
	stream := events.ComplianceStream(jid.MustParse(bare).Domainpart())
	e, err := events.New(p, adminMeta(c))
	if err != nil {
		return errors.Join(werr, err)
	}
	e.Recorded = time.Now().UTC()
	s, err := openStore(ctx, c, false)
	if err != nil {
		return errors.Join(werr, fmt.Errorf("record %s in %s: %w", p.EventType(), stream, err))
	}
	defer s.Close()
	if _, err := s.Append(ctx, stream, events.Any, e); err != nil {
		return errors.Join(werr, fmt.Errorf("record %s in %s (the work itself was done): %w", p.EventType(), stream, err))
	}
	return werr
}

// errorText is err's message for a record, "" for none.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
