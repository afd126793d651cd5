package domain_test

import (
	"reflect"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

var (
	juliet  = jid.MustParse("juliet@example.com")
	balcony = jid.MustParse("juliet@example.com/balcony")
	romeo   = jid.MustParse("romeo@example.net")
	nurse   = jid.MustParse("nurse@example.com")
)

// account returns juliet's account after AccountCreated and evs.
func account(evs ...events.Payload) *domain.Account {
	a := domain.NewAccount(juliet, domain.DefaultPolicy())
	a.Apply(events.AccountCreated{JID: juliet.String()})
	for _, e := range evs {
		a.Apply(e)
	}
	return a
}

// withContact returns an account whose roster holds contact in state s
// (built through events, as replay would).
func withContact(contact jid.JID, s events.SubscriptionState, inRoster bool) *domain.Account {
	var evs []events.Payload
	if inRoster {
		evs = append(evs, events.RosterItemSet{Contact: contact.String()})
	}
	if s != events.StateNone {
		evs = append(evs, events.SubscriptionChanged{Contact: contact.String(), Cause: events.InSubscribe, Before: events.StateNone, After: s, Stanza: "<presence type='subscribe'/>"})
	}
	return account(evs...)
}

// apply folds a decision's events into a and returns a.
func apply(a *domain.Account, d domain.Decision) *domain.Account {
	for _, e := range d.Events {
		a.Apply(e)
	}
	return a
}

// snapshot captures everything observable about an account, to prove a
// decision did not mutate it.
func snapshot(a *domain.Account) any {
	return struct {
		V uint64
		R []domain.Contact
		P []domain.Contact
	}{a.Version, a.Roster(), a.PendingRequests()}
}

func mustNotMutate(t *testing.T, a *domain.Account, decide func()) {
	t.Helper()
	before := snapshot(a)
	decide()
	if after := snapshot(a); !reflect.DeepEqual(before, after) {
		t.Fatalf("decision mutated the account:\n%+v\n%+v", before, after)
	}
}

func eventTypes(evs []events.Payload) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.EventType())
	}
	return out
}

// effectKinds renders effects compactly, for comparing sequences:
// "push:<jid>:<subscription>", "send:<type>:<to>", "deliver:<type>",
// "current:<to>", "unavailable:<to>", "probe:<to>".
func effectKinds(effs []domain.Effect) []string {
	var out []string
	for _, e := range effs {
		switch e := e.(type) {
		case domain.RosterPush:
			out = append(out, "push:"+e.Item.JID+":"+e.Item.Subscription)
		case domain.SendPresence:
			out = append(out, "send:"+e.Type+":"+e.To.String())
		case domain.DeliverToUser:
			out = append(out, "deliver:"+e.Type)
		case domain.DeliverToResource:
			out = append(out, "deliver-to:"+e.Resource+":"+e.From.String())
		case domain.SendCurrentPresenceTo:
			out = append(out, "current:"+e.Contact.String())
		case domain.SendUnavailableTo:
			out = append(out, "unavailable:"+e.Contact.String())
		case domain.SendProbe:
			out = append(out, "probe:"+e.Contact.String())
		default:
			out = append(out, "?")
		}
	}
	return out
}
