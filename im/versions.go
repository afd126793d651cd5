package im

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"xmppd/events"
)

// versions knows the last version of the presence and offline streams the
// actors append to, for optimistic concurrency (events.Exactly). It learns
// a stream's version lazily, by reading the stream once, and keeps it
// current from this process's appends and from the views' consumer (which
// also sees other processes' appends). Safe for concurrent use.
//
// The account stream's expected version comes from the Accounts view
// instead, read before the decision: it then matches the roster the
// decision read (commit.go).
type versions struct {
	store events.Store
	mu    sync.Mutex
	m     map[string]uint64
}

func newVersions(store events.Store) *versions {
	return &versions{store: store, m: map[string]uint64{}}
}

// note records that stream has reached version v.
func (vs *versions) note(stream string, v uint64) {
	vs.mu.Lock()
	if v > vs.m[stream] {
		vs.m[stream] = v
	}
	vs.mu.Unlock()
}

// get returns the last version of stream (0 for none).
func (vs *versions) get(ctx context.Context, stream string) (uint64, error) {
	vs.mu.Lock()
	v, ok := vs.m[stream]
	vs.mu.Unlock()
	if ok {
		return v, nil
	}
	_, err := vs.refresh(ctx, stream)
	if err != nil {
		return 0, err
	}
	vs.mu.Lock()
	defer vs.mu.Unlock()
	return vs.m[stream], nil
}

// refresh reads stream past the known version, records the last version,
// and returns the highest log position read (0 if nothing new).
func (vs *versions) refresh(ctx context.Context, stream string) (uint64, error) {
	vs.mu.Lock()
	from := vs.m[stream] + 1
	vs.mu.Unlock()
	var last, pos uint64
	for e, err := range vs.store.ReadStream(ctx, stream, from) {
		if err != nil {
			return 0, fmt.Errorf("im: read %s: %w", stream, err)
		}
		last, pos = e.Version, max(pos, e.Position)
	}
	vs.mu.Lock()
	if last > vs.m[stream] {
		vs.m[stream] = last
	} else if _, ok := vs.m[stream]; !ok {
		vs.m[stream] = 0
	}
	vs.mu.Unlock()
	return pos, nil
}

// preload learns the version of every presence and offline stream at
// once from a store that keeps stream heads (events.StreamHeadLister), so
// that no account's first command after a start reads its whole stream.
// Called before any actor runs: only actors append to those streams.
func (vs *versions) preload(ctx context.Context) error {
	hl, ok := vs.store.(events.StreamHeadLister)
	if !ok {
		return nil
	}
	for h, err := range hl.StreamHeads(ctx) {
		if err != nil {
			return fmt.Errorf("im: read stream heads: %w", err)
		}
		if strings.HasPrefix(h.Stream, events.PresencePrefix) || strings.HasPrefix(h.Stream, events.OfflinePrefix) {
			vs.note(h.Stream, h.Version)
		}
	}
	return nil
}
