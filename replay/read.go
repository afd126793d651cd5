package replay

import (
	"context"
	"fmt"
	"iter"
	"slices"

	"xmppd/events"
)

// accountStreams names the streams that hold one account's history.
func accountStreams(bare string) []string {
	return []string{events.AccountStream(bare), events.PresenceStream(bare), events.OfflineStream(bare)}
}

// merged yields the events of streams in log position order: each stream
// is read with ReadStream (already in position order within itself) and
// the heads are merged, so the cost is that of the streams alone. It
// stops at the first event c does not include.
func merged(ctx context.Context, store events.Store, streams []string, c Cutoff) iter.Seq2[events.Envelope, error] {
	return func(yield func(events.Envelope, error) bool) {
		type source struct {
			name string
			next func() (events.Envelope, error, bool)
			head events.Envelope
			ok   bool
		}
		srcs := make([]*source, 0, len(streams))
		for _, name := range streams {
			next, stop := iter.Pull2(store.ReadStream(ctx, name, 1))
			defer stop()
			srcs = append(srcs, &source{name: name, next: next})
		}
		advance := func(s *source) error {
			e, err, ok := s.next()
			if err != nil {
				return fmt.Errorf("replay: read %s: %w", s.name, err)
			}
			s.head, s.ok = e, ok
			return nil
		}
		for _, s := range srcs {
			if err := advance(s); err != nil {
				yield(events.Envelope{}, err)
				return
			}
		}
		for {
			var min *source
			for _, s := range srcs {
				if s.ok && (min == nil || s.head.Position < min.head.Position) {
					min = s
				}
			}
			if min == nil || !c.Includes(&min.head) {
				return
			}
			if !yield(min.head, nil) {
				return
			}
			if err := advance(min); err != nil {
				yield(events.Envelope{}, err)
				return
			}
		}
	}
}

// AccountLog yields the history of the account bare (its account,
// presence and offline streams) in log position order, up to c.
func AccountLog(ctx context.Context, store events.Store, bare string, c Cutoff) iter.Seq2[events.Envelope, error] {
	return merged(ctx, store, accountStreams(bare), c)
}

// Accounts returns the bare JIDs of every account the log holds a stream
// of (account, presence or offline), sorted. A store that records the
// head of every stream (events.StreamHeadLister) answers without reading
// the log; any other is read once, whole, keeping only the names.
func Accounts(ctx context.Context, store events.Store) ([]string, error) {
	seen := map[string]struct{}{}
	note := func(stream string) {
		kind, id, ok := events.SplitStream(stream)
		// server- and compliance- streams are named for a domain, not
		// an account.
		if ok && kind != "server" && kind != "compliance" {
			seen[id] = struct{}{}
		}
	}
	if lister, ok := store.(events.StreamHeadLister); ok {
		for h, err := range lister.StreamHeads(ctx) {
			if err != nil {
				return nil, fmt.Errorf("replay: list streams: %w", err)
			}
			note(h.Stream)
		}
	} else {
		for e, err := range store.ReadAll(ctx, 0) {
			if err != nil {
				return nil, fmt.Errorf("replay: list streams: %w", err)
			}
			note(e.Stream)
		}
	}
	out := make([]string, 0, len(seen))
	for bare := range seen {
		out = append(out, bare)
	}
	slices.Sort(out)
	return out, nil
}
