package domain_test

import (
	"slices"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

// presenceWorld: juliet has romeo (Both), nurse (From), tybalt (To) and a
// pending request from paris; her resource "chamber" is available.
func presenceWorld() (*domain.Account, *domain.PresenceView) {
	a := account(
		events.RosterItemSet{Contact: "romeo@example.net"},
		events.SubscriptionChanged{Contact: "romeo@example.net", Before: none, After: both},
		events.RosterItemSet{Contact: "nurse@example.com"},
		events.SubscriptionChanged{Contact: "nurse@example.com", Before: none, After: from},
		events.RosterItemSet{Contact: "tybalt@example.org"},
		events.SubscriptionChanged{Contact: "tybalt@example.org", Before: none, After: to},
		events.SubscriptionChanged{Contact: "paris@example.org", Cause: events.InSubscribe, Before: none, After: noneIn, Stanza: "<presence type='subscribe'/>"},
	)
	v := view(res{"chamber", true, 1}, res{"balcony", false, 0})
	return a, v
}

func TestDecideBroadcast(t *testing.T) {
	rows := []struct {
		rule    string
		prepare func(v *domain.PresenceView)
		cmd     domain.PresenceBroadcast
		events  []string
		effects []string
	}{
		{"4.2.2 initial presence: to From/Both contacts, to all own resources, own presence to the new one, probes To/Both, pending requests (3.1.3 #4)", nil,
			domain.PresenceBroadcast{Resource: "balcony", Available: true, Priority: 5, Stanza: "<presence><priority>5</priority></presence>"},
			[]string{events.TypePresenceAvailable},
			[]string{"send::nurse@example.com", "send::romeo@example.net",
				"deliver-to:balcony:juliet@example.com/balcony", "deliver-to:chamber:juliet@example.com/balcony",
				"deliver-to:balcony:juliet@example.com/chamber",
				"probe:romeo@example.net", "probe:tybalt@example.org",
				"deliver-to:balcony:paris@example.org"}},
		{"4.4.2 subsequent presence: From/Both contacts and all own resources, no probes", nil,
			domain.PresenceBroadcast{Resource: "chamber", Available: true, Show: "away", Stanza: "<presence><show>away</show></presence>"},
			[]string{events.TypePresenceAvailable},
			[]string{"send::nurse@example.com", "send::romeo@example.net", "deliver-to:chamber:juliet@example.com/chamber"}},
		{"4.5.2 unavailable: From/Both contacts and own resources including the sender", nil,
			domain.PresenceBroadcast{Resource: "chamber", Stanza: "<presence type='unavailable'/>"},
			[]string{events.TypePresenceUnavailable},
			[]string{"send:unavailable:nurse@example.com", "send:unavailable:romeo@example.net", "deliver-to:chamber:juliet@example.com/chamber"}},
		{"4.6.3 #2 unavailable also reaches entities that got directed presence", func(v *domain.PresenceView) {
			v.Apply(events.DirectedPresence{Resource: "chamber", To: "lobby@chat.example.com/juliet", Available: true}, time.Time{})
			v.Apply(events.DirectedPresence{Resource: "chamber", To: "romeo@example.net", Available: true}, time.Time{})
		}, domain.PresenceBroadcast{Resource: "chamber", Stanza: "<presence type='unavailable'/>"},
			[]string{events.TypePresenceUnavailable},
			[]string{"send:unavailable:nurse@example.com", "send:unavailable:romeo@example.net", "send:unavailable:lobby@chat.example.com/juliet", "deliver-to:chamber:juliet@example.com/chamber"}},
		{"4.6.1 directed unavailable removes the entity from the list", func(v *domain.PresenceView) {
			v.Apply(events.DirectedPresence{Resource: "chamber", To: "lobby@chat.example.com/juliet", Available: true}, time.Time{})
			v.Apply(events.DirectedPresence{Resource: "chamber", To: "lobby@chat.example.com/juliet", Available: false}, time.Time{})
		}, domain.PresenceBroadcast{Resource: "chamber", Stanza: "<presence type='unavailable'/>"},
			[]string{events.TypePresenceUnavailable},
			[]string{"send:unavailable:nurse@example.com", "send:unavailable:romeo@example.net", "deliver-to:chamber:juliet@example.com/chamber"}},
		{"4.6.3 #3 unavailable from a connected, never available resource: only its directed targets", func(v *domain.PresenceView) {
			v.Apply(events.DirectedPresence{Resource: "balcony", To: "lobby@chat.example.com/juliet", Available: true}, time.Time{})
		}, domain.PresenceBroadcast{Resource: "balcony", Stanza: "<presence type='unavailable'/>"},
			[]string{events.TypePresenceUnavailable},
			[]string{"send:unavailable:lobby@chat.example.com/juliet"}},
		{"4.5 unavailable from a resource that was never available: nothing", nil,
			domain.PresenceBroadcast{Resource: "balcony", Stanza: "<presence type='unavailable'/>"}, nil, nil},
	}
	for _, r := range rows {
		t.Run(r.rule, func(t *testing.T) {
			a, v := presenceWorld()
			if r.prepare != nil {
				r.prepare(v)
			}
			before := v.Connected()
			d, err := domain.DecideBroadcast(a, v, r.cmd)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(before, v.Connected(), func(x, y domain.Resource) bool {
				return x.Name == y.Name && x.Available == y.Available && slices.Equal(x.Directed, y.Directed)
			}) {
				t.Fatal("decision mutated the view")
			}
			if got := eventTypes(d.Events); !slices.Equal(got, r.events) {
				t.Errorf("events %v, want %v", got, r.events)
			}
			if got := effectKinds(d.Effects); !slices.Equal(got, r.effects) {
				t.Errorf("effects %v\nwant    %v", got, r.effects)
			}
			for _, e := range d.Effects {
				if sp, ok := e.(domain.SendPresence); ok && sp.Stanza != r.cmd.Stanza {
					t.Errorf("4.4.2/4.5.2: the full XML is broadcast, got %q", sp.Stanza)
				}
			}
		})
	}
}

func TestDecideSessionEnd(t *testing.T) {
	a, v := presenceWorld()
	end := events.SessionEnded{Resource: "chamber", Cause: events.EndConnectionLost, Detail: "read: connection reset by peer"}
	d := domain.DecideSessionEnd(a, v, end)
	if got := eventTypes(d.Events); !slices.Equal(got, []string{events.TypePresenceUnavailable, events.TypeSessionEnded}) {
		t.Fatalf("events %v", got)
	}
	if got := d.Events[1]; got != end {
		t.Errorf("recorded %+v, want %+v", got, end)
	}
	// 4.5.2: ungraceful end -> the server generates the broadcast; the
	// ended resource itself gets nothing.
	want := []string{"send:unavailable:nurse@example.com", "send:unavailable:romeo@example.net"}
	if got := effectKinds(d.Effects); !slices.Equal(got, want) {
		t.Fatalf("effects %v, want %v", got, want)
	}
	for _, e := range d.Events {
		v.Apply(e, time.Time{})
	}
	if _, ok := v.Resource("chamber"); ok || len(v.Available()) != 0 {
		t.Fatal("session end did not remove the resource")
	}
}

func TestDecideDirected(t *testing.T) {
	a, v := presenceWorld()
	lobby := jid.MustParse("lobby@chat.example.com/juliet")
	d, err := domain.DecideDirected(a, v, domain.DirectedPresence{Resource: "chamber", To: lobby, Available: true, Stanza: "<presence to='lobby@chat.example.com/juliet'/>"})
	if err != nil {
		t.Fatal(err)
	}
	if got := effectKinds(d.Effects); !slices.Equal(got, []string{"send::lobby@chat.example.com/juliet"}) {
		t.Fatalf("4.6.3 #2 route the full XML: %v", got)
	}
	for _, e := range d.Events {
		v.Apply(e, time.Time{})
	}
	if got := v.SentDirectedTo(lobby); !slices.Equal(got, []string{"chamber"}) {
		t.Fatalf("4.6.1 directed list: %v", got)
	}
	// 4.6.3 #2: not added to subsequent available broadcasts.
	d, _ = domain.DecideBroadcast(a, v, domain.PresenceBroadcast{Resource: "chamber", Available: true})
	for _, k := range effectKinds(d.Effects) {
		if k == "send::lobby@chat.example.com/juliet" {
			t.Fatal("4.6.3 #2: directed target got a subsequent broadcast")
		}
	}
}

func TestDecideProbe(t *testing.T) {
	lastOff := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	rows := []struct {
		rule    string
		online  bool
		from    string
		to      string
		effects []string
		stanza  bool // answers carry a stored stanza (full XML)
	}{
		{"4.3.2 #4 subscriber (Both), available: full XML of each available resource", true, "romeo@example.net", "juliet@example.com", []string{"send::romeo@example.net"}, true},
		{"4.3.2 #4 subscriber (From) from a full JID", true, "nurse@example.com/x", "juliet@example.com", []string{"send::nurse@example.com/x"}, true},
		{"4.3.2 #3 subscriber, no available resource: unavailable from the bare JID", false, "romeo@example.net", "juliet@example.com", []string{"send:unavailable:romeo@example.net"}, false},
		{"4.3.2 #1 user subscribed to contact only (To): unsubscribed, no presence", true, "tybalt@example.org", "juliet@example.com", []string{"send:unsubscribed:tybalt@example.org"}, false},
		{"4.3.2 #1 pending request only: unsubscribed", true, "paris@example.org", "juliet@example.com", []string{"send:unsubscribed:paris@example.org"}, false},
		{"4.3.2 #1 stranger: unsubscribed, no presence leak", true, "mallory@evil.example", "juliet@example.com", []string{"send:unsubscribed:mallory@evil.example"}, false},
		{"4.3.2 full JID probe, subscriber: mere availability of that resource only", true, "romeo@example.net", "juliet@example.com/chamber", []string{"send::romeo@example.net"}, false},
		{"4.3.2 full JID probe, subscriber, resource not available: unavailable", true, "romeo@example.net", "juliet@example.com/balcony", []string{"send:unavailable:romeo@example.net"}, false},
		{"4.3.2 full JID probe, stranger: unsubscribed", true, "mallory@evil.example", "juliet@example.com/chamber", []string{"send:unsubscribed:mallory@evil.example"}, false},
		{"4.6.6 probe from an entity that got directed presence: mere presence of that resource", true, "lobby@chat.example.com/juliet", "juliet@example.com/chamber", []string{"send::lobby@chat.example.com/juliet"}, false},
		{"4.2.2 own resource probing: implicitly subscribed", true, "juliet@example.com/balcony", "juliet@example.com", []string{"send::juliet@example.com/balcony"}, true},
	}
	for _, r := range rows {
		t.Run(r.rule, func(t *testing.T) {
			a, v := presenceWorld()
			v.Apply(events.DirectedPresence{Resource: "chamber", To: "lobby@chat.example.com/juliet", Available: true}, time.Time{})
			if !r.online {
				v.Apply(events.PresenceUnavailable{Resource: "chamber", Stanza: "<presence type='unavailable'><status>bye</status></presence>"}, lastOff)
			}
			d := domain.DecideProbe(a, v, domain.Probe{From: jid.MustParse(r.from), To: jid.MustParse(r.to), ID: "probe1"})
			if len(d.Events) != 0 {
				t.Fatalf("4.3.2 #1: a probe records nothing, got %v", eventTypes(d.Events))
			}
			if got := effectKinds(d.Effects); !slices.Equal(got, r.effects) {
				t.Fatalf("effects %v, want %v", got, r.effects)
			}
			sp := d.Effects[0].(domain.SendPresence)
			if (sp.Stanza != "") != r.stanza {
				t.Errorf("stanza %q", sp.Stanza)
			}
			switch sp.Type {
			case "unsubscribed":
				if !sp.From.Equal(juliet) || sp.ID != "probe1" {
					t.Errorf("4.3.2 #1: from the bare JID, id mirrored (4.3.2.1): %+v", sp)
				}
			case "unavailable":
				if r.to == "juliet@example.com" && (!sp.From.Equal(juliet) || !sp.Delay.Equal(lastOff) || sp.Stanza != "") {
					t.Errorf("4.3.2 #3: bare JID, delay stamp, no details: %+v", sp)
				}
			}
		})
	}
}
