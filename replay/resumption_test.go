package replay_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"xmppd/events"
	"xmppd/replay"
)

// XEP-0198: replay --at shows a suspended resource as available and
// suspended, then, once resumed, at its new address; audit tells the
// suspension and the resumption, with the new connection's address.
func TestReplayAndAuditResumption(t *testing.T) {
	store := tempStore(t)
	ctx := context.Background()
	const bare = "alice@localhost"
	versions := map[string]uint64{}
	appendAt := func(stream string, at time.Time, addr string, p events.Payload) {
		t.Helper()
		env, err := events.New(p, events.Meta{Actor: bare + "/phone", SessionID: "s1", ClientAddr: addr})
		if err != nil {
			t.Fatal(err)
		}
		env.Recorded = at
		if _, err := store.Append(ctx, stream, events.Exactly(versions[stream]), env); err != nil {
			t.Fatal(err)
		}
		versions[stream]++
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	pres := events.PresenceStream(bare)
	appendAt(events.AccountStream(bare), t0, "", events.AccountCreated{})
	appendAt(pres, t0.Add(time.Second), "192.0.2.7:5555", events.SessionStarted{Resource: "phone", ClientAddr: "192.0.2.7:5555", Node: "n1", TLS: "TLS 1.3", Mechanism: "SCRAM-SHA-256"})
	appendAt(pres, t0.Add(2*time.Second), "192.0.2.7:5555", events.PresenceAvailable{Resource: "phone"})
	appendAt(pres, t0.Add(time.Minute), "192.0.2.7:5555", events.SessionSuspended{Resource: "phone", Cause: events.EndConnectionLost, Unacked: 3, ResumeWithinSeconds: 600})
	appendAt(pres, t0.Add(2*time.Minute), "198.51.100.9:6000", events.SessionResumed{Resource: "phone", ClientAddr: "198.51.100.9:6000", TLS: "TLS 1.3", Mechanism: "SCRAM-SHA-256", Resent: 3})

	for _, tc := range []struct {
		at        time.Time
		suspended bool
		addr      string
	}{
		{t0.Add(30 * time.Second), false, "192.0.2.7:5555"},
		{t0.Add(90 * time.Second), true, "192.0.2.7:5555"},
		{t0.Add(3 * time.Minute), false, "198.51.100.9:6000"},
	} {
		s, ok, err := replay.At(ctx, store, bare, replay.Cutoff{Time: tc.at}, nil)
		if err != nil || !ok {
			t.Fatalf("At(%v): %v %v", tc.at, ok, err)
		}
		if len(s.Resources) != 1 || !s.Resources[0].Available {
			t.Fatalf("at %v: resources %+v", tc.at, s.Resources)
		}
		r := s.Resources[0]
		if (r.Suspended != nil) != tc.suspended || r.ClientAddr != tc.addr {
			t.Errorf("at %v: suspended %v addr %s, want %v %s", tc.at, r.Suspended, r.ClientAddr, tc.suspended, tc.addr)
		}
	}

	var texts []string
	err := replay.Audit(ctx, store, bare, replay.Filter{Categories: []string{"session"}}, nil, func(e replay.Entry) error {
		texts = append(texts, e.ClientAddr+" "+e.Text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{
		"192.0.2.7:5555 session suspended: resource phone (connection lost), 3 stanzas unacknowledged, resumable for 600s",
		"198.51.100.9:6000 session resumed: resource phone from 198.51.100.9:6000 (SCRAM-SHA-256, TLS 1.3), 3 stanzas sent again",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("audit lacks %q:\n%s", want, all)
		}
	}
}
