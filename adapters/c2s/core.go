package c2s

import (
	"context"

	"xmppd/events"
)

// Credentials looks up an account's stored SCRAM keys by its username,
// already through PRECIS UsernameCaseMapped. ok is false for no account.
type Credentials interface {
	Credentials(ctx context.Context, username string) (set events.CredentialsSet, ok bool, err error)
}

// Throttle decides how an authentication attempt is answered and learns
// the outcome of each. addr is the client's IP address (no port);
// username is "" when not yet known. Check may be called twice for one
// attempt (before and after the name is known). Safe for concurrent use.
type Throttle interface {
	Check(addr, username string) ThrottleVerdict
	Record(addr, username string, ok bool)
}
