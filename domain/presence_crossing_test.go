package domain_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

// crossStep is one thing that happens to the hub (juliet, whose roster
// gives romeo "Both") or the contact (romeo), at a log position where it
// records an event.
type crossStep struct {
	kind string // "hub" (juliet/chamber's presence recorded), "contact" (romeo's resource available), "route" (the hub's broadcast routed to romeo), "probe" (romeo's probe answered)
	pos  uint64 // log position of the event ("hub", "contact")
	name string // romeo's resource ("contact"); the probe's from ("probe", default romeo's bare JID)
	// unknown makes the probe's prober position unknown (a remote prober).
	unknown bool
}

const hubStanza = "<presence><status>hub</status></presence>"

// crossWorld plays steps and counts, for each resource of romeo, how
// often it was given the hub's current presence stanza: by the broadcast
// (routed as Route decides with BroadcastAt) or by a probe answer
// (DecideProbe, the answer routed to romeo's bare JID as 8.5.2.1.2 says).
func crossWorld(t *testing.T, steps []crossStep) (got map[string]int, answered []bool) {
	t.Helper()
	a, _ := presenceWorld()
	hub := domain.NewPresenceView()
	contact := domain.NewPresenceView()
	got = map[string]int{}
	var hubAt uint64
	deliver := func(in domain.RouteInput) {
		d := domain.Route(in, contact)
		for _, r := range d.Resources {
			got[r]++
		}
	}
	for _, s := range steps {
		switch s.kind {
		case "hub":
			hub.ApplyAt(events.SessionStarted{Resource: "chamber"}, time.Time{}, s.pos-1)
			hub.ApplyAt(events.PresenceAvailable{Resource: "chamber", Stanza: hubStanza}, time.Time{}, s.pos)
			hubAt = s.pos
		case "contact":
			contact.ApplyAt(events.SessionStarted{Resource: s.name}, time.Time{}, s.pos-1)
			contact.ApplyAt(events.PresenceAvailable{Resource: s.name, Stanza: "<presence/>"}, time.Time{}, s.pos)
		case "route":
			// DecideBroadcast marks the copy for romeo; the adapter routes it
			// with the position of the event that recorded it.
			d, err := domain.DecideBroadcast(a, domain.NewPresenceView(), domain.PresenceBroadcast{Resource: "chamber", Available: true, Stanza: hubStanza})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(d.Effects, func(e domain.Effect) bool {
				sp, ok := e.(domain.SendPresence)
				return ok && sp.To.Equal(romeo) && sp.Broadcast
			}) {
				t.Fatalf("4.2.2: no broadcast copy marked for romeo in %v", effectKinds(d.Effects))
			}
			deliver(domain.RouteInput{Kind: domain.Presence, To: romeo, AccountExists: true, BroadcastAt: hubAt})
		case "probe":
			from := romeo
			if s.name != "" {
				from = jid.MustParse(s.name)
			}
			p := domain.Probe{From: from, To: juliet}
			if !s.unknown {
				p.ProberAvailableAt = contact.LatestAvailableAt()
			}
			d := domain.DecideProbe(a, hub, p)
			n := 0
			for _, e := range d.Effects {
				if sp := e.(domain.SendPresence); sp.Stanza == hubStanza {
					n++
					deliver(domain.RouteInput{Kind: domain.Presence, To: sp.To, AccountExists: true})
				}
			}
			answered = append(answered, n > 0)
		}
	}
	return got, answered
}

// TestProbeCrossingInitialPresence: RFC 6121 4.2.2 has the hub's initial
// presence broadcast to romeo (subscription Both) while romeo's initial
// presence has his server probe the hub (4.3.1) and 4.3.2 #4 answer it
// with the hub's current presence. Whatever order the two meet in, each
// resource of romeo is given the hub's presence once: by the broadcast if
// it became available before the broadcast was recorded, by the probe's
// answer otherwise.
func TestProbeCrossingInitialPresence(t *testing.T) {
	rows := []struct {
		name     string
		steps    []crossStep
		want     map[string]int
		answered []bool
	}{
		{"crossed: romeo available (10) before the hub's broadcast (12); the probe waited behind it and is not answered again",
			[]crossStep{{kind: "contact", pos: 10, name: "orchard"}, {kind: "hub", pos: 12}, {kind: "route"}, {kind: "probe"}},
			map[string]int{"orchard": 1}, []bool{false}},
		{"crossed the other way: the broadcast (10) was routed after romeo became available (12); the probe answers it",
			[]crossStep{{kind: "hub", pos: 10}, {kind: "contact", pos: 12, name: "orchard"}, {kind: "route"}, {kind: "probe"}},
			map[string]int{"orchard": 1}, []bool{true}},
		{"not crossed: the broadcast reached nobody, romeo logs in later and his probe is answered (4.3.2 #4)",
			[]crossStep{{kind: "hub", pos: 10}, {kind: "route"}, {kind: "contact", pos: 20, name: "orchard"}, {kind: "probe"}},
			map[string]int{"orchard": 1}, []bool{true}},
		{"not crossed: the probe came before the hub was available, the broadcast after",
			[]crossStep{{kind: "contact", pos: 10, name: "orchard"}, {kind: "probe"}, {kind: "hub", pos: 12}, {kind: "route"}},
			map[string]int{"orchard": 1}, []bool{false}},
		{"a second resource of romeo (20) after the broadcast (15): its probe is answered; the first had the broadcast",
			[]crossStep{{kind: "contact", pos: 10, name: "orchard"}, {kind: "hub", pos: 15}, {kind: "route"}, {kind: "contact", pos: 20, name: "garden"}, {kind: "probe"}},
			// The answer goes to romeo's bare JID, so to every available
			// resource (8.5.2.1.2): orchard hears it a second time, as before.
			map[string]int{"orchard": 2, "garden": 1}, []bool{true}},
		{"a client's probe from a full JID asks for an answer and gets one, crossed or not",
			[]crossStep{{kind: "contact", pos: 10, name: "orchard"}, {kind: "hub", pos: 12}, {kind: "route"}, {kind: "probe", name: "romeo@example.net/orchard"}},
			map[string]int{"orchard": 2}, []bool{true}},
		{"a prober whose resources' positions are unknown (not local) is answered",
			[]crossStep{{kind: "contact", pos: 10, name: "orchard"}, {kind: "hub", pos: 12}, {kind: "route"}, {kind: "probe", unknown: true}},
			map[string]int{"orchard": 2}, []bool{true}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			got, answered := crossWorld(t, r.steps)
			if fmt.Sprint(got) != fmt.Sprint(r.want) {
				t.Errorf("the hub's presence given to romeo's resources %v, want %v", got, r.want)
			}
			if !slices.Equal(answered, r.answered) {
				t.Errorf("probe answered with the hub's presence %v, want %v", answered, r.answered)
			}
		})
	}
}

// TestProbeCrossingSubsequentPresence: a presence change (4.4.2) recorded
// after romeo became available crosses his probe the same way: the answer
// would repeat the broadcast, so it is not sent; the older stanza is not
// sent either, since the probe answers with current presence only.
func TestProbeCrossingSubsequentPresence(t *testing.T) {
	got, answered := crossWorld(t, []crossStep{
		{kind: "hub", pos: 5}, {kind: "contact", pos: 10, name: "orchard"}, {kind: "hub", pos: 12}, {kind: "route"}, {kind: "probe"},
	})
	if got["orchard"] != 1 || !slices.Equal(answered, []bool{false}) {
		t.Fatalf("orchard given the hub's presence %d times, probe answered %v; want once, not answered", got["orchard"], answered)
	}
}

// TestLatestAvailableAt: the position every available resource became
// available by, and 0 when one was folded without positions.
func TestLatestAvailableAt(t *testing.T) {
	v := domain.NewPresenceView()
	v.ApplyAt(events.SessionStarted{Resource: "a"}, time.Time{}, 1)
	v.ApplyAt(events.PresenceAvailable{Resource: "a"}, time.Time{}, 2)
	v.ApplyAt(events.SessionStarted{Resource: "b"}, time.Time{}, 3)
	if got := v.LatestAvailableAt(); got != 2 {
		t.Fatalf("connected but not available counts: %d, want 2", got)
	}
	v.ApplyAt(events.PresenceAvailable{Resource: "b"}, time.Time{}, 4)
	v.ApplyAt(events.PresenceAvailable{Resource: "a", Stanza: "<presence><show>away</show></presence>"}, time.Time{}, 5)
	if got := v.LatestAvailableAt(); got != 4 {
		t.Fatalf("subsequent presence moved AvailableAt: %d, want 4", got)
	}
	if r, _ := v.Resource("a"); r.AvailableAt != 2 || r.StanzaAt != 5 {
		t.Fatalf("resource a: AvailableAt %d StanzaAt %d, want 2 and 5", r.AvailableAt, r.StanzaAt)
	}
	v.Apply(events.PresenceAvailable{Resource: "c"}, time.Time{})
	if got := v.LatestAvailableAt(); got != 0 {
		t.Fatalf("a resource without a position: %d, want 0", got)
	}
}
