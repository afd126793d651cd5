package im

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

// Accounts carries out the account use cases (create, set password,
// delete) on the log, with or without a server running on it: `xmppd
// user` calls them, and so will in-band registration. Each reads the
// account's stream, decides with domain's account rules and appends at
// the version it read; another writer getting in between makes it read
// and decide again. A running server learns of the change from its feed
// (and a login reads the log head first: credentials.go).
type Accounts struct {
	Store events.Store
	// Now stamps the events; nil: time.Now.
	Now func() time.Time
}

// maxAccountAttempts bounds the retries of one account command under
// concurrent writers.
const maxAccountAttempts = 4

// Create creates the account bare with creds.
func (u Accounts) Create(ctx context.Context, bare jid.JID, creds events.CredentialsSet, meta events.Meta) error {
	return u.change(ctx, bare, meta, func(a *domain.Account) ([]events.Payload, error) {
		return domain.CreateAccount(a, creds)
	})
}

// SetPassword replaces the credentials of the account bare.
func (u Accounts) SetPassword(ctx context.Context, bare jid.JID, creds events.CredentialsSet, meta events.Meta) error {
	return u.change(ctx, bare, meta, func(a *domain.Account) ([]events.Payload, error) {
		return domain.SetPassword(a, creds)
	})
}

// Delete deletes the account bare, for reason.
func (u Accounts) Delete(ctx context.Context, bare jid.JID, reason string, meta events.Meta) error {
	return u.change(ctx, bare, meta, func(a *domain.Account) ([]events.Payload, error) {
		return domain.DeleteAccount(a, reason)
	})
}

// Exists reports whether the account bare exists, as its stream says.
func (u Accounts) Exists(ctx context.Context, bare jid.JID) (bool, error) {
	a, _, err := u.load(ctx, bare)
	return a.Exists, err
}

// change is the optimistic-concurrency loop of the account use cases.
func (u Accounts) change(ctx context.Context, bare jid.JID, meta events.Meta, decide func(*domain.Account) ([]events.Payload, error)) error {
	now := u.Now
	if now == nil {
		now = time.Now
	}
	stream := events.AccountStream(bare.String())
	for attempt := 1; ; attempt++ {
		a, version, err := u.load(ctx, bare)
		if err != nil {
			return err
		}
		ps, err := decide(a)
		if err != nil {
			return err
		}
		evs := make([]events.Envelope, len(ps))
		at := now().UTC()
		for i, p := range ps {
			if evs[i], err = events.New(p, meta); err != nil {
				return err
			}
			evs[i].Recorded = at
		}
		_, err = u.Store.Append(ctx, stream, events.Exactly(version), evs...)
		if errors.Is(err, events.ErrConflict) && attempt < maxAccountAttempts {
			continue
		}
		if err != nil {
			return fmt.Errorf("im: append to %s: %w", stream, err)
		}
		return nil
	}
}

// load folds the account's stream into its domain state, and returns the
// stream's version: the expected version of the next append.
func (u Accounts) load(ctx context.Context, bare jid.JID) (*domain.Account, uint64, error) {
	a := domain.NewAccount(bare, domain.DefaultPolicy())
	var version uint64
	for e, err := range u.Store.ReadStream(ctx, events.AccountStream(bare.String()), 1) {
		if err != nil {
			return a, version, fmt.Errorf("im: read %s: %w", events.AccountStream(bare.String()), err)
		}
		if err := a.ApplyEnvelope(&e); err != nil {
			return a, version, err
		}
		version = e.Version
	}
	return a, version, nil
}
