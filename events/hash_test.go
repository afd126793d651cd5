package events_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"xmppd/events"
)

func sealed(t *testing.T, stream string, n int) []events.Envelope {
	t.Helper()
	evs := make([]events.Envelope, n)
	for i := range evs {
		e, err := events.New(events.RosterItemSet{Contact: "bob@localhost", Name: "Bob", Groups: []string{"g"}}, events.Meta{Actor: "alice@localhost/a"})
		if err != nil {
			t.Fatal(err)
		}
		e.ID = strings.Repeat("x", i+1)
		e.Recorded = time.Unix(1_700_000_000, int64(i)).UTC()
		evs[i] = e
	}
	events.Seal(stream, 0, events.GenesisHash, evs)
	return evs
}

func TestSealStartsAtGenesisAndLinks(t *testing.T) {
	evs := sealed(t, "account-alice@localhost", 3)
	if evs[0].Prev != events.GenesisHash || evs[0].Version != 1 {
		t.Fatalf("first event: prev %s version %d", evs[0].Prev, evs[0].Version)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Prev != evs[i-1].Hash || evs[i].Version != uint64(i+1) {
			t.Errorf("event %d not linked to %d", i, i-1)
		}
	}
	if evs[0].Hash == evs[1].Hash {
		t.Error("two events share a hash")
	}
}

// Every field of the canonical encoding must change the hash, or an
// alteration of that field would pass verify.
func TestCanonicalHashCoversEveryField(t *testing.T) {
	base := sealed(t, "account-alice@localhost", 1)[0]
	h0 := events.CanonicalHash(&base)
	mutations := map[string]func(e *events.Envelope){
		"id":          func(e *events.Envelope) { e.ID += "!" },
		"stream":      func(e *events.Envelope) { e.Stream += "!" },
		"version":     func(e *events.Envelope) { e.Version++ },
		"type":        func(e *events.Envelope) { e.Type += "!" },
		"schema":      func(e *events.Envelope) { e.SchemaVersion++ },
		"recorded":    func(e *events.Envelope) { e.Recorded = e.Recorded.Add(time.Nanosecond) },
		"actor":       func(e *events.Envelope) { e.Actor += "!" },
		"session":     func(e *events.Envelope) { e.SessionID += "!" },
		"addr":        func(e *events.Envelope) { e.ClientAddr += "!" },
		"stanza id":   func(e *events.Envelope) { e.StanzaID += "!" },
		"causation":   func(e *events.Envelope) { e.CausationID += "!" },
		"correlation": func(e *events.Envelope) { e.CorrelationID += "!" },
		"node":        func(e *events.Envelope) { e.Node += "!" },
		"prev":        func(e *events.Envelope) { e.Prev = strings.Repeat("1", 64) },
		"data":        func(e *events.Envelope) { e.Data = append([]byte(nil), e.Data...); e.Data[2] ^= 1 },
		// Moving a byte between adjacent fields must not collide either.
		"boundary": func(e *events.Envelope) { e.Actor, e.SessionID = "ab", "c"+e.SessionID },
	}
	for name, mutate := range mutations {
		e := base
		mutate(&e)
		if events.CanonicalHash(&e) == h0 {
			t.Errorf("changing %s leaves the hash unchanged", name)
		}
	}
	e := base
	e.Position = 999
	if events.CanonicalHash(&e) != h0 {
		t.Error("the hash covers Position, which differs between stores")
	}
}

func TestChainCheckerFindsTampering(t *testing.T) {
	const s = "account-alice@localhost"
	cases := []struct {
		name    string
		tamper  func([]events.Envelope) []events.Envelope
		version uint64 // where the break is reported; 0 = intact
	}{
		{"intact", func(e []events.Envelope) []events.Envelope { return e }, 0},
		{"altered data", func(e []events.Envelope) []events.Envelope {
			e[2].Data = []byte(`{"contact":"eve@localhost"}`)
			return e
		}, 3},
		{"altered actor", func(e []events.Envelope) []events.Envelope { e[1].Actor = "mallory@localhost/x"; return e }, 2},
		{"removed event", func(e []events.Envelope) []events.Envelope { return append(e[:2], e[3:]...) }, 4},
		{"swapped events", func(e []events.Envelope) []events.Envelope { e[1], e[2] = e[2], e[1]; return e }, 3},
		{"rehashed alteration", func(e []events.Envelope) []events.Envelope {
			e[1].Actor = "mallory@localhost/x"
			e[1].Hash = events.CanonicalHash(&e[1])
			return e
		}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs := tc.tamper(sealed(t, s, 5))
			c := events.NewChainChecker()
			var first *events.ChainError
			for i := range evs {
				if err := c.Check(&evs[i]); err != nil && first == nil {
					if !errors.As(err, &first) {
						t.Fatalf("error %v is not a *ChainError", err)
					}
				}
			}
			switch {
			case tc.version == 0 && first != nil:
				t.Fatalf("intact chain reported: %v", first)
			case tc.version != 0 && first == nil:
				t.Fatal("tampering not found")
			case tc.version != 0 && (first.Version != tc.version || first.Stream != s):
				t.Fatalf("break reported at %s v%d, want v%d: %v", first.Stream, first.Version, tc.version, first)
			}
		})
	}
}
