package replay

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"xmppd/events"
)

// Change is one difference a single event made to an account's views.
type Change struct {
	Time     time.Time `json:"time"`
	Position uint64    `json:"position"`
	Account  string    `json:"account"`
	// Kind is one of: account.created, account.deleted, roster.added,
	// roster.changed, roster.removed, request.arrived, request.answered,
	// preapproval.set, preapproval.cleared, session.started,
	// session.ended, presence.online, presence.offline, presence.changed.
	Kind     string `json:"kind"`
	Contact  string `json:"contact,omitempty"`
	Resource string `json:"resource,omitempty"`
	// Before and After are the item, request or resource on each side
	// (nil where there was none).
	Before any `json:"before,omitempty"`
	After  any `json:"after,omitempty"`
	// Event, Actor and Text say which event made the change, who caused
	// it, and what changed in words.
	Event string `json:"event"`
	Actor string `json:"actor,omitempty"`
	Text  string `json:"text"`
}

// Diff replays the account bare up to from, then applies its events up to
// to one at a time, comparing the views before and after each: the
// changes, in log order.
func Diff(ctx context.Context, store events.Store, bare string, from, to Cutoff, progress Progress) ([]Change, error) {
	f := newFolder(bare, keysOf(store))
	var out []Change
	var prev *State
	for e, err := range AccountLog(ctx, store, bare, to) {
		if err != nil {
			return nil, err
		}
		if prev == nil && !from.Includes(&e) {
			s := f.state()
			prev = &s
		}
		if err := f.apply(&e); err != nil {
			return nil, err
		}
		progress.add(1)
		if prev != nil {
			next := f.state()
			out = append(out, compare(&e, causeOf(&e), *prev, next)...)
			prev = &next
		}
	}
	return out, nil
}

// DiffAll is Diff for every account the log knows, the changes merged in
// log order.
func DiffAll(ctx context.Context, store events.Store, from, to Cutoff, progress Progress) ([]Change, error) {
	accounts, err := Accounts(ctx, store)
	if err != nil {
		return nil, err
	}
	var out []Change
	for _, bare := range accounts {
		cs, err := Diff(ctx, store, bare, from, to, progress)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	slices.SortStableFunc(out, func(a, b Change) int { return cmp.Compare(a.Position, b.Position) })
	return out, nil
}

// compare lists what e changed between two states of one account.
// cause is the Appendix A input of e if e is a subscription transition.
func compare(e *events.Envelope, cause events.SubscriptionInput, a, b State) []Change {
	var out []Change
	add := func(kind, contact, resource string, before, after any, text string) {
		out = append(out, Change{Time: e.Recorded.UTC(), Position: e.Position, Account: b.JID, Kind: kind,
			Contact: contact, Resource: resource, Before: before, After: after, Event: e.Type, Actor: e.Actor, Text: text})
	}
	switch {
	case !a.Exists && b.Exists:
		add("account.created", "", "", nil, nil, "account created")
	case a.Exists && !b.Exists:
		add("account.deleted", "", "", nil, nil, "account deleted")
	}
	diffKeyed(a.Roster, b.Roster, func(i Item) string { return i.JID }, func(x, y *Item) {
		switch {
		case x == nil:
			add("roster.added", y.JID, "", nil, y, fmt.Sprintf("roster item %s added (%s)", y.JID, itemWords(*y)))
		case y == nil:
			add("roster.removed", x.JID, "", x, nil, fmt.Sprintf("roster item %s removed (was %s)", x.JID, itemWords(*x)))
		default:
			if d := itemChanges(*x, *y); d != "" {
				add("roster.changed", y.JID, "", x, y, fmt.Sprintf("roster item %s changed: %s", y.JID, d))
			}
		}
	})
	diffKeyed(a.Pending, b.Pending, func(r Request) string { return r.From }, func(x, y *Request) {
		switch {
		case x == nil:
			add("request.arrived", y.From, "", nil, y, fmt.Sprintf("subscription request from %s arrived", y.From))
		case y == nil:
			add("request.answered", x.From, "", x, nil, fmt.Sprintf("subscription request from %s (arrived %s) answered: %s",
				x.From, x.Since.Format(time.RFC3339), answer(cause)))
		}
	})
	diffKeyed(a.Preapproved, b.Preapproved, func(s string) string { return s }, func(x, y *string) {
		switch {
		case x == nil:
			add("preapproval.set", *y, "", nil, nil, fmt.Sprintf("subscription from %s pre-approved", *y))
		case y == nil:
			add("preapproval.cleared", *x, "", nil, nil, fmt.Sprintf("pre-approval of %s cleared", *x))
		}
	})
	diffKeyed(a.Resources, b.Resources, func(r Resource) string { return r.Name }, func(x, y *Resource) {
		switch {
		case x == nil:
			add("session.started", "", y.Name, nil, y, fmt.Sprintf("resource %s connected from %s (session %s)", y.Name, y.ClientAddr, y.SessionID))
			if y.Available {
				add("presence.online", "", y.Name, nil, y, fmt.Sprintf("resource %s went online (%s)", y.Name, presenceWords(*y)))
			}
		case y == nil:
			if x.Available {
				add("presence.offline", "", x.Name, x, nil, fmt.Sprintf("resource %s went offline", x.Name))
			}
			add("session.ended", "", x.Name, x, nil, fmt.Sprintf("resource %s disconnected (session %s)", x.Name, x.SessionID))
		case !x.Available && y.Available:
			add("presence.online", "", y.Name, x, y, fmt.Sprintf("resource %s went online (%s)", y.Name, presenceWords(*y)))
		case x.Available && !y.Available:
			add("presence.offline", "", y.Name, x, y, fmt.Sprintf("resource %s went offline", y.Name))
		case x.Available && presenceWords(*x) != presenceWords(*y):
			add("presence.changed", "", y.Name, x, y, fmt.Sprintf("resource %s presence changed: %s → %s", y.Name, presenceWords(*x), presenceWords(*y)))
		}
	})
	return out
}

// diffKeyed calls fn for each key in a or b (both sorted by key) whose
// element was added (x nil), removed (y nil) or is on both sides.
func diffKeyed[T any](a, b []T, key func(T) string, fn func(x, y *T)) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && key(a[i]) < key(b[j])):
			fn(&a[i], nil)
			i++
		case i == len(a) || key(b[j]) < key(a[i]):
			fn(nil, &b[j])
			j++
		default:
			fn(&a[i], &b[j])
			i, j = i+1, j+1
		}
	}
}

func itemWords(i Item) string {
	s := "subscription " + i.Subscription
	if i.Ask {
		s += ", ask subscribe"
	}
	if i.Name != "" {
		s += fmt.Sprintf(", name %q", i.Name)
	}
	if len(i.Groups) > 0 {
		s += ", groups " + strings.Join(i.Groups, ",")
	}
	return s
}

func itemChanges(x, y Item) string {
	var d []string
	switch {
	case x.Subscription != y.Subscription:
		d = append(d, fmt.Sprintf("subscription %s → %s (%s → %s)", x.Subscription, y.Subscription, x.State, y.State))
	case x.State != y.State:
		d = append(d, fmt.Sprintf("state %s → %s", x.State, y.State))
	}
	if x.Name != y.Name {
		d = append(d, fmt.Sprintf("name %q → %q", x.Name, y.Name))
	}
	if !slices.Equal(x.Groups, y.Groups) {
		d = append(d, fmt.Sprintf("groups [%s] → [%s]", strings.Join(x.Groups, ","), strings.Join(y.Groups, ",")))
	}
	if x.Approved != y.Approved {
		d = append(d, fmt.Sprintf("approved %v → %v", x.Approved, y.Approved))
	}
	return strings.Join(d, "; ")
}

func presenceWords(r Resource) string {
	show := r.Show
	if show == "" {
		show = "available"
	}
	s := fmt.Sprintf("%s, priority %d", show, r.Priority)
	if r.Status != "" {
		s += fmt.Sprintf(", status %q", r.Status)
	}
	return s
}

// answer says how a pending request ended, from the input that ended it
// (RFC 6121 3.1.4: the user approves with subscribed, refuses with
// unsubscribed; 3.1.3: the contact may withdraw it with unsubscribe).
func answer(cause events.SubscriptionInput) string {
	switch cause {
	case events.OutSubscribed:
		return "approved"
	case events.OutUnsubscribed:
		return "refused"
	case events.InUnsubscribe:
		return "withdrawn by the contact"
	}
	return "closed by " + string(cause)
}

// causeOf returns the Appendix A input of a subscription transition, or
// "" for any other event.
func causeOf(e *events.Envelope) events.SubscriptionInput {
	if e.Type != events.TypeSubscriptionChanged {
		return ""
	}
	p, err := events.Decode(e)
	if err != nil {
		return "" // the folder has already decoded it without error
	}
	if sc, ok := p.(events.SubscriptionChanged); ok {
		return sc.Cause
	}
	return ""
}
