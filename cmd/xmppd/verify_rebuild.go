package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
)

// rebuildViews rebuilds every projection from the log, as the server does
// at start-up, and reports each event that cannot be decoded or applied
// (naming its stream and version) through problem: as ALTERED, or as
// UNREADABLE when the event is of a type or schema version this xmppd does
// not know, which a newer xmppd writes (or an attacker, but then the
// chain check names it as well). It returns how many it
// reported; an error means the log could not be read.
//
// projections.Rebuild is fast (it decodes ahead on every core) but stops
// at the first event it cannot apply, since a view must not skip one. So
// a healthy log is rebuilt in one pass; at a failure verify goes on one
// event at a time from there, skipping each bad event, so that every one
// is named and not only the first.
func rebuildViews(ctx context.Context, s events.Store, out, stderr io.Writer, quiet bool, problem func(verdict, format string, args ...any)) (int, error) {
	v := projections.NewViews(domain.DefaultPolicy())
	prog := newProgress(stderr, "verify: rebuild views", logTotal(ctx, s, 0))
	var seen uint64
	_, err := projections.Rebuild(ctx, s, v, 0, func(applied uint64) {
		prog.add(applied - seen)
		seen = applied
	})
	bad := 0
	if err != nil {
		if ctx.Err() != nil {
			prog.done()
			return bad, fmt.Errorf("verify: rebuild views: %w", err)
		}
		// A read failure and a fold failure look alike here; reading on
		// one event at a time tells them apart.
		for e, rerr := range s.ReadAll(ctx, v.Position()+1) {
			if rerr != nil {
				prog.done()
				return bad, fmt.Errorf("verify: rebuild views: read the log: %w", rerr)
			}
			if aerr := v.Apply(&e); aerr != nil {
				bad++
				if errors.Is(aerr, events.ErrUnknownSchema) {
					problem("UNREADABLE", "stream %s version %d (position %d): %v; a newer xmppd can verify it", e.Stream, e.Version, e.Position, aerr)
				} else {
					problem("ALTERED", "stream %s version %d (position %d): cannot be replayed: %v", e.Stream, e.Version, e.Position, aerr)
				}
			}
			prog.add(1)
		}
	}
	prog.done()
	if !quiet {
		accounts := v.Accounts.List()
		sessions, items, offline := 0, 0, 0
		for _, a := range accounts {
			sessions += len(v.Sessions(a.JID))
			offline += len(v.Offline(a.JID))
			v.WithAccount(a.JID, func(r *domain.Account, _ *domain.PresenceView) { items += len(r.Roster()) })
		}
		fmt.Fprintf(out, "rebuilt views to position %d: %d accounts, %d roster items, %d open sessions, %d offline stanzas\n",
			v.Position(), len(accounts), items, sessions, offline)
	}
	return bad, nil
}
