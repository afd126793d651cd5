package replay_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"xmppd/adapters/keystore"
	"xmppd/events"
	"xmppd/replay"
)

// archiveFixture is alice's archive in a real SQLite log, sealed with a
// real key store as the server seals it, plus one message archived in
// clear by an xmppd older than sealing (schema 1's form).
func archiveFixture(t *testing.T) (events.Store, *keystore.Store, []string) {
	t.Helper()
	store := tempStore(t)
	keys, err := keystore.Open(filepath.Join(t.TempDir(), "keys.db"), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	msgs := []struct {
		at           time.Time
		dir, with    string
		body         string
		sealed       bool
		wantFrom, id string
	}{
		{time.Date(2026, 10, 30, 9, 0, 0, 0, time.UTC), events.ArchiveOut, "bob@localhost", "the old budget note", false, "alice@localhost/phone", "m0"},
		{time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), events.ArchiveOut, "bob@localhost/desk", "Budget draft attached", true, "alice@localhost/phone", "m1"},
		{time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), events.ArchiveIn, "bob@localhost/phone", "the BUDGET is approved", true, "bob@localhost/phone", "m2"},
		{time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), events.ArchiveIn, "carol@localhost/x", "lunch?", true, "carol@localhost/x", "m3"},
	}
	var ids []string
	for i, m := range msgs {
		to := m.with
		if m.dir == events.ArchiveIn {
			to = "alice@localhost/phone"
		}
		stanza := fmt.Sprintf(`<message xmlns="jabber:client" type="chat" id="%s" from="%s" to="%s"><body>%s</body></message>`, m.id, m.wantFrom, to, m.body)
		var p events.Payload = events.ArchiveMessageStored{ID: "a" + m.id, With: m.with, Direction: m.dir, Content: stanza}
		if m.sealed {
			if p, err = events.SealPersonal(p, keys, "alice@localhost", m.at); err != nil {
				t.Fatal(err)
			}
		}
		e, err := events.New(p, events.Meta{Actor: "alice@localhost/phone"})
		if err != nil {
			t.Fatal(err)
		}
		e.Recorded = m.at
		if _, err := store.Append(context.Background(), events.ArchiveStream("alice@localhost"), events.Exactly(uint64(i)), e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, "a"+m.id)
	}
	return store, keys, ids
}

func collect(t *testing.T, seq func(func(replay.ArchivedMessage, error) bool)) (ids, states []string, bodies []string) {
	t.Helper()
	for m, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		ids, states, bodies = append(ids, m.ID), append(states, m.ContentState), append(bodies, m.Body)
	}
	return ids, states, bodies
}

// ArchiveMessages' filters: with a bare JID any resource, with a full JID
// that one (XEP-0313 section 4.1.1), and the time bounds inclusive.
func TestArchiveMessagesFilters(t *testing.T) {
	store, keys, all := archiveFixture(t)
	s := replay.WithKeys(store, keys)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		f    replay.ArchiveFilter
		want []string
	}{
		{"everything", replay.ArchiveFilter{}, all},
		{"with a bare JID: every resource", replay.ArchiveFilter{With: "bob@localhost"}, all[:3]},
		{"with a full JID: that resource", replay.ArchiveFilter{With: "bob@localhost/phone"}, all[2:3]},
		{"since, inclusive", replay.ArchiveFilter{Since: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}, all[2:]},
		{"until, inclusive", replay.ArchiveFilter{Until: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}, all[:2]},
		{"with and a window", replay.ArchiveFilter{With: "bob@localhost", Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}, all[1:3]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var read uint64
			ids, states, _ := collect(t, replay.ArchiveMessages(ctx, s, "alice@localhost", tc.f, func(n uint64) { read += n }))
			if !slices.Equal(ids, tc.want) {
				t.Errorf("ids %v, want %v", ids, tc.want)
			}
			for _, st := range states {
				if st != replay.ContentOK {
					t.Errorf("content state %s with every key there", st)
				}
			}
			if read != 4 {
				t.Errorf("progress counted %d messages read, want 4", read)
			}
		})
	}
	if err := (replay.ArchiveFilter{With: "@@", Since: time.Now(), Until: time.Now().Add(-time.Hour)}).Validate(); err == nil {
		t.Error("a filter with a bad JID and until before since is valid")
	}
}

// The search opens content as it scans (issue 13): what it finds follows
// the keys, so it forgets an erased account's messages at once; a
// message archived in clear before sealing existed stays readable, as the
// README says erasure cannot reach it.
func TestSearchArchiveForgetsErasedContent(t *testing.T) {
	for _, why := range []string{events.GoneErased, events.GoneExpired} {
		t.Run(why, func(t *testing.T) { searchAfterDestroy(t, why) })
	}
}

func searchAfterDestroy(t *testing.T, why string) {
	store, keys, all := archiveFixture(t)
	ctx := context.Background()
	const words = "budget"
	ids, _, bodies := collect(t, replay.SearchArchive(ctx, replay.WithKeys(store, keys), "alice@localhost", replay.ArchiveFilter{}, words, nil))
	if !slices.Equal(ids, all[:3]) || bodies[2] != "the BUDGET is approved" {
		t.Fatalf("search budget: %v %q", ids, bodies)
	}
	if ids, _, _ := collect(t, replay.SearchArchive(ctx, store, "alice@localhost", replay.ArchiveFilter{}, words, nil)); !slices.Equal(ids, all[:1]) {
		t.Errorf("search without the key store found %v, want only the message in clear", ids)
	}
	if _, err := keys.Destroy("alice@localhost", why); err != nil {
		t.Fatal(err)
	}
	if ids, _, _ := collect(t, replay.SearchArchive(ctx, replay.WithKeys(store, keys), "alice@localhost", replay.ArchiveFilter{}, words, nil)); !slices.Equal(ids, all[:1]) {
		t.Errorf("search after the keys were destroyed (%s) found %v, want only the message in clear", why, ids)
	}
	ids, states, _ := collect(t, replay.ArchiveMessages(ctx, replay.WithKeys(store, keys), "alice@localhost", replay.ArchiveFilter{}, nil))
	if !slices.Equal(ids, all) || !slices.Equal(states, []string{"ok", why, why, why}) {
		t.Errorf("after the keys were destroyed (%s): %v %v", why, ids, states)
	}
}

// BenchmarkSearchArchive measures a search of an archive of 10,000 sealed
// messages: each one read from SQLite, opened (AES-GCM) and parsed.
func BenchmarkSearchArchive(b *testing.B) {
	store := tempStore(b)
	keys, err := keystore.Open(filepath.Join(b.TempDir(), "keys.db"), false)
	if err != nil {
		b.Fatal(err)
	}
	defer keys.Close()
	const n = 10000
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var evs []events.Envelope
	for i := range n {
		stanza := fmt.Sprintf(`<message xmlns="jabber:client" type="chat" id="m%d" from="bob@localhost/desk" to="alice@localhost/phone"><body>message %d about the weekly numbers and the plan</body></message>`, i, i)
		p, err := events.SealPersonal(events.ArchiveMessageStored{ID: fmt.Sprint("a", i), With: "bob@localhost/desk", Direction: events.ArchiveIn, Content: stanza}, keys, "alice@localhost", at)
		if err != nil {
			b.Fatal(err)
		}
		e, err := events.New(p, events.Meta{})
		if err != nil {
			b.Fatal(err)
		}
		e.Recorded = at
		evs = append(evs, e)
	}
	if _, err := store.Append(context.Background(), events.ArchiveStream("alice@localhost"), events.NoStream, evs...); err != nil {
		b.Fatal(err)
	}
	s := replay.WithKeys(store, keys)
	const words = "plan 4711"
	b.ResetTimer()
	for b.Loop() {
		found := 0
		for _, err := range replay.SearchArchive(context.Background(), s, "alice@localhost", replay.ArchiveFilter{}, words, nil) {
			if err != nil {
				b.Fatal(err)
			}
			found++
		}
		if found != 1 {
			b.Fatalf("found %d, want 1", found)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// The compliance stream where the reading of an archive is recorded is
// named for a domain: it is not an account that replay lists.
func TestAccountsSkipsTheComplianceStream(t *testing.T) {
	store, _, _ := archiveFixture(t)
	e, err := events.New(events.ArchiveSearched{ArchiveSelection: events.ArchiveSelection{Account: "alice@localhost"}, Text: "budget"}, events.Meta{Actor: "admin:jane"})
	if err != nil {
		t.Fatal(err)
	}
	e.Recorded = time.Now()
	if _, err := store.Append(context.Background(), events.ComplianceStream("localhost"), events.Any, e); err != nil {
		t.Fatal(err)
	}
	got, err := replay.Accounts(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"alice@localhost"}) {
		t.Errorf("Accounts = %v, want [alice@localhost]", got)
	}
}
