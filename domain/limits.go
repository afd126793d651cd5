package domain

import "strconv"

// Defaults of the roster quotas in DefaultPolicy.
//
// RFC 6121 gives no number. A person's roster rarely holds more than a
// few hundred contacts and a contact rarely sits in more than a handful of
// groups; xmppbench's largest rosters (compare: 1,000 items, fan-out
// hubs: 1,000 contacts) fit with room to spare. What the quotas bound is
// one account's share of the log: with names and group names of at most
// 1023 bytes, an item is at most about 34 KB, a roster at most about
// 170 MB, where without them it was unbounded.
const (
	DefaultMaxRosterItems   = 5000
	DefaultMaxGroupsPerItem = 32
)

// checkGroupCount refuses an item naming more groups than the policy
// allows. RFC 6121 2.3.3 makes a group name over a "server-configured
// limit" not-acceptable; too many groups is the same kind of refusal (the
// item "does not meet criteria defined by the server", RFC 6120 8.3.3.9),
// which the client fixes by sending fewer.
func checkGroupCount(a *Account, op string, groups []string) error {
	if max := a.Policy.MaxGroupsPerItem; max > 0 && len(groups) > max {
		return newError(op, NotAcceptable, "an item may be in at most "+strconv.Itoa(max)+" groups")
	}
	return nil
}

// checkRosterRoom refuses to create a new roster item for contact when the
// roster already holds the policy's maximum. Updating an item that exists
// is always allowed, so a full roster can still be edited and shrunk.
//
// The refusal is policy-violation (RFC 6120 8.3.3.12): the roster's size
// is a local service policy, the user fixes it by removing an item, and
// nothing changes by waiting (so not resource-constraint, type wait), and
// other items can still be added elsewhere (so not not-allowed, "does not
// allow any entity to perform the action").
//
// Only the user's own actions create items (a roster set, an outbound
// subscribe or subscribed, a pre-approval): an inbound subscription
// request creates none (RFC 6121 3.1.3, A.1 #3), so a contact can never be
// refused for the user's full roster. The request is kept as "Pending In"
// and delivered; approving it while the roster is full is refused, and
// the request stays pending, not lost, until the user makes room.
func checkRosterRoom(a *Account, op, contact string) error {
	max := a.Policy.MaxRosterItems
	if max <= 0 {
		return nil
	}
	if c, ok := a.contacts[contact]; ok && c.InRoster {
		return nil
	}
	if a.rosterLen() >= max {
		return newError(op, PolicyViolation, "the roster is full ("+strconv.Itoa(max)+" items); remove an item first")
	}
	return nil
}

// rosterLen counts the roster's items.
func (a *Account) rosterLen() int {
	n := 0
	for _, c := range a.contacts {
		if c.InRoster {
			n++
		}
	}
	return n
}
