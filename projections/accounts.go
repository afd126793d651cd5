package projections

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"xmppd/domain"
	"xmppd/events"
)

// Account is what the log says about one account's existence and
// credentials.
type Account struct {
	JID         string
	Exists      bool
	Created     time.Time // when the account was last created
	Credentials events.CredentialsSet
	// StreamVersion is the account stream's version after the last event
	// folded, of any type: the expected version for the next append. (Not
	// domain.Account.Version, the roster version of RFC 6121 2.6.)
	StreamVersion uint64
}

// Fold applies one event of the account's own stream. Events of other
// types in the stream (roster, subscriptions) only advance Version.
func (a *Account) Fold(e *events.Envelope) error {
	var p events.Payload
	if accountFact(e.Type) {
		var err error
		if p, err = events.Decode(e); err != nil {
			return err
		}
	}
	a.fold(e, p)
	return nil
}

// accountFact reports whether events of type typ change an Account beyond
// its Version; only those need decoding.
func accountFact(typ string) bool {
	switch typ {
	case events.TypeAccountCreated, events.TypeAccountDeleted, events.TypeCredentialsSet:
		return true
	}
	return false
}

// fold applies e, already decoded into p (nil when e is not an account
// fact), so that Views decodes each event once for all its views.
func (a *Account) fold(e *events.Envelope, p events.Payload) {
	a.StreamVersion = e.Version
	a.Exists = domain.ExistsAfter(p, a.Exists)
	switch p := p.(type) {
	case events.AccountCreated:
		a.JID, a.Created = p.JID, e.Recorded
		a.Credentials = events.CredentialsSet{}
	case events.AccountDeleted:
		a.Credentials = events.CredentialsSet{}
	case events.CredentialsSet:
		a.Credentials = p
	}
}

// Accounts is the view of every account, keyed by bare JID. It is safe for
// concurrent use: Apply is called by one consumer, readers from anywhere.
type Accounts struct {
	mu sync.RWMutex
	m  map[string]*Account
}

// NewAccounts returns an empty view.
func NewAccounts() *Accounts { return &Accounts{m: make(map[string]*Account)} }

// Apply folds e if it belongs to an account stream.
func (v *Accounts) Apply(e *events.Envelope) error {
	bare, ok := strings.CutPrefix(e.Stream, events.AccountPrefix)
	if !ok {
		return nil
	}
	var p events.Payload
	if accountFact(e.Type) {
		var err error
		if p, err = events.Decode(e); err != nil {
			return err
		}
	}
	v.applyDecoded(bare, e, p)
	return nil
}

// applyDecoded folds e of bare's account stream, already decoded into p
// (nil when e is not an account fact).
func (v *Accounts) applyDecoded(bare string, e *events.Envelope, p events.Payload) {
	v.mu.Lock()
	defer v.mu.Unlock()
	a := v.m[bare]
	if a == nil {
		a = &Account{JID: bare}
		v.m[bare] = a
	}
	a.fold(e, p)
}

// Get returns the account of bare JID bare, if the log knows it (deleted
// accounts included: check Exists).
func (v *Accounts) Get(bare string) (Account, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	a, ok := v.m[bare]
	if !ok {
		return Account{}, false
	}
	return *a, true
}

// List returns every existing account, sorted by JID.
func (v *Accounts) List() []Account {
	v.mu.RLock()
	out := make([]Account, 0, len(v.m))
	for _, a := range v.m {
		if a.Exists {
			out = append(out, *a)
		}
	}
	v.mu.RUnlock()
	slices.SortFunc(out, func(a, b Account) int { return cmp.Compare(a.JID, b.JID) })
	return out
}
