package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
)

// The start-up checks of `xmppd serve` on its log, before anything is
// served: one serving process per log (lockLog), a file that holds an
// xmppd log (checkLogFile, shared with every command that opens the
// store) and stream heads that match their events (checkHeads).

// lockLog takes the embedded store's server lock, so that a second
// `xmppd serve` on the same data directory exits at once instead of
// ending the first one's live sessions and splitting its clients. The
// lock is released by Release or when the process ends, however it ends.
// EventStoreDB is a cluster several xmppd nodes share by design: there is
// nothing to lock, and node names must be unique (see README).
func lockLog(c *Config) (*sqlite.Lock, error) {
	if c.Store.Kind != "sqlite" {
		return nil, nil
	}
	if err := os.MkdirAll(filepath.Dir(c.Store.Path), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	l, err := sqlite.LockServer(c.Store.Path, sqlite.Holder{PID: os.Getpid(), Node: c.Node, Started: time.Now()})
	var held *sqlite.LockedError
	if errors.As(err, &held) {
		return nil, fmt.Errorf("%w\n  Only one `xmppd serve` may use a log (data directory %s). Stop process %d first, or give this server its own data directory (--data-dir or store.path).",
			err, filepath.Dir(c.Store.Path), held.Holder.PID)
	}
	return l, err
}

// checkLogFile refuses a file that exists but holds no xmppd log, before
// the store would make a new log in it (0 bytes) or add its tables beside
// another program's. A missing file is a new log, except for the commands
// that only read (readOnly), which report it.
func checkLogFile(c *Config, readOnly bool) error {
	if c.Store.Kind != "sqlite" {
		return nil
	}
	err := sqlite.Inspect(c.Store.Path)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		if readOnly {
			return fmt.Errorf("open event log: %w (is the server's data directory %s?)", err, c.DataDir)
		}
		return nil
	case errors.Is(err, sqlite.ErrNoLog):
		return fmt.Errorf("%w\n  xmppd will not write to it. If it should hold the log, restore %s from a backup; if it is left from an interrupted first start or is not xmppd's, move it away (or set store.path to another file) to start a new, empty log.",
			err, c.Store.Path)
	default:
		return err
	}
}

// headChecker is the store's ability to compare stream heads with the log
// cheaply, and to move them back to the events actually there.
type headChecker interface {
	CheckHeads(ctx context.Context) ([]sqlite.HeadProblem, error)
	RebaseHeads(ctx context.Context, streams []string) (map[string]sqlite.HeadProblem, error)
}

// checkHeads refuses a log whose stream heads do not match their last
// events (an edited last event, a removed tail, an edited streams row)
// unless the operator accepts it (store.accept_altered_log, or
// --accept-altered-log). Accepting re-bases the heads of streams whose
// last events are gone, so appends continue from the last event left,
// and records the decision in server-<domain> (server.altered_log_accepted).
func checkHeads(ctx context.Context, c *Config, store events.Store, log *slog.Logger) error {
	hc, ok := store.(headChecker)
	if !ok {
		return nil
	}
	start := time.Now()
	problems, err := hc.CheckHeads(ctx)
	if err != nil {
		return fmt.Errorf("check the log's stream heads: %w", err)
	}
	log.Info("checked stream heads", "altered", len(problems), "took", time.Since(start).Round(time.Microsecond))
	if len(problems) == 0 {
		return nil
	}
	var b strings.Builder
	for _, p := range problems {
		fmt.Fprintf(&b, "\n  stream %s: %s", p.Stream, p.Detail())
	}
	if !c.Store.AcceptAlteredLog {
		return fmt.Errorf("the event log %s was altered: %d stream(s) do not end where the store recorded:%s\n  Run `xmppd verify` for the whole story. Restore the log from a backup, or start with --accept-altered-log (store.accept_altered_log) to serve it as it is: the decision is recorded in the log.",
			c.Store.Path, len(problems), b.String())
	}
	var rebase []string
	for _, p := range problems {
		if p.Kind != sqlite.HeadEventEdited {
			rebase = append(rebase, p.Stream)
		}
	}
	rebased, err := hc.RebaseHeads(ctx, rebase)
	if err != nil {
		return fmt.Errorf("re-base altered streams: %w", err)
	}
	meta := adminMeta(c)
	rec := events.AlteredLogAccepted{Node: c.Node, Operator: meta.Actor}
	for _, p := range problems {
		s := events.AlteredStream{Stream: p.Stream, Problem: p.Kind, Detail: p.Detail(),
			RecordedVersion: p.RecordedVersion, RecordedHash: p.RecordedHash,
			FoundVersion: p.FoundVersion, FoundHash: p.FoundHash}
		if r, ok := rebased[p.Stream]; ok {
			s.Rebased, s.FoundVersion, s.FoundHash = true, r.FoundVersion, r.FoundHash
		}
		rec.Streams = append(rec.Streams, s)
	}
	e, err := events.New(rec, meta)
	if err != nil {
		return err
	}
	e.Recorded = time.Now().UTC()
	stream := events.ServerStream(c.Domain)
	got, err := store.Append(ctx, stream, events.Any, e)
	if err != nil {
		return fmt.Errorf("record the accepted alteration in %s: %w", stream, err)
	}
	log.Warn("serving an altered log, as accepted by the operator; the decision is recorded"+b.String(),
		"log", c.Store.Path, "streams", len(problems), "rebased", len(rebased), "recorded_at", got[0].Position, "operator", meta.Actor)
	return nil
}

// bindServeFlags adds serve's own flags.
func (l *configLoader) bindServeFlags(fs *pflag.FlagSet) {
	fs.Bool("accept-altered-log", false, "serve a log whose stream heads do not match their events (see xmppd verify); the decision is recorded in the log")
	_ = l.v.BindPFlag("store.accept_altered_log", fs.Lookup("accept-altered-log"))
}
