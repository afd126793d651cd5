package projections

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"xmppd/events"
)

// Archived messages are most of a busy server's log (two events a
// message), yet the views that start-up waits for (rosters, presence,
// sessions, offline queues) never read them. So a server's views load
// each account's archive index lazily: a rebuild skips the archived
// messages (marking the index lazy), and the first reader of the index
// (a MAM query, XEP-0313 metadata, a retraction) loads it from the
// account's archive stream, or WarmArchives does after start-up. Start-up
// is then not slowed by the archive (issue 13). The CLI's views (replay,
// verify) load them eagerly, as before.

// StreamReader reads one stream from a version on, as events.Store does.
type StreamReader interface {
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[events.Envelope, error]
}

// archiveSkipped is what a rebuild decodes a skipped archived message
// into: it marks the index lazy.
type archiveSkipped struct{}

func (archiveSkipped) EventType() string  { return events.TypeArchiveMessageStored }
func (archiveSkipped) SchemaVersion() int { return 0 }

// bareArchived is ReadOptions.Bare for a rebuild of lazy views: the
// archived messages, whose bodies it does not read.
func bareArchived(stream, typ string) bool {
	return typ == events.TypeArchiveMessageStored && strings.HasPrefix(stream, events.ArchivePrefix)
}

// LoadArchivesLazily makes Rebuild skip archived messages and the first
// reader of an account's archive index load it from src. Call it before
// the first Rebuild.
func (v *Views) LoadArchivesLazily(src StreamReader) { v.archives = src }

// loadArchive loads s's archive index if a rebuild left it lazy. Only
// one load runs per account (s.loading); readers of other accounts and
// the folding of other events do not wait for it. The stream is read
// without the account's lock (a large archive takes a while, and a store
// may need the views to advance before it answers), then read on from
// where it ended until it holds every version the views have passed
// (seen); the load then takes the index's place under the lock, and the
// events after it are folded live as they come. An event read by the
// load and folded live again is a duplicate id, which the index ignores.
func (v *Views) loadArchive(ctx context.Context, s *accountState) error {
	s.mu.RLock()
	lazy := s.archive.lazy
	s.mu.RUnlock()
	if !lazy || v.archives == nil {
		return nil
	}
	s.loading.Lock()
	defer s.loading.Unlock()
	s.mu.RLock()
	lazy, since := s.archive.lazy, s.archive.since
	s.mu.RUnlock()
	if !lazy {
		return nil // loaded while this one waited
	}
	stream := events.ArchiveStream(s.bare)
	var fresh archiveIndex
	next := uint64(1)
	for {
		var err error
		if next, err = loadStream(ctx, v.archives, stream, next, since, &fresh); err != nil {
			return err
		}
		s.mu.Lock()
		switch {
		case !s.archive.lazy || s.archive.since != since:
			// Erased meanwhile: the index forgot what was loaded, and
			// what came after the erasure is still to be loaded.
			s.mu.Unlock()
			return nil
		case s.archive.seen < next:
			fresh.prefs, fresh.since, fresh.seen = s.archive.prefs, s.archive.since, s.archive.seen
			s.archive = fresh
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
	}
}

// loadStream folds into a the archived messages and retractions of
// stream from version from on, skipping what was recorded at or before
// the log position since, and returns the version after the last read.
func loadStream(ctx context.Context, src StreamReader, stream string, from, since uint64, a *archiveIndex) (uint64, error) {
	next := from
	for e, err := range src.ReadStream(ctx, stream, from) {
		if err != nil {
			return next, fmt.Errorf("projections: load archive %s: %w", stream, err)
		}
		next = e.Version + 1
		if e.Position <= since {
			continue
		}
		var p events.Payload
		switch e.Type {
		case events.TypeArchiveMessageStored:
			p, err = events.DecodeArchiveEntry(&e)
		case events.TypeArchiveMessageRetracted:
			p, err = events.Decode(&e)
		default:
			continue // preferences: folded as they came
		}
		if err != nil {
			return next, fmt.Errorf("projections: load archive %s: %w", stream, err)
		}
		a.fold(&e, p)
	}
	return next, nil
}

// WarmArchives loads every lazy archive index, one account after
// another, until done or ctx ends: the server calls it once it serves,
// so that the first MAM query of each account does not wait for its
// load.
func (v *Views) WarmArchives(ctx context.Context) error {
	if v.archives == nil {
		return nil
	}
	v.mu.RLock()
	states := make([]*accountState, 0, len(v.accounts))
	for _, s := range v.accounts {
		states = append(states, s)
	}
	v.mu.RUnlock()
	for _, s := range states {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := v.loadArchive(ctx, s); err != nil {
			return err
		}
	}
	return nil
}
