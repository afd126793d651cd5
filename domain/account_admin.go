package domain

import "xmppd/events"

// The account rules: an account is created once, and only an account
// that exists has its password changed or is deleted. They are decided
// here for every way in (`xmppd user` today; in-band registration,
// XEP-0077, later), against the account's state folded from its stream.

// CreateAccount decides the creation of account a with the credentials
// creds: refused with Conflict if it exists.
func CreateAccount(a *Account, creds events.CredentialsSet) ([]events.Payload, error) {
	if a.Exists {
		return nil, newError("create account", Conflict, "account "+a.JID.String()+" already exists")
	}
	return []events.Payload{events.AccountCreated{JID: a.JID.String()}, creds}, nil
}

// SetPassword decides a change of a's credentials: refused with
// ItemNotFound if the account does not exist (the administrator may know
// that).
func SetPassword(a *Account, creds events.CredentialsSet) ([]events.Payload, error) {
	if !a.Exists {
		return nil, newError("set password", ItemNotFound, "no account "+a.JID.String())
	}
	return []events.Payload{creds}, nil
}

// DeleteAccount decides the deletion of a, for reason: refused with
// ItemNotFound if it does not exist. The deletion clears the roster
// (Account.Apply); the core then ends the account's sessions.
func DeleteAccount(a *Account, reason string) ([]events.Payload, error) {
	if !a.Exists {
		return nil, newError("delete account", ItemNotFound, "no account "+a.JID.String())
	}
	return []events.Payload{events.AccountDeleted{JID: a.JID.String(), Reason: reason}}, nil
}

// ExistsAfter is whether an account exists after the event p of its
// stream, given whether it existed before: the one statement of that
// rule, folded by the Account aggregate and by the read model logins use
// (projections.Account).
func ExistsAfter(p events.Payload, existed bool) bool {
	switch p.(type) {
	case events.AccountCreated:
		return true
	case events.AccountDeleted:
		return false
	}
	return existed
}
