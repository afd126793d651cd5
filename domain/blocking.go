package domain

import (
	"slices"

	"mellium.im/xmpp/jid"

	"xmppd/events"
)

// Blocking (XEP-0191): the account's block list is folded from
// blocking.blocked and blocking.unblocked in its stream; the rules here
// say what a block list item matches and what a block or unblock does.

// BlockList returns the account's blocked JIDs, in the order blocked.
func (a *Account) BlockList() []string { return slices.Clone(a.blocked) }

// applyBlocking folds a block list event; it reports whether p was one.
func (a *Account) applyBlocking(p events.Payload) bool {
	switch e := p.(type) {
	case events.BlockingBlocked:
		for _, j := range e.JIDs {
			if !slices.Contains(a.blocked, j) {
				a.blocked = append(a.blocked, j)
			}
		}
	case events.BlockingUnblocked:
		if e.All {
			a.blocked = nil
			break
		}
		a.blocked = slices.DeleteFunc(a.blocked, func(j string) bool { return slices.Contains(e.JIDs, j) })
	case events.AccountDeleted:
		a.blocked = nil
		return false // the roster rules fold it too
	default:
		return false
	}
	return true
}

// BlockMatches reports whether the block list item matches addr, with
// XEP-0016 section 2.1's JID rules that XEP-0191 section 3 builds on: an
// item <user@domain/resource> matches that full JID only; <user@domain>
// any resource of the bare JID; <domain/resource> that resource of the
// domain; <domain> the domain and every JID at it.
func BlockMatches(item string, addr jid.JID) bool {
	if item == "" || addr.Equal(jid.JID{}) {
		return false
	}
	if item == addr.String() || item == addr.Bare().String() || item == addr.Domainpart() {
		return true
	}
	if res := addr.Resourcepart(); res != "" && item == addr.Domainpart()+"/"+res {
		return true
	}
	return false
}

// Blocks reports whether the account's block list blocks addr.
func (a *Account) Blocks(addr jid.JID) bool {
	for _, it := range a.blocked {
		if BlockMatches(it, addr) {
			return true
		}
	}
	return false
}

// BlockingPush is an XEP-0191 push (3.3, 3.4, 3.5) to every resource of
// the account that has requested the block list: Block or unblock of
// JIDs, or unblock of every JID (All, with no JIDs).
type BlockingPush struct {
	Block bool
	JIDs  []string
	All   bool
}

func (BlockingPush) isEffect() {}

// normalBlockItems parses the 'jid' attributes of a block or unblock
// command into normalised JID strings, in order, without duplicates.
func normalBlockItems(op string, items []string) ([]string, error) {
	var out []string
	for _, s := range items {
		j, err := jid.Parse(s)
		if err != nil {
			return nil, &Error{Op: op, Kind: JIDMalformed, Reason: "item jid is not a JID", Err: err}
		}
		if n := j.String(); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// DecideBlock decides a block command (XEP-0191 3.3): at least one item
// (else bad-request), each a JID (else jid-malformed). The newly blocked
// JIDs are one blocking.blocked event; the push names every item of the
// command; and each available resource sends unavailable presence to every
// contact the account shares presence with that a new item matches ("MUST
// send unavailable presence information to the JID (but only if the JID
// is allowed to receive presence notifications from the user)").
func DecideBlock(a *Account, v *PresenceView, items []string) (Decision, error) {
	const op = "block"
	if len(items) == 0 {
		return Decision{}, newError(op, BadRequest, "a block needs at least one item")
	}
	jids, err := normalBlockItems(op, items)
	if err != nil {
		return Decision{}, err
	}
	var d Decision
	var added []string
	for _, j := range jids {
		if !slices.Contains(a.blocked, j) {
			added = append(added, j)
		}
	}
	if len(added) > 0 {
		d.Events = append(d.Events, events.BlockingBlocked{JIDs: added})
	}
	d.add(BlockingPush{Block: true, JIDs: jids})
	d.Effects = append(d.Effects, presenceTo(a, v, added, "unavailable")...)
	return d, nil
}

// DecideUnblock decides an unblock command: the items (3.4) or, with none,
// every blocked JID (3.5). Each available resource sends its current
// presence to the contacts allowed to see it that the removed items
// matched ("MUST send the user's current presence information to the
// JID").
func DecideUnblock(a *Account, v *PresenceView, items []string) (Decision, error) {
	const op = "unblock"
	var d Decision
	if len(items) == 0 {
		removed := slices.Clone(a.blocked)
		if len(removed) > 0 {
			d.Events = append(d.Events, events.BlockingUnblocked{All: true})
		}
		d.add(BlockingPush{All: true})
		d.Effects = append(d.Effects, presenceTo(a, v, removed, "")...)
		return d, nil
	}
	jids, err := normalBlockItems(op, items)
	if err != nil {
		return Decision{}, err
	}
	var removed []string
	for _, j := range jids {
		if slices.Contains(a.blocked, j) {
			removed = append(removed, j)
		}
	}
	if len(removed) > 0 {
		d.Events = append(d.Events, events.BlockingUnblocked{JIDs: removed})
	}
	d.add(BlockingPush{JIDs: jids})
	d.Effects = append(d.Effects, presenceTo(a, v, removed, "")...)
	return d, nil
}

// presenceTo sends, from each available resource, presence of type typ
// ("unavailable", or "" for the resource's current presence) to every
// contact with a subscription "from" or "both" that one of items matches.
// After an unblock, a contact still blocked by another item gets nothing.
func presenceTo(a *Account, v *PresenceView, items []string, typ string) []Effect {
	if len(items) == 0 || v == nil {
		return nil
	}
	var out []Effect
	for _, r := range v.Available() {
		from := fullJID(a.JID, r.Name)
		a.eachContact(func(c *Contact) bool { return HasFrom(c.Subscription) }, func(_ *Contact, to jid.JID) {
			if !slices.ContainsFunc(items, func(it string) bool { return BlockMatches(it, to) }) {
				return
			}
			if typ == "" {
				if stillBlocked(a, items, to) {
					return
				}
				out = append(out, SendPresence{From: from, To: to, Stanza: r.Stanza})
				return
			}
			out = append(out, SendPresence{From: from, To: to, Type: typ})
		})
	}
	return out
}

// stillBlocked reports whether an item other than those being removed
// still blocks to.
func stillBlocked(a *Account, removed []string, to jid.JID) bool {
	for _, it := range a.blocked {
		if !slices.Contains(removed, it) && BlockMatches(it, to) {
			return true
		}
	}
	return false
}

// BlockedOutbound refuses a stanza from the account to a blocked address
// (XEP-0191 3.3: "MUST return a <not-acceptable/> error containing an
// application-specific error condition of <blocked/>"); the adapter adds
// the <blocked/> condition for ErrBlocked.
func BlockedOutbound(a *Account, to jid.JID) error {
	if a.Blocks(to) {
		return ErrBlocked
	}
	return nil
}

// ErrBlocked is the refusal of an outbound stanza to a blocked JID.
var ErrBlocked = newError("outbound stanza", NotAcceptable, "the recipient is blocked")
