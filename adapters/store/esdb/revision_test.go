package esdb

import (
	"math"
	"reflect"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"xmppd/events"
)

func TestVersionRevision(t *testing.T) {
	for _, tc := range []struct{ revision, version uint64 }{
		{0, 1}, {1, 2}, {41, 42}, {math.MaxUint64 - 1, math.MaxUint64},
	} {
		if got := versionOf(tc.revision); got != tc.version {
			t.Errorf("versionOf(%d) = %d, want %d", tc.revision, got, tc.version)
		}
		if got := revisionOf(tc.version); got != tc.revision {
			t.Errorf("revisionOf(%d) = %d, want %d", tc.version, got, tc.revision)
		}
	}
}

func TestExpectedRevision(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      events.ExpectedVersion
		want    esdb.ExpectedRevision
		wantErr bool
	}{
		{"any", events.Any, esdb.Any{}, false},
		{"no stream", events.NoStream, esdb.NoStream{}, false},
		{"exactly 0 is no stream", events.Exactly(0), esdb.NoStream{}, false},
		{"exactly 1 is revision 0", events.Exactly(1), esdb.Revision(0), false},
		{"exactly 10 is revision 9", events.Exactly(10), esdb.Revision(9), false},
		{"invalid", events.ExpectedVersion(-2), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := expectedRevision(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("expectedRevision(%v) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}

func TestReadFrom(t *testing.T) {
	for _, tc := range []struct {
		from uint64
		want esdb.StreamPosition
	}{
		{0, esdb.Start{}}, {1, esdb.Start{}}, {2, esdb.Revision(1)}, {100, esdb.Revision(99)},
	} {
		if got := readFrom(tc.from); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("readFrom(%d) = %#v, want %#v", tc.from, got, tc.want)
		}
	}
}

func TestPositionOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   esdb.Position
		want uint64
	}{
		{"implicitly committed event: commit = prepare", esdb.Position{Commit: 1234, Prepare: 1234}, 1234},
		{"commit wins when they differ", esdb.Position{Commit: 2000, Prepare: 1500}, 2000},
		{"no commit position: prepare stands in", esdb.Position{Commit: math.MaxUint64, Prepare: 777}, 777},
		{"neither known", esdb.Position{Commit: math.MaxUint64, Prepare: math.MaxUint64}, 0},
		{"first record of the log", esdb.Position{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := positionOf(tc.in); got != tc.want {
				t.Errorf("positionOf(%+v) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestAfter(t *testing.T) {
	pos := func(c, p uint64) esdb.Position { return esdb.Position{Commit: c, Prepare: p} }
	for _, tc := range []struct {
		a, b esdb.Position
		want bool
	}{
		{pos(200, 200), pos(100, 100), true},
		{pos(100, 100), pos(200, 200), false},
		{pos(100, 100), pos(100, 100), false},
		// Events of one legacy transaction share a commit position and are
		// ordered by prepare position.
		{pos(500, 300), pos(500, 200), true},
		{pos(500, 200), pos(500, 300), false},
		{pos(600, 100), pos(500, 400), true},
	} {
		if got := after(tc.a, tc.b); got != tc.want {
			t.Errorf("after(%+v, %+v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
