package projections

import (
	"fmt"

	"xmppd/events"
)

// Apply folds one committed event into every view it concerns and advances
// Position to e.Position. It is idempotent and ordered by position: an
// event at or before Position (a duplicate from the bus, or one a rebuild
// already read) changes nothing and returns nil. An event that cannot be
// decoded or applied returns an error and leaves the views and Position as
// they were: the caller must stop feeding, since a view must not skip an
// event. Events carry positions from 1; an envelope with Position 0 was
// never committed and is ignored.
//
// Only the event types some view folds are decoded (decoding is most of
// a rebuild's cost); the others are checked to be in the catalogue, so an
// event a newer xmppd wrote is reported instead of passed over.
func (v *Views) Apply(e *events.Envelope) error {
	if e.Position <= v.pos.Load() {
		return nil // spare the decoding; applyDecoded checks again under the lock
	}
	return v.applyDecoded(e, decode(e, v.keys, false))
}

// decoded is what decode learns of an event: where it goes and, if some
// view folds it, its payload.
type decoded struct {
	kind, bare string         // from events.SplitStream; kind "" for a stream not xmppd's
	p          events.Payload // nil if no view folds the event
	err        error          // the event cannot be folded
	// missing: its personal content is sealed under a key the key store
	// does not hold (not erased, not expired: never there, or lost).
	missing bool
}

// decode reads e's stream name and, if some view folds e, its payload,
// with its personal content opened with keys. It touches no view, so
// Rebuild runs it ahead on other goroutines.
//
// lazyArchive (a rebuild, for views that load archives lazily) skips the
// archived messages: decoded into archiveSkipped, which marks the index
// to be loaded when first read (archive_lazy.go).
func decode(e *events.Envelope, keys events.KeyLookup, lazyArchive bool) decoded {
	kind, bare, ok := events.SplitStream(e.Stream)
	if !ok {
		// Not one of xmppd's streams (a store may hold others, such as
		// EventStoreDB's own): nothing here folds it.
		return decoded{}
	}
	d := decoded{kind: kind, bare: bare}
	if !folded(kind, e.Type) {
		if !events.DefaultCodec.Known(e.Type) {
			d.err = fmt.Errorf("unknown event type %q", e.Type)
		}
		return d
	}
	if kind == "archive" && e.Type == events.TypeArchiveMessageStored && lazyArchive {
		d.p = archiveSkipped{}
		return d
	}
	if kind == "archive" && e.Type == events.TypeArchiveMessageStored {
		// The index holds no content: spare unescaping the stanza.
		d.p, d.err = events.DecodeArchiveEntry(e)
		return d
	}
	d.p, d.err = events.Decode(e)
	if d.err == nil && events.IsSealable(e.Type) {
		d.p, d.err = events.OpenPersonal(d.p, keys)
		d.missing = d.err == nil && keys != nil && events.GoneOf(d.p) == events.GoneMissing
	}
	return d
}

// applyDecoded is Apply once e has been decoded into d.
func (v *Views) applyDecoded(e *events.Envelope, d decoded) error {
	v.applyMu.Lock()
	defer v.applyMu.Unlock()
	if e.Position <= v.pos.Load() {
		return nil
	}
	err := d.err
	if err == nil {
		err = v.fold(e, d)
	}
	if err != nil {
		return fmt.Errorf("projections: apply %s version %d at position %d: %w", e.Stream, e.Version, e.Position, err)
	}
	if d.missing {
		v.missing.Add(1)
	}
	v.pos.Store(e.Position)
	return nil
}

// fold applies e, decoded into d. Called with applyMu held.
func (v *Views) fold(e *events.Envelope, d decoded) error {
	if d.kind == "compliance" {
		v.Holds.Apply(d.bare, e, d.p)
		return nil
	}
	if d.p == nil {
		if d.kind == "account" {
			v.Accounts.applyDecoded(d.bare, e, nil) // advances the stream version
		}
		return nil
	}
	s, err := v.stateFor(d.bare)
	if err != nil {
		return err
	}
	switch d.kind {
	case "account":
		v.Accounts.applyDecoded(d.bare, e, d.p)
		s.mu.Lock()
		s.roster.Apply(d.p)
		s.storage.apply(d.p)
		if _, ok := d.p.(events.AccountErased); ok {
			// Issue 13: an erased account's MAM index forgets its
			// messages; what a query would read back is unreadable.
			s.archive = archiveIndex{since: e.Position}
		}
		if _, ok := d.p.(events.AccountDeleted); ok {
			// What waited for a deleted account is never delivered, nor
			// held in memory in clear after an erasure destroyed its
			// key: an account registered again starts with an empty
			// queue, in the live views as after a rebuild.
			s.offline = nil
		}
		if c := mayLeaveRoster(d.p); c != "" {
			s.contacts[c] = struct{}{}
		}
		s.mu.Unlock()
	case "presence":
		s.mu.Lock()
		s.presence.ApplyAt(d.p, e.Recorded, e.Position)
		s.foldSession(e, d.p)
		s.foldLast(e, d.p)
		s.mu.Unlock()
	case "offline":
		s.mu.Lock()
		s.foldOffline(e, d.p)
		s.mu.Unlock()
	case "archive":
		s.mu.Lock()
		s.foldArchive(e, d.p)
		s.mu.Unlock()
	}
	return nil
}

// folded reports whether some view folds events of type typ found in a
// stream of kind kind (as events.SplitStream names it).
func folded(kind, typ string) bool {
	switch kind {
	case "account":
		switch typ {
		case events.TypeRosterItemSet, events.TypeSubscriptionChanged,
			events.TypeRosterItemRemoved, events.TypePreapprovalSet, events.TypePreapprovalCleared,
			events.TypeAccountCreated, events.TypeAccountDeleted, events.TypeCredentialsSet,
			events.TypeBlockingBlocked, events.TypeBlockingUnblocked,
			events.TypeVCardSet, events.TypePrivateSet,
			events.TypePEPNodeConfigured, events.TypePEPPublished, events.TypePEPRetracted, events.TypePEPNodeDeleted,
			events.TypeAccountErased:
			return true
		}
	case "presence":
		switch typ {
		case events.TypePresenceAvailable, events.TypePresenceUnavailable,
			events.TypeSessionStarted, events.TypeSessionEnded, events.TypeDirectedPresence,
			events.TypeSessionSuspended, events.TypeSessionResumed:
			return true
		}
	case "offline":
		return typ == events.TypeOfflineQueued || typ == events.TypeOfflineDelivered
	case "archive":
		return typ == events.TypeArchiveMessageStored || typ == events.TypeArchiveMessageRetracted || typ == events.TypeArchivePrefsSet
	case "compliance":
		return typ == events.TypeHoldPlaced || typ == events.TypeHoldReleased || typ == events.TypeErasureBegun
	}
	return false
}

// mayLeaveRoster returns the contact an account event may create a
// record of outside the roster, which Dump must list beside Roster() and
// PendingRequests(). Such a record comes into being only where the
// account's record of a contact does: by a transition out of None (every
// unknown contact is in None) or by a pre-approval. A roster set puts the
// contact in the roster, and only an item removal or the account's
// deletion takes it out, dropping the record whole. Keeping the set this
// small matters: a map insert for every roster event was a fifth of the
// fold's cost.
func mayLeaveRoster(p events.Payload) string {
	switch p := p.(type) {
	case events.SubscriptionChanged:
		if p.Before == events.StateNone {
			return p.Contact
		}
	case events.PreapprovalSet:
		return p.Contact
	}
	return ""
}
