package replay_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
	"xmppd/projections/projtest"
	"xmppd/replay"
)

func TestParseCutoff(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 2, 11, 500_000_000, time.UTC)
	cases := []struct {
		in      string
		want    replay.Cutoff
		wantErr bool
	}{
		{"1200", replay.Cutoff{Position: 1200}, false},
		{"2026-11-20T10:02:11.5Z", replay.Cutoff{Time: at}, false},
		{"2026-11-20T11:02:11.5+01:00", replay.Cutoff{Time: at}, false},
		{"2026-11-20 10:02:11", replay.Cutoff{}, true},
		{"-3", replay.Cutoff{}, true},
		{"", replay.Cutoff{}, true},
	}
	for _, tc := range cases {
		got, err := replay.ParseCutoff(tc.in)
		if (err != nil) != tc.wantErr || got.Position != tc.want.Position || !got.Time.Equal(tc.want.Time) {
			t.Errorf("ParseCutoff(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	e := events.Envelope{Position: 10, Recorded: at}
	for _, tc := range []struct {
		c    replay.Cutoff
		want bool
	}{
		{replay.Cutoff{}, true},
		{replay.Cutoff{Position: 10}, true},
		{replay.Cutoff{Position: 9}, false},
		{replay.Cutoff{Time: at}, true}, // "at or before"
		{replay.Cutoff{Time: at.Add(-time.Nanosecond)}, false},
	} {
		if got := tc.c.Includes(&e); got != tc.want {
			t.Errorf("%+v.Includes(position 10 at %v) = %v", tc.c, at, got)
		}
	}
}

// smallLog commits a generated log of a few dozen accounts to a real
// SQLite file and returns the store and its head position.
func smallLog(t *testing.T) (events.Store, uint64) {
	t.Helper()
	store := tempStore(t)
	log := projtest.Generate(t, projtest.GenConfig{Seed: 3, Accounts: 30, MinRoster: 5, MaxRoster: 40, Sessions: 3})
	commit(t, store, log, 7)
	head, err := store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return store, head
}

// TestAtEqualsTheServersViews: replaying one account from its own streams
// gives what the views rebuilt from the whole log (as the server does at
// start-up) hold for that account, at several positions.
func TestAtEqualsTheServersViews(t *testing.T) {
	ctx := context.Background()
	store, head := smallLog(t)
	accounts, err := replay.Accounts(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 30 {
		t.Fatalf("%d accounts listed, want 30", len(accounts))
	}
	for _, pos := range []uint64{head / 7, head / 2, head} {
		full := projections.NewViews(domain.DefaultPolicy())
		if _, err := projections.Rebuild(ctx, store, full, pos, nil); err != nil {
			t.Fatal(err)
		}
		for _, bare := range accounts {
			st, ok, err := replay.At(ctx, store, bare, replay.Cutoff{Position: pos}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				if full.WithAccount(bare, func(*domain.Account, *domain.PresenceView) {}) {
					t.Errorf("%s at %d: replay found no event, the full views know it", bare, pos)
				}
				continue
			}
			if st.Position > pos {
				t.Errorf("%s at %d: replayed past the cutoff to %d", bare, pos, st.Position)
			}
			compareWithViews(t, full, st)
		}
	}
}

// compareWithViews checks st field by field against the account's entry in
// views built from the whole log.
func compareWithViews(t *testing.T, v *projections.Views, st replay.State) {
	t.Helper()
	sessions := map[string]projections.Session{}
	for _, s := range v.Sessions(st.JID) {
		sessions[s.Resource] = s
	}
	v.WithAccount(st.JID, func(a *domain.Account, p *domain.PresenceView) {
		if a.Version != st.RosterVersion || a.Exists != st.Exists {
			t.Errorf("%s: roster version %d exists %v, views say %d %v", st.JID, st.RosterVersion, st.Exists, a.Version, a.Exists)
		}
		roster := a.Roster()
		if len(roster) != len(st.Roster) {
			t.Errorf("%s: %d roster items, views hold %d", st.JID, len(st.Roster), len(roster))
			return
		}
		for i, c := range roster {
			it, got := c.Item(), st.Roster[i]
			if got.JID != it.JID || got.Name != it.Name || !slices.Equal(got.Groups, nonNil(it.Groups)) ||
				got.Subscription != it.Subscription || got.Ask != it.Ask || got.Approved != it.Approved || got.State != string(c.Subscription) {
				t.Errorf("%s: item %+v, views hold %+v (%s)", st.JID, got, it, c.Subscription)
			}
		}
		pending := a.PendingRequests()
		if len(pending) != len(st.Pending) {
			t.Errorf("%s: %d pending, views hold %d", st.JID, len(st.Pending), len(pending))
		}
		for i := range min(len(pending), len(st.Pending)) {
			if pending[i].JID != st.Pending[i].From || pending[i].PendingStanza != st.Pending[i].Stanza || st.Pending[i].Since.IsZero() {
				t.Errorf("%s: pending %+v, views hold %+v", st.JID, st.Pending[i], pending[i])
			}
		}
		for _, c := range st.Preapproved {
			if !a.Contact(c).Approved {
				t.Errorf("%s: %s listed as pre-approved, views disagree", st.JID, c)
			}
		}
		for _, c := range roster {
			if c.Approved && !slices.Contains(st.Preapproved, c.JID) {
				t.Errorf("%s: pre-approval of %s not listed", st.JID, c.JID)
			}
		}
		res := p.Connected()
		if len(res) != len(st.Resources) {
			t.Errorf("%s: %d resources, views hold %d", st.JID, len(st.Resources), len(res))
			return
		}
		for i, r := range res {
			got, s := st.Resources[i], sessions[r.Name]
			if got.Name != r.Name || got.Available != r.Available || got.Show != r.Show || got.Status != r.Status ||
				got.Priority != r.Priority || !slices.Equal(got.Directed, nonNil(r.Directed)) ||
				got.SessionID != s.SessionID || got.ClientAddr != s.ClientAddr || got.Node != s.Node {
				t.Errorf("%s: resource %+v, views hold %+v / %+v", st.JID, got, r, s)
			}
		}
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TestDiffLeadsFromOneStateToTheOther: applying the roster and presence
// changes Diff lists to the state at FROM gives the state at TO.
func TestDiffLeadsFromOneStateToTheOther(t *testing.T) {
	ctx := context.Background()
	store, head := smallLog(t)
	accounts, err := replay.Accounts(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	from, to := replay.Cutoff{Position: head / 3}, replay.Cutoff{Position: 2 * head / 3}
	total := 0
	for _, bare := range accounts {
		a, _, err := replay.At(ctx, store, bare, from, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := replay.At(ctx, store, bare, to, nil)
		if err != nil {
			t.Fatal(err)
		}
		changes, err := replay.Diff(ctx, store, bare, from, to, nil)
		if err != nil {
			t.Fatal(err)
		}
		total += len(changes)
		roster := map[string]replay.Item{}
		for _, it := range a.Roster {
			roster[it.JID] = it
		}
		online := map[string]replay.Resource{}
		for _, r := range a.Resources {
			online[r.Name] = r
		}
		var last uint64
		for _, c := range changes {
			if c.Position <= from.Position || c.Position > to.Position || c.Position < last || c.Account != bare || c.Text == "" {
				t.Errorf("%s: change %+v out of range, order or account", bare, c)
			}
			last = c.Position
			switch c.Kind {
			case "roster.added", "roster.changed":
				roster[c.Contact] = *c.After.(*replay.Item)
			case "roster.removed":
				delete(roster, c.Contact)
			case "session.started", "presence.online", "presence.offline", "presence.changed":
				online[c.Resource] = *c.After.(*replay.Resource)
			case "session.ended":
				delete(online, c.Resource)
			}
		}
		if len(roster) != len(b.Roster) {
			t.Errorf("%s: diff leads to %d items, state at TO has %d", bare, len(roster), len(b.Roster))
		}
		for _, it := range b.Roster {
			if got := roster[it.JID]; got.State != it.State || got.Name != it.Name || !slices.Equal(got.Groups, it.Groups) {
				t.Errorf("%s: diff leads to %+v, state at TO has %+v", bare, got, it)
			}
		}
		if len(online) != len(b.Resources) {
			t.Errorf("%s: diff leads to %d resources, state at TO has %d", bare, len(online), len(b.Resources))
		}
		for _, r := range b.Resources {
			if got := online[r.Name]; got.Available != r.Available || got.Show != r.Show || got.Priority != r.Priority {
				t.Errorf("%s: diff leads to %+v, state at TO has %+v", bare, got, r)
			}
		}
	}
	if total == 0 {
		t.Fatal("no changes at all between a third and two thirds of the log")
	}
}

// TestAuditFilters: every entry passes the filter, and none that passes
// is left out (counted against the account's streams read directly).
func TestAuditFilters(t *testing.T) {
	ctx := context.Background()
	store, _ := smallLog(t)
	const bare = "user00003@localhost"
	var all []replay.Entry
	if err := replay.Audit(ctx, store, bare, replay.Filter{}, nil, func(e replay.Entry) error { all = append(all, e); return nil }); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range []string{events.AccountStream(bare), events.PresenceStream(bare), events.OfflineStream(bare)} {
		for _, err := range store.ReadStream(ctx, s, 1) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if len(all) != n {
		t.Fatalf("unfiltered audit told %d events, the streams hold %d", len(all), n)
	}
	contact := ""
	for _, e := range all {
		if e.Category == "subscription" && e.Cause != "" {
			contact = e.Contact
			break
		}
	}
	mid := all[len(all)/2].Time
	filters := []replay.Filter{
		{Categories: []string{"subscription"}},
		{Categories: []string{"session", "presence"}, Since: mid},
		{Contact: contact},
		{Until: mid, Categories: []string{"roster"}},
	}
	for _, f := range filters {
		var got []replay.Entry
		if err := replay.Audit(ctx, store, bare, f, nil, func(e replay.Entry) error { got = append(got, e); return nil }); err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, e := range all {
			if (len(f.Categories) == 0 || slices.Contains(f.Categories, e.Category)) && (f.Contact == "" || e.Contact == f.Contact) &&
				(f.Since.IsZero() || !e.Time.Before(f.Since)) && (f.Until.IsZero() || !e.Time.After(f.Until)) {
				want++
			}
		}
		if len(got) != want || want == 0 {
			t.Errorf("filter %+v: %d entries, want %d (non-zero)", f, len(got), want)
		}
		for _, e := range got {
			if e.Actor == "" && e.Category != "offline" && e.Type != events.TypeAuthFailed {
				t.Errorf("entry without actor: %+v", e)
			}
		}
	}
	if err := (replay.Filter{Categories: []string{"gossip"}}).Validate(); err == nil {
		t.Error("an unknown category was accepted")
	}
}

// TestAllStreamsAccountsInOrder: All gives every account's state in JID
// order, equal to At for each, and an error from emit stops it at once.
func TestAllStreamsAccountsInOrder(t *testing.T) {
	ctx := context.Background()
	store, head := smallLog(t)
	c := replay.Cutoff{Position: head / 2}
	var got []replay.State
	var read uint64
	if err := replay.All(ctx, store, c, func(n uint64) { read += n }, func(s replay.State) error { got = append(got, s); return nil }); err != nil {
		t.Fatal(err)
	}
	var want []replay.State
	var readOne uint64
	accounts, _ := replay.Accounts(ctx, store)
	for _, bare := range accounts {
		s, ok, err := replay.At(ctx, store, bare, c, func(n uint64) { readOne += n })
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			want = append(want, s)
		}
	}
	if len(got) != len(want) || len(got) == 0 || read != readOne {
		t.Fatalf("All gave %d states reading %d events; At one by one %d reading %d", len(got), read, len(want), readOne)
	}
	for i := range got {
		if got[i].JID != want[i].JID || got[i].Position != want[i].Position || len(got[i].Roster) != len(want[i].Roster) ||
			len(got[i].Resources) != len(want[i].Resources) || len(got[i].Pending) != len(want[i].Pending) {
			t.Errorf("state %d: %s at %d, want %s at %d", i, got[i].JID, got[i].Position, want[i].JID, want[i].Position)
		}
	}
	stop := errors.New("enough")
	n := 0
	err := replay.All(ctx, store, c, nil, func(replay.State) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("emit's error: All returned %v after %d states", err, n)
	}
}
