package replay

import (
	"context"
	"fmt"
	"strings"

	"xmppd/domain"
	"xmppd/events"
)

// Explanation is the chain of transitions that produced the user's
// subscription state toward a contact at some moment.
type Explanation struct {
	User    string `json:"user"`
	Contact string `json:"contact"`
	At      string `json:"at"`
	// State is the user's Appendix A state toward the contact at that
	// moment; Subscription its roster form (none, to, from, both).
	State        string `json:"state"`
	Subscription string `json:"subscription"`
	Steps        []Step `json:"steps"`
}

// Step is one event of the user's stream about the contact, joined with
// the contact's side of the same subscription stanza when the log holds it.
type Step struct {
	Entry
	// Other is the contact's record of the same stanza: the contact's
	// stream event caused by this one, or that caused it (matched by
	// causation id, then by correlation id and mirrored input).
	Other *Entry `json:"other,omitempty"`
	// Story is the step in plain words.
	Story string `json:"story"`
}

// Explain joins the account streams of user and contact up to c and tells
// how user's subscription state toward contact came about, one step per
// Appendix A input (RFC 6121 3.1-3.4, Appendix A). Only the two accounts'
// own streams are read.
func Explain(ctx context.Context, store events.Store, user, contact string, c Cutoff, progress Progress) (Explanation, error) {
	x := Explanation{User: user, Contact: contact, At: c.String(), State: string(events.StateNone), Subscription: "none", Steps: []Step{}}
	theirs, err := subscriptionEntries(ctx, store, contact, user, c, progress)
	if err != nil {
		return x, err
	}
	mine, err := subscriptionEntries(ctx, store, user, contact, c, progress)
	if err != nil {
		return x, err
	}
	var lastOut, lastIn *Step // the latest subscribe each way: what an approval answers
	for _, en := range mine {
		st := Step{Entry: en, Other: counterpart(en, theirs)}
		in := events.SubscriptionInput(en.Cause)
		switch in {
		case events.OutSubscribe:
			lastOut = &st
		case events.InSubscribe:
			lastIn = &st
		}
		st.Story = story(user, contact, st, lastOut, lastIn)
		if en.Type == events.TypeSubscriptionChanged {
			x.State = en.After
		}
		x.Steps = append(x.Steps, st)
	}
	x.Subscription = domain.SubscriptionAttr(events.SubscriptionState(x.State))
	return x, nil
}

// subscriptionEntries returns the subscription events of account's
// stream that concern other, up to c.
func subscriptionEntries(ctx context.Context, store events.Store, account, other string, c Cutoff, progress Progress) ([]Entry, error) {
	var out []Entry
	for e, err := range store.ReadStream(ctx, events.AccountStream(account), 1) {
		if err != nil {
			return nil, fmt.Errorf("replay: read %s: %w", events.AccountStream(account), err)
		}
		if !c.Includes(&e) {
			break
		}
		progress.add(1)
		if categoryOf(e.Type) != "subscription" {
			continue
		}
		en, err := entryOf(&e, "subscription", keysOf(store))
		if err != nil {
			return nil, err
		}
		if en.Contact == other {
			out = append(out, en)
		}
	}
	return out, nil
}

// counterpart finds the other side of the stanza en records: the contact's
// side of an input carries the sender's correlation id and names the
// sender's event as its cause (im records it so, and its
// redelivery after a crash matches the two sides the same way).
func counterpart(en Entry, theirs []Entry) *Entry {
	want := mirror(events.SubscriptionInput(en.Cause))
	for i := range theirs {
		o := &theirs[i]
		if o.CausationID == en.EventID || en.CausationID == o.EventID {
			return o
		}
	}
	for i := range theirs {
		o := &theirs[i]
		if en.CorrelationID != "" && o.CorrelationID == en.CorrelationID && events.SubscriptionInput(o.Cause) == want {
			return o
		}
	}
	return nil
}

// mirror is the input the other side records for the same stanza.
func mirror(in events.SubscriptionInput) events.SubscriptionInput {
	s := string(in)
	switch {
	case strings.HasPrefix(s, "outbound_"):
		return events.SubscriptionInput("inbound_" + strings.TrimPrefix(s, "outbound_"))
	case strings.HasPrefix(s, "inbound_"):
		return events.SubscriptionInput("outbound_" + strings.TrimPrefix(s, "inbound_"))
	}
	return in
}

// story tells one step in words: who did what from where, what it
// answered, and the state it left.
func story(user, contact string, st Step, lastOut, lastIn *Step) string {
	when := st.Time.Format("2006-01-02 15:04:05")
	who := provenance(st.Entry)
	in := events.SubscriptionInput(st.Cause)
	// The party an input names as acting: the user for an outbound input,
	// the contact for an inbound one. When the recorded actor is someone
	// else, the stanza was the server's own auto-reply on the party's
	// behalf (RFC 6121 A.3.1 [2], A.3.2 [1]: "subscribed" to a request
	// already approved, "unsubscribed" to an unsubscribe), and the actor
	// is whoever sent the stanza it answered.
	party := contact
	if domain.IsOutbound(in) {
		party = user
	}
	if st.Cause != "" && bareOf(st.Actor) != party && strings.Contains(st.Actor, "@") {
		who = fmt.Sprintf("%s's server (answering %s)", party, who)
	}
	var what string
	switch {
	case st.Type == events.TypePreapprovalSet:
		what = fmt.Sprintf("%s pre-approved %s's subscription (RFC 6121 3.4)", who, contact)
	case st.Type == events.TypePreapprovalCleared:
		what = fmt.Sprintf("%s: %s", who, st.Text)
	case in == events.OutSubscribe:
		what = fmt.Sprintf("%s asked to see %s's presence (subscribe, 3.1.1)", who, contact)
	case in == events.InSubscribe:
		what = fmt.Sprintf("%s asked to see %s's presence (subscribe, 3.1.3)", who, user)
	case in == events.InSubscribed:
		what = fmt.Sprintf("%s approved %s's request%s (subscribed, 3.1.6)", who, user, requestWords(lastOut, st))
	case in == events.OutSubscribed:
		what = fmt.Sprintf("%s approved %s's request%s (subscribed, 3.1.5)", who, contact, requestWords(lastIn, st))
	case in == events.OutUnsubscribe:
		what = fmt.Sprintf("%s stopped seeing %s's presence (unsubscribe, 3.3)", who, contact)
	case in == events.InUnsubscribe:
		what = fmt.Sprintf("%s stopped seeing %s's presence (unsubscribe, 3.3)", who, user)
	case in == events.OutUnsubscribed:
		what = fmt.Sprintf("%s cancelled or refused %s's subscription to %s (unsubscribed, 3.2)", who, contact, user)
	case in == events.InUnsubscribed:
		what = fmt.Sprintf("%s cancelled or refused %s's subscription to %s (unsubscribed, 3.2)", who, user, contact)
	default:
		what = fmt.Sprintf("%s: %s", who, st.Text)
	}
	switch st.Type {
	case events.TypeSubscriptionChanged:
		what += fmt.Sprintf(": %s's state toward %s went %s → %s", user, contact, st.Before, st.After)
	case events.TypeSubscriptionIgnored:
		what += fmt.Sprintf(": changed nothing, %s stayed %s (Appendix A)", user, st.Before)
	}
	if st.Other != nil {
		what += fmt.Sprintf(" [%s's side: %s version %d, %s → %s]", contact, st.Other.Stream, st.Other.Version, st.Other.Before, st.Other.After)
	}
	return when + " " + what
}

// requestWords names the request an approval answered.
func requestWords(req *Step, approval Step) string {
	if req == nil || req.Time.After(approval.Time) {
		return ""
	}
	return fmt.Sprintf(" sent at %s from %s", req.Time.Format("2006-01-02 15:04:05"), provenance(req.Entry))
}

// provenance is "actor (session S, addr A)", leaving out what is unknown.
func provenance(en Entry) string {
	var parts []string
	if en.SessionID != "" {
		parts = append(parts, "session "+en.SessionID)
	}
	if en.ClientAddr != "" {
		parts = append(parts, en.ClientAddr)
	}
	actor := en.Actor
	if actor == "" {
		actor = "an unknown actor"
	}
	if len(parts) == 0 {
		return actor
	}
	return actor + " (" + strings.Join(parts, ", ") + ")"
}
