package im

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/events"
	"xmppd/projections"
)

// Holds carries out the legal-hold use cases (issue 13) on the log:
// `xmppd hold add`, `hold release` and `hold list`, beside a running
// server or not. A hold is an event of the account's domain's compliance
// stream; the server folds it (projections.Holds) and from then on
// retention destroys none of the account's keys, and `xmppd user erase`
// refuses. Each command reads the stream, decides, and appends at the
// version it read; a writer getting in between (the server recording an
// expiry, another administrator) makes it read and decide again.
type Holds struct {
	Store events.Store
	// Now stamps the events; nil: time.Now.
	Now func() time.Time
}

// Errors of the hold commands, wrapped with the account and case.
var (
	ErrUnknownAccount = errors.New("no such account")
	ErrAlreadyHeld    = errors.New("already held under this case")
	ErrNoSuchHold     = errors.New("no such hold")
)

// HeldError refuses to erase an account under legal hold; it names the
// cases.
type HeldError struct {
	Account string
	Holds   []projections.Hold
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is under legal hold (case %s): its content must be kept; release the hold first (xmppd hold release --user %s --case ID)",
		e.Account, projections.Cases(e.Holds), e.Account)
}

// Place places a hold on the account bare for case caseID. The account
// must be known to the log: an existing account, or a deleted one whose
// content is still kept (a person who left, now party to a case); an
// erased account has no content left to hold. command is the command
// line that asked ("xmppd hold add"), for the record.
func (h Holds) Place(ctx context.Context, bare jid.JID, caseID, reason, command string, meta events.Meta) error {
	account := bare.String()
	known, erased, created, err := h.account(ctx, account)
	switch {
	case err != nil:
		return err
	case !known:
		return fmt.Errorf("hold %s: %w (the log has never known it)", account, ErrUnknownAccount)
	case erased:
		return fmt.Errorf("hold %s: the account was erased: its keys are destroyed, no content is left to hold", account)
	}
	return h.change(ctx, bare.Domainpart(), meta, func(held *projections.Holds) (events.Payload, error) {
		if begun := held.ErasureBegun(account); begun > created {
			return nil, fmt.Errorf("hold %s: an erasure of the account began (log position %d) and may have destroyed keys already; run xmppd user erase %s again to complete it", account, begun, account)
		}
		for _, x := range held.On(account) {
			if x.Case == caseID {
				return nil, fmt.Errorf("hold %s case %s: %w since %s", account, caseID, ErrAlreadyHeld, x.Since.Format(time.RFC3339))
			}
		}
		return events.HoldPlaced{Account: account, Case: caseID, Reason: reason, Command: command}, nil
	})
}

// Release releases the hold of case caseID on the account bare.
func (h Holds) Release(ctx context.Context, bare jid.JID, caseID, reason, command string, meta events.Meta) error {
	account := bare.String()
	return h.change(ctx, bare.Domainpart(), meta, func(held *projections.Holds) (events.Payload, error) {
		holds := held.On(account)
		for _, x := range holds {
			if x.Case == caseID {
				return events.HoldReleased{Account: account, Case: caseID, Reason: reason, Command: command}, nil
			}
		}
		if len(holds) == 0 {
			return nil, fmt.Errorf("release %s case %s: %w: %s is not held", account, caseID, ErrNoSuchHold, account)
		}
		return nil, fmt.Errorf("release %s case %s: %w: %s is held only by case %s", account, caseID, ErrNoSuchHold, account, projections.Cases(holds))
	})
}

// List returns the holds in force on domain's accounts, or on account
// alone if it is not empty.
func (h Holds) List(ctx context.Context, domain, account string) ([]projections.Hold, error) {
	held, err := projections.ReadHolds(ctx, h.Store, domain)
	if err != nil {
		return nil, err
	}
	if account != "" {
		return held.On(account), nil
	}
	return held.All(), nil
}

// change reads domain's holds, decides one event and appends it to the
// compliance stream at the version read.
func (h Holds) change(ctx context.Context, domain string, meta events.Meta, decide func(*projections.Holds) (events.Payload, error)) error {
	now := h.Now
	if now == nil {
		now = time.Now
	}
	stream := events.ComplianceStream(domain)
	for attempt := 1; ; attempt++ {
		held, err := projections.ReadHolds(ctx, h.Store, domain)
		if err != nil {
			return err
		}
		p, err := decide(held)
		if err != nil {
			return err
		}
		e, err := events.New(p, meta)
		if err != nil {
			return err
		}
		e.Recorded = now().UTC()
		_, err = h.Store.Append(ctx, stream, events.Exactly(held.Version(domain)), e)
		if errors.Is(err, events.ErrConflict) && attempt < maxAccountAttempts {
			continue
		}
		if err != nil {
			return fmt.Errorf("im: append to %s: %w", stream, err)
		}
		return nil
	}
}

// account reads what the log knows of the account: whether it ever
// existed, whether it was erased since it was last created, and the log
// position of that creation.
func (h Holds) account(ctx context.Context, account string) (known, erased bool, created uint64, err error) {
	for e, err := range h.Store.ReadStream(ctx, events.AccountStream(account), 1) {
		if err != nil {
			return false, false, 0, fmt.Errorf("im: read %s: %w", events.AccountStream(account), err)
		}
		switch e.Type {
		case events.TypeAccountCreated:
			known, erased, created = true, false, e.Position
		case events.TypeAccountErased:
			erased = true
		}
	}
	return known, erased, created, nil
}
