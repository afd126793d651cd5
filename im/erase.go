package im

import (
	"context"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
)

// KeyDestroyer destroys every key of an account, for good, and returns
// the periods of the keys it destroyed (adapters/keystore).
type KeyDestroyer interface {
	Destroy(account, why string) (periods []string, err error)
}

// Erase erases the account bare (GDPR article 17, issue 13): it destroys
// every key of the account, so that the personal content sealed under
// them (vCard, private XML, PEP items, presence text, archived and
// offline messages) is unreadable in
// the log and in every copy of it, then records account.erased, which
// holds no personal data, and account.deleted, which removes the
// credentials, together. The account must exist.
//
// The keys go first: if the append then fails, the content is already
// unreadable, and running Erase again records the erasure (the account
// still exists). Events written before sealing existed (schema 1) stay
// in clear: no key covers them.
//
// An account under legal hold is not erased: Erase returns a *HeldError
// naming the cases (GDPR art. 17(3)(e): erasure does not apply where the
// data is needed for legal claims).
func (u Accounts) Erase(ctx context.Context, bare jid.JID, keys KeyDestroyer, meta events.Meta) (destroyed []string, err error) {
	err = u.change(ctx, bare, meta, func(a *domain.Account) ([]events.Payload, error) {
		del, err := domain.DeleteAccount(a, "erased on request (GDPR art. 17)")
		if err != nil {
			return nil, err
		}
		// The holds are checked, and erasure.begun recorded, in one
		// append at the compliance stream's version read: a hold placed
		// meanwhile makes it conflict and be checked again, and a hold
		// placed after it is refused (Holds.Place), so no key of a held
		// account is ever destroyed.
		err = Holds{Store: u.Store}.change(ctx, bare.Domainpart(), meta, func(held *projections.Holds) (events.Payload, error) {
			if holds := held.On(bare.String()); len(holds) > 0 {
				return nil, &HeldError{Account: bare.String(), Holds: holds}
			}
			return events.ErasureBegun{Account: bare.String()}, nil
		})
		if err != nil {
			return nil, err
		}
		periods, err := keys.Destroy(bare.String(), events.GoneErased)
		if err != nil {
			return nil, err
		}
		destroyed = append(destroyed, periods...)
		return append([]events.Payload{events.AccountErased{Keys: len(destroyed), Periods: destroyed}}, del...), nil
	})
	return destroyed, err
}
