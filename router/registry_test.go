package router_test

import (
	"slices"
	"testing"

	"xmppd/router"
)

type entry struct{ id, bare, res string }

func (e *entry) Key() router.Key { return router.Key{ID: e.id, Bare: e.bare, Resource: e.res} }

func ids(es []*entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.id)
	}
	slices.Sort(out)
	return out
}

// A full JID names one live session: a new one binding it replaces the
// old in the full-JID index (RFC 6120 7.7.2.2), while the old stays
// reachable by its ID until removed; removing the old does not remove
// the new; ended sessions are no destination; interest in the roster is
// per session.
func TestRegistry(t *testing.T) {
	r := router.NewRegistry[*entry]()
	phone := &entry{"s1", "ann@x", "phone"}
	laptop := &entry{"s2", "ann@x", "laptop"}
	bob := &entry{"s3", "bob@x", "r"}
	r.Add(phone)
	r.Add(laptop)
	r.Add(bob)
	if got := ids(r.All("ann@x")); !slices.Equal(got, []string{"s1", "s2"}) {
		t.Fatalf("all ann: %v", got)
	}
	if got := ids(r.All("")); len(got) != 3 {
		t.Fatalf("all: %v", got)
	}
	r.SetInterested(laptop)
	if got := ids(r.Interested("ann@x")); !slices.Equal(got, []string{"s2"}) {
		t.Fatalf("interested: %v", got)
	}

	phone2 := &entry{"s4", "ann@x", "phone"} // binds the same full JID
	r.Add(phone2)
	if r.Resource("ann@x", "phone") != phone2 || r.Get("s1") != phone {
		t.Fatal("the new session does not hold the full JID, or the old one is lost by ID")
	}
	if !r.MarkEnded(phone) || r.MarkEnded(phone) {
		t.Fatal("MarkEnded does not report the first end once")
	}
	r.Remove(phone)
	if r.Resource("ann@x", "phone") != phone2 || r.Get("s1") != nil {
		t.Fatal("removing the replaced session removed its successor, or kept itself")
	}
	if !r.MarkEnded(laptop) || !r.IsEnded(laptop) || r.Resource("ann@x", "laptop") != nil {
		t.Fatal("an ended session is still a destination")
	}
	if got := ids(r.All("ann@x")); !slices.Equal(got, []string{"s4"}) {
		t.Fatalf("all ann after ends: %v", got)
	}
	if got := ids(r.Interested("ann@x")); len(got) != 0 {
		t.Fatalf("an ended session is still interested: %v", got)
	}
	r.Remove(laptop)
	r.Remove(phone2)
	r.Remove(bob)
	if got := r.All(""); len(got) != 0 {
		t.Fatalf("left after removing all: %v", ids(got))
	}
}
