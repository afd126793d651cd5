package replay_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"xmppd/events"
	"xmppd/replay"
)

// XEP-0163: replay --at shows each PEP node with its configuration and
// items as they were at a past instant, and audit --type pep tells who
// published, retracted and deleted what, when, from which session and
// address.
func TestReplayAndAuditPEP(t *testing.T) {
	store := tempStore(t)
	ctx := context.Background()
	const bare = "alice@localhost"
	meta := events.Meta{Actor: "alice@localhost/phone", SessionID: "s1", ClientAddr: "192.0.2.7:5555", StanzaID: "p1"}
	appendAt := accountAppender(t, store, bare, meta)
	const node = "urn:xmpp:avatar:metadata"
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	appendAt(t0, events.AccountCreated{})
	appendAt(t0.Add(time.Minute), events.PEPNodeConfigured{Node: node, AccessModel: "presence", PersistItems: true, MaxItems: 2, Created: true})
	appendAt(t0.Add(time.Minute), events.PEPPublished{Node: node, ID: "a1", XML: "<metadata xmlns='urn:xmpp:avatar:metadata'/>"})
	appendAt(t0.Add(2*time.Minute), events.PEPPublished{Node: node, ID: "a2", XML: "<metadata xmlns='urn:xmpp:avatar:metadata'/>"})
	appendAt(t0.Add(3*time.Minute), events.PEPRetracted{Node: node, ID: "a1", Notify: true})
	appendAt(t0.Add(4*time.Minute), events.PEPNodeDeleted{Node: node})

	for _, tc := range []struct {
		at   time.Time
		want string // item ids, or "-" for no node
	}{
		{t0, "-"},
		{t0.Add(time.Minute), "a1"},
		{t0.Add(2 * time.Minute), "a1,a2"},
		{t0.Add(3 * time.Minute), "a2"},
		{t0.Add(4 * time.Minute), "-"},
	} {
		s, ok, err := replay.At(ctx, store, bare, replay.Cutoff{Time: tc.at}, nil)
		if err != nil || !ok {
			t.Fatalf("At(%v): %v %v", tc.at, ok, err)
		}
		got := "-"
		if len(s.PEP) == 1 {
			var ids []string
			for _, it := range s.PEP[0].Items {
				ids = append(ids, it.ID)
			}
			got = strings.Join(ids, ",")
			if s.PEP[0].Node != node || s.PEP[0].AccessModel != "presence" || s.PEP[0].MaxItems != 2 {
				t.Errorf("node at %v: %+v", tc.at, s.PEP[0])
			}
		}
		if got != tc.want {
			t.Errorf("PEP items at %v: %s, want %s", tc.at, got, tc.want)
		}
	}

	var got []replay.Entry
	err := replay.Audit(ctx, store, bare, replay.Filter{Categories: []string{"pep"}}, nil, func(e replay.Entry) error {
		got = append(got, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("audit: %d pep entries, want 5: %+v", len(got), got)
	}
	if e := got[1]; !strings.Contains(e.Text, "published item a1") || e.PEPNode != node || e.Item != "a1" ||
		e.Actor != "alice@localhost/phone" || e.SessionID != "s1" || e.ClientAddr != "192.0.2.7:5555" || !e.Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("audit of the publish: %+v", e)
	}
	if e := got[3]; !strings.Contains(e.Text, "retracted item a1") || !strings.Contains(e.Text, "notified") {
		t.Errorf("audit of the retract: %+v", e)
	}
	if e := got[4]; !strings.Contains(e.Text, "deleted PEP node") {
		t.Errorf("audit of the delete: %+v", e)
	}
}
