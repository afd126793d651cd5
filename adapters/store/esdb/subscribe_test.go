package esdb

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// A resubscription may deliver again records at or before the last one
// received (a server treating the start as inclusive, or overlapping
// batches): resume passes each record once, in order.
func TestResumeDeliversEachRecordOnce(t *testing.T) {
	pos := func(p uint64) esdb.Position { return esdb.Position{Commit: p, Prepare: p} }
	var r resume
	if !reflect.DeepEqual(r.from(), esdb.AllPosition(esdb.Start{})) {
		t.Fatalf("fresh resume starts from %#v, want Start", r.from())
	}
	arrivals := []struct {
		p    uint64
		want bool
	}{
		{100, true}, {250, true}, {400, true},
		// dropped after 400; the new subscription starts over from 250
		{250, false}, {400, false}, {550, true}, {700, true},
		{700, false},
	}
	for _, a := range arrivals {
		if got := r.advance(pos(a.p)); got != a.want {
			t.Errorf("advance(%d) = %v, want %v", a.p, got, a.want)
		}
	}
	if !reflect.DeepEqual(r.from(), esdb.AllPosition(pos(700))) {
		t.Errorf("resumes from %#v, want after 700", r.from())
	}
	if !r.progressed {
		t.Error("progressed not set")
	}
}

func TestResumeFromSeek(t *testing.T) {
	var r resume
	r.set(esdb.Position{Commit: 90, Prepare: 90})
	if r.advance(esdb.Position{Commit: 90, Prepare: 90}) {
		t.Error("the record found by seeking (before from) was passed on")
	}
	if !r.advance(esdb.Position{Commit: 120, Prepare: 120}) {
		t.Error("the next record was not passed on")
	}
}

func TestSleep(t *testing.T) {
	if !sleep(context.Background(), time.Millisecond) {
		t.Error("sleep with a live context returned false")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if sleep(ctx, time.Hour) {
		t.Error("sleep with a cancelled context returned true")
	}
	if time.Since(start) > time.Second {
		t.Error("sleep did not return when its context was cancelled")
	}
}

func TestCtxOr(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	other := context.DeadlineExceeded
	if got := ctxOr(ctx, other); got != other {
		t.Errorf("live context: %v", got)
	}
	cancel()
	if got := ctxOr(ctx, other); got != context.Canceled {
		t.Errorf("cancelled context: %v", got)
	}
}
