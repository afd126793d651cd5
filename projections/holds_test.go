package projections_test

import (
	"context"
	"testing"

	"xmppd/events"
	"xmppd/projections"
)

// Issue 13: the views know the holds in force from the compliance stream,
// live and rebuilt alike, and an erased account's MAM index forgets its
// messages, also when the views are rebuilt from the log.
func TestHoldsAndErasedArchiveFromTheLog(t *testing.T) {
	l := newLog(t)
	admin := events.Meta{Actor: "admin:root"}
	compliance := events.ComplianceStream("localhost")
	log := []events.Envelope{
		l.add(events.AccountStream("alice@localhost"), events.AccountCreated{}, admin),
		l.add(events.ArchiveStream("alice@localhost"), events.ArchiveMessageStored{ID: "m1", With: "bob@localhost/pc", Direction: events.ArchiveIn}, admin),
		l.add(events.ArchiveStream("bob@localhost"), events.ArchiveMessageStored{ID: "m1", With: "alice@localhost/pc", Direction: events.ArchiveOut}, admin),
		l.add(compliance, events.HoldPlaced{Account: "bob@localhost", Case: "C-1", Reason: "litigation"}, admin),
		l.add(compliance, events.HoldPlaced{Account: "bob@localhost", Case: "C-2", Reason: "audit"}, admin),
		l.add(compliance, events.HoldPlaced{Account: "alice@localhost", Case: "C-1", Reason: "litigation"}, admin),
		l.add(compliance, events.KeysExpired{Account: "carol@localhost", Periods: []string{"2026-01"}, Retention: "30d"}, admin),
		l.add(compliance, events.HoldReleased{Account: "alice@localhost", Case: "C-1"}, admin),
		l.add(events.AccountStream("alice@localhost"), events.AccountErased{Keys: 1, Periods: []string{"2026-12"}}, admin),
		l.add(events.AccountStream("alice@localhost"), events.AccountDeleted{Reason: "erased"}, admin),
	}
	check := func(name string, v *projections.Views) {
		t.Helper()
		holds, version := v.Holds.OnAt("localhost", "bob@localhost")
		if projections.Cases(holds) != "C-1, C-2" || version != 5 {
			t.Errorf("%s: bob held by %q at compliance version %d, want C-1, C-2 at 5", name, projections.Cases(holds), version)
		}
		if h := v.Holds.On("alice@localhost"); len(h) != 0 {
			t.Errorf("%s: alice still held by %v after the release", name, h)
		}
		if n, _ := v.ArchiveLen("alice@localhost"); n != 0 {
			t.Errorf("%s: erased alice's index holds %d messages", name, n)
		}
		if n, _ := v.ArchiveLen("bob@localhost"); n != 1 {
			t.Errorf("%s: bob's index holds %d messages, want his copy", name, n)
		}
	}
	check("applied", applyAll(t, log))

	store := openStore(t)
	for _, e := range log { // one by one: the erasure must come after alice's message
		e.Version, e.Position, e.Prev, e.Hash = 0, 0, "", ""
		if _, err := store.Append(context.Background(), e.Stream, events.Any, e); err != nil {
			t.Fatal(err)
		}
	}
	v := applyAll(t, nil)
	if _, err := projections.Rebuild(context.Background(), store, v, 0, nil); err != nil {
		t.Fatal(err)
	}
	check("rebuilt", v)
	h, err := projections.ReadHolds(context.Background(), store, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if got := projections.Cases(h.All()); got != "C-1, C-2" || h.Version("localhost") != 5 {
		t.Errorf("ReadHolds: %q at version %d", got, h.Version("localhost"))
	}
}
