package projtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"xmppd/domain"
	"xmppd/events"
)

// GenConfig shapes a generated log.
type GenConfig struct {
	Seed     uint64
	Accounts int
	// MinRoster and MaxRoster bound roster sizes; sizes are skewed toward
	// MinRoster (most users have small rosters, a few have large ones).
	MinRoster, MaxRoster int
	// Sessions is the mean number of sessions per account; each sends a
	// few presence updates. Some are left open (a killed process).
	Sessions int
}

// Start returns the recorded time of the first generated event.
func Start() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

// script is one account's events in its own order; the log interleaves
// the scripts of all accounts.
type script struct {
	bare string
	evs  []events.Envelope // Stream, Recorded and payload set; unsealed
}

// Generate returns a log of realistic shape: accounts created with
// credentials, rosters built by subscription handshakes whose transitions
// come from domain.Subscription (so every one is valid per RFC 6121
// Appendix A), frequent sessions and presence, offline queues, and some
// events no view folds (ignored inputs, failed logins, server events).
// The envelopes are unsealed (no version, hash or position), in log
// order, with increasing recorded times.
func Generate(t testing.TB, cfg GenConfig) []events.Envelope {
	t.Helper()
	r := rand.New(rand.NewPCG(cfg.Seed, 7))
	g := &generator{t: t, r: r}
	scripts := make([]*script, cfg.Accounts)
	for i := range scripts {
		scripts[i] = g.account(cfg, i)
	}
	// Interleave: take a few events at a time from a random account.
	out := make([]events.Envelope, 0, g.total+cfg.Accounts/10+2)
	out = append(out, g.env(events.ServerStream("localhost"), events.ServerStarted{Node: "node-a", Version: "test", ConfigDigest: "x"}, events.Meta{Node: "node-a"}))
	live := scripts
	for len(live) > 0 {
		i := r.IntN(len(live))
		s := live[i]
		n := min(1+r.IntN(4), len(s.evs))
		out = append(out, s.evs[:n]...)
		s.evs = s.evs[n:]
		if len(s.evs) == 0 {
			live[i] = live[len(live)-1]
			live = live[:len(live)-1]
		}
	}
	for i := range out {
		out[i].Recorded = Start().Add(time.Duration(i) * time.Millisecond)
	}
	return out
}

type generator struct {
	t     testing.TB
	r     *rand.Rand
	total int
}

func (g *generator) env(stream string, p events.Payload, m events.Meta) events.Envelope {
	e, err := events.New(p, m)
	if err != nil {
		g.t.Fatal(err)
	}
	e.Stream = stream
	return e
}

// sessionEnds are the session.ended (schema 2) a generated log uses, in
// turn.
var sessionEnds = []events.SessionEnded{
	{Cause: events.EndClientClosed},
	{Cause: events.EndConnectionLost, Detail: "EOF"},
	{Cause: events.EndTimeout, Condition: "connection-timeout"},
}

// v1SessionEnded is session.ended as an xmppd writing schema 1 stored it
// (its free-text reason, its bytes).
func (g *generator) v1SessionEnded(stream, resource string, m events.Meta) events.Envelope {
	e := events.Envelope{Stream: stream, Type: events.TypeSessionEnded, SchemaVersion: 1,
		Data: fmt.Appendf(nil, `{"resource":%q,"reason":"client closed the stream"}`, resource)}
	m.Apply(&e)
	return e
}

func (g *generator) account(cfg GenConfig, i int) *script {
	bare := fmt.Sprintf("user%05d@localhost", i)
	s := &script{bare: bare}
	acct, pres, off := events.AccountStream(bare), events.PresenceStream(bare), events.OfflineStream(bare)
	admin := events.Meta{Actor: "admin:root", Node: "node-a"}
	add := func(stream string, p events.Payload, m events.Meta) { s.evs = append(s.evs, g.env(stream, p, m)) }

	add(acct, events.AccountCreated{JID: bare}, admin)
	add(acct, events.CredentialsSet{Scram: []events.ScramKeys{{Mechanism: "SCRAM-SHA-256", Salt: []byte{byte(i), 1}, Iterations: 4096, StoredKey: []byte{byte(i), 2}, ServerKey: []byte{byte(i), 3}}}}, admin)

	// Rosters: sizes skewed hard toward the minimum (u^12: the mean is
	// MinRoster plus a thirteenth of the range; one in ten exceeds it by a
	// sixth of the range).
	size := cfg.MinRoster + int(float64(cfg.MaxRoster-cfg.MinRoster)*math.Pow(g.r.Float64(), 12))
	me := events.Meta{Actor: bare + "/phone", SessionID: fmt.Sprintf("s%d", i), ClientAddr: "192.0.2.1:5000", Node: "node-a"}
	for c := range size {
		contact := fmt.Sprintf("contact%d@example.net", (i*7919+c*104729)%(cfg.Accounts*50+1))
		for _, p := range g.contactEvents(contact) {
			add(acct, p, me)
		}
	}
	// Sessions and presence, offline queue in between.
	nsess := 1 + g.r.IntN(2*cfg.Sessions)
	for k := range nsess {
		res := fmt.Sprintf("res%d", k%3)
		node := []string{"node-a", "node-b"}[g.r.IntN(2)]
		m := events.Meta{Actor: bare + "/" + res, SessionID: fmt.Sprintf("%s-%d", bare, k), ClientAddr: fmt.Sprintf("198.51.100.%d:%d", k%250, 40000+k), Node: node}
		add(pres, events.SessionStarted{Resource: res, ClientAddr: m.ClientAddr, Node: node, TLS: "TLS1.3 TLS_AES_128_GCM_SHA256", Mechanism: "SCRAM-SHA-256"}, m)
		for u := range 1 + g.r.IntN(12) {
			show := []string{"", "away", "dnd", "xa", "chat"}[g.r.IntN(5)]
			prio := g.r.IntN(20) - 5
			st := fmt.Sprintf("<presence from='%s/%s'><show>%s</show><status>update %d</status><priority>%d</priority></presence>", bare, res, show, u, prio)
			add(pres, events.PresenceAvailable{Resource: res, Show: show, Status: fmt.Sprintf("update %d", u), Priority: prio, Stanza: st}, m)
			if g.r.IntN(8) == 0 {
				add(pres, events.DirectedPresence{Resource: res, To: "room@conference.example.org/" + bare[:9], Available: g.r.IntN(3) > 0, Stanza: "<presence to='room@conference.example.org'/>"}, m)
			}
		}
		if g.r.IntN(6) == 0 {
			add(acct, events.SubscriptionIgnored{Contact: "spam@example.com", Cause: events.InSubscribed, State: events.StateNone}, m)
		}
		if g.r.IntN(5) == 0 {
			for q := range 1 + g.r.IntN(4) {
				add(off, events.OfflineQueued{Kind: "message", From: "contact1@example.net/x", Stanza: fmt.Sprintf("<message type='chat'><body>hi %d</body></message>", q)}, events.Meta{Node: node})
			}
		}
		if k == nsess-1 && g.r.IntN(3) == 0 {
			break // left open: the process was killed
		}
		if g.r.IntN(2) == 0 && len(s.evs) > 0 {
			add(off, events.OfflineDelivered{Through: 1 << 62, Resource: res}, m)
		}
		add(pres, events.PresenceUnavailable{Resource: res, Stanza: "<presence type='unavailable'/>"}, m)
		if k%4 == 3 {
			// As an upgraded server's log holds it: written before
			// session.ended schema 2, read through the upcaster.
			s.evs = append(s.evs, g.v1SessionEnded(pres, res, m))
		} else {
			end := sessionEnds[k%len(sessionEnds)]
			end.Resource = res
			add(pres, end, m)
		}
	}
	if g.r.IntN(20) == 0 {
		add(pres, events.AuthFailed{Username: bare, Mechanism: "PLAIN", ClientAddr: "203.0.113.9:1", Condition: "not-authorized"}, events.Meta{Node: "node-a"})
	}
	g.total += len(s.evs)
	return s
}

// contactEvents returns the roster events of one contact: an item and a
// subscription story chosen at random, each input run through the
// Appendix A state machine.
func (g *generator) contactEvents(contact string) []events.Payload {
	var out []events.Payload
	state := events.StateNone
	input := func(in events.SubscriptionInput) {
		t := domain.Subscription(state, in)
		if !t.Changed {
			out = append(out, events.SubscriptionIgnored{Contact: contact, Cause: in, State: state})
			return
		}
		ch := events.SubscriptionChanged{Contact: contact, Cause: in, Before: t.Before, After: t.After}
		if in == events.InSubscribe {
			ch.Stanza = "<presence type='subscribe' from='" + contact + "'/>"
		}
		out = append(out, ch)
		state = t.After
	}
	item := func(name string) {
		out = append(out, events.RosterItemSet{Contact: contact, Name: name, Groups: []string{"Friends", "G" + name[:1]}})
	}
	switch n := g.r.IntN(20); {
	case n < 10: // the whole handshake of 3.1, ending in Both
		item("Both " + contact)
		input(events.OutSubscribe)
		input(events.InSubscribed)
		input(events.InSubscribe)
		input(events.OutSubscribed)
	case n < 14: // To
		item("To " + contact)
		input(events.OutSubscribe)
		input(events.InSubscribed)
	case n < 16: // pending out
		item("Pending " + contact)
		input(events.OutSubscribe)
	case n < 17: // an unanswered request: no item (A.1 #3)
		input(events.InSubscribe)
	case n < 18: // pre-approved
		item("Approved " + contact)
		out = append(out, events.PreapprovalSet{Contact: contact})
	default: // Both, then cancelled and removed (3.2, 3.3, 2.5)
		item("Gone " + contact)
		input(events.OutSubscribe)
		input(events.InSubscribed)
		input(events.InSubscribe)
		input(events.OutSubscribed)
		input(events.OutUnsubscribe)
		input(events.OutUnsubscribed)
		input(events.OutUnsubscribed) // no change: recorded as ignored
		out = append(out, events.RosterItemRemoved{Contact: contact})
	}
	if g.r.IntN(10) == 0 && state != events.StateNone {
		item("Renamed " + contact)
	}
	return out
}

// Seal assigns versions, hash chains and positions to an unsealed log, as
// a store would. Positions step by 1 or 2: they need not be contiguous.
func Seal(evs []events.Envelope) []events.Envelope {
	type head struct {
		version uint64
		hash    string
	}
	heads := make(map[string]head)
	var pos uint64
	out := make([]events.Envelope, len(evs))
	copy(out, evs)
	for i := range out {
		h, ok := heads[out[i].Stream]
		if !ok {
			h.hash = events.GenesisHash
		}
		events.Seal(out[i].Stream, h.version, h.hash, out[i:i+1])
		heads[out[i].Stream] = head{out[i].Version, out[i].Hash}
		pos += 1 + uint64(i%3/2)
		out[i].Position = pos
		out[i].ID = fmt.Sprintf("ev-%d", pos)
	}
	return out
}
