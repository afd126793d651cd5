package projections

import (
	"fmt"
	"sync"
	"sync/atomic"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

// Views holds every view the server routes from, folded from the whole log
// in position order: the Accounts view (existence, credentials), and per
// bare JID the roster (a *domain.Account from the account stream), the
// presence view (a *domain.PresenceView from the presence stream), the open
// sessions (from the presence stream) and the offline queue (from the
// offline stream).
//
// Concurrency: Apply may be called from any goroutine, but calls are
// serialised (applyMu), so in practice one consumer (the bus, or Rebuild)
// feeds the views. Readers use WithAccount and the copying accessors from
// any number of goroutines; they never see an event half applied, because
// each account's state is changed only under that account's write lock.
type Views struct {
	// Accounts is the account view the CLI also uses on its own. It is fed
	// by Apply; do not feed it separately while it belongs to a Views.
	Accounts *Accounts
	// Holds is the legal holds in force, from the compliance streams
	// (holds.go). Fed by Apply.
	Holds *Holds

	policy domain.Policy
	// keys opens sealed personal content (events.OpenPersonal); nil: it
	// reads as missing. Set before the first Apply, never after.
	keys events.KeyLookup
	// archives, if not nil, is where archive indexes are loaded from
	// when a rebuild skipped them (archive_lazy.go).
	archives StreamReader

	// applyMu serialises Apply (and Dump's snapshot, which must see one
	// position). While it is held the accounts map changes only by the
	// holder, which may therefore read the map without mu.
	applyMu sync.Mutex
	// mu guards the accounts map: Apply takes it to insert, readers to
	// look up. Each account's own state is guarded by its own lock, so a
	// reader of one account never waits for a write to another.
	mu       sync.RWMutex
	accounts map[string]*accountState
	// pos is the position of the last event applied.
	pos atomic.Uint64
	// missing counts the events applied whose sealed content's key the
	// key store does not hold (MissingKeys).
	missing atomic.Uint64
}

// MissingKeys is how many events applied so far hold personal content
// sealed under a key the key store does not hold: neither erased nor
// expired, but never in it, or lost with an earlier key file.
func (v *Views) MissingKeys() uint64 { return v.missing.Load() }

// accountState is everything the views hold about one bare JID. mu guards
// every field; Apply holds it for writing while folding one event.
type accountState struct {
	mu       sync.RWMutex
	bare     string
	roster   *domain.Account
	presence *domain.PresenceView
	sessions map[string]Session // by resource
	offline  []OfflineItem      // in stream version order
	// contacts holds the contacts that may have a record outside the
	// roster (see mayLeaveRoster). The domain keeps its contacts
	// unexported; Dump lists the roster, the pending requests, and asks
	// the domain about each of these.
	contacts map[string]struct{}
	storage  userStorage  // vCard and private XML (storage.go)
	archive  archiveIndex // XEP-0313 archive index (archive.go)
	// loading serialises loads of the archive index (archive_lazy.go).
	loading sync.Mutex
	last    lastGone // XEP-0012 last activity (lastactivity.go)
}

// NewViews returns empty views; policy is the roster policy every
// domain.Account is built with (the same the server decides with).
func NewViews(policy domain.Policy) *Views {
	return &Views{
		Accounts: NewAccounts(),
		Holds:    NewHolds(),
		policy:   policy,
		accounts: make(map[string]*accountState),
	}
}

// OpenWith makes the views open sealed personal content (vCards, private
// XML, PEP items, presence text, offline stanzas: events.SealPersonal) with keys; content
// whose key is gone reads as absent. Call it before the first Apply.
func (v *Views) OpenWith(keys events.KeyLookup) { v.keys = keys }

// Position returns the log position of the last event applied (0 before
// any). Events at or before it are skipped by Apply.
func (v *Views) Position() uint64 { return v.pos.Load() }

// lookup returns the state of bare, or nil. Safe from any goroutine.
func (v *Views) lookup(bare string) *accountState {
	v.mu.RLock()
	s := v.accounts[bare]
	v.mu.RUnlock()
	return s
}

// stateFor returns the state of bare, creating it. Only called with applyMu
// held: the map is read without mu because only the holder writes it.
func (v *Views) stateFor(bare string) (*accountState, error) {
	if s := v.accounts[bare]; s != nil {
		return s, nil
	}
	j, err := jid.Parse(bare)
	if err != nil {
		return nil, fmt.Errorf("stream names a malformed JID %q: %w", bare, err)
	}
	s := &accountState{
		bare:     bare,
		roster:   domain.NewAccount(j.Bare(), v.policy),
		presence: domain.NewPresenceView(),
		sessions: make(map[string]Session),
		contacts: make(map[string]struct{}),
	}
	v.mu.Lock()
	v.accounts[bare] = s
	v.mu.Unlock()
	return s, nil
}
