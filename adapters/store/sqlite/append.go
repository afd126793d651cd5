package sqlite

import (
	"context"

	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
	"github.com/google/uuid"

	"xmppd/events"
)

// appendReq is one caller's Append on its way through the writer.
//
// Its state decides, race-free, who owns the outcome: the writer claims a
// pending request before putting it in a transaction; a caller whose context
// ends (or whose store closes) may abandon it only while it is still
// pending. So an error returned to the caller always means "not committed",
// and a claimed request is always answered.
type appendReq struct {
	stream   string
	expected events.ExpectedVersion
	evs      []events.Envelope
	bodies   [][]byte // each event's envelope column but the hash chain (appendBody)
	state    atomic.Int32
	done     chan error // buffered 1; nil error means committed
}

const (
	reqPending int32 = iota
	reqClaimed
	reqAbandoned
)

func (r *appendReq) claim() bool   { return r.state.CompareAndSwap(reqPending, reqClaimed) }
func (r *appendReq) abandon() bool { return r.state.CompareAndSwap(reqPending, reqAbandoned) }

// Append implements events.Store. It queues the events for the writer
// goroutine, which commits them with other callers' appends in one
// durable transaction, and returns once that transaction has committed.
func (s *Store) Append(ctx context.Context, stream string, expected events.ExpectedVersion, evs ...events.Envelope) ([]events.Envelope, error) {
	start := time.Now()
	fail := func(err error) ([]events.Envelope, error) {
		return nil, s.storeErr(ctx, "append", stream, int64(expected), 0, err)
	}
	switch {
	case s.closed():
		return fail(events.ErrClosed)
	case s.cfg.ReadOnly:
		return fail(errReadOnly)
	case ctx.Err() != nil:
		return fail(ctx.Err())
	}
	if err := checkAppend(stream, expected, evs); err != nil {
		return fail(err)
	}

	// The caller's slice is left alone: the store fills a copy.
	r := &appendReq{stream: stream, expected: expected, evs: make([]events.Envelope, len(evs)), done: make(chan error, 1)}
	copy(r.evs, evs)
	for i := range r.evs {
		if r.evs[i].ID == "" {
			// Version 7 UUIDs begin with the time, so new IDs land at
			// the end of the id index instead of on a random page of it:
			// each commit then rewrites a few index pages, not one per event.
			id, err := uuid.NewV7()
			if err != nil {
				return fail(fmt.Errorf("generate event id: %w", err))
			}
			r.evs[i].ID = id.String()
		}
	}
	// Encoding runs here, on the caller's goroutine, not in the writer.
	r.bodies = make([][]byte, len(r.evs))
	for i := range r.evs {
		r.bodies[i] = appendBody(make([]byte, 0, 256+len(r.evs[i].Data)), &r.evs[i])
	}

	select {
	case s.reqs <- r:
	case <-s.done:
		return fail(events.ErrClosed)
	case <-ctx.Done():
		return fail(ctx.Err())
	}

	var err error
	select {
	case err = <-r.done:
	case <-ctx.Done():
		if r.abandon() {
			return fail(ctx.Err())
		}
		err = <-r.done // claimed: the outcome is on its way
	case <-s.writerDone:
		if r.abandon() {
			return fail(events.ErrClosed)
		}
		err = <-r.done
	}
	if err != nil {
		return fail(err)
	}
	if o := s.obs.load(); o != nil {
		o.Appended(time.Since(start))
	}
	return r.evs, nil
}

// checkAppend refuses what no store should write.
func checkAppend(stream string, expected events.ExpectedVersion, evs []events.Envelope) error {
	var errs []error
	if stream == "" {
		errs = append(errs, errors.New("stream name is empty"))
	}
	if !utf8.ValidString(stream) {
		errs = append(errs, errors.New("stream name is not valid UTF-8"))
	}
	if expected < events.Any {
		errs = append(errs, fmt.Errorf("expected version %d is invalid", int64(expected)))
	}
	if len(evs) == 0 {
		errs = append(errs, errors.New("no events"))
	}
	for i := range evs {
		e := &evs[i]
		if e.Type == "" {
			errs = append(errs, fmt.Errorf("event %d has no type", i))
		}
		// Recorded is stored as Unix nanoseconds: a time outside 1678-2262
		// (the zero time, say) would come back as another time.
		if ns := e.Recorded.UnixNano(); !time.Unix(0, ns).Equal(e.Recorded) {
			errs = append(errs, fmt.Errorf("event %d: recorded time %v cannot be stored to the nanosecond", i, e.Recorded))
		}
		if err := checkEnvelope(i, e); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkEnvelope refuses an event the envelope column cannot hold exactly:
// its data must be JSON (auditors query it with json_extract) and its
// strings valid UTF-8 (JSON text would change them, and so their hash).
func checkEnvelope(i int, e *events.Envelope) error {
	var errs []error
	if !gojson.Valid(e.Data) {
		errs = append(errs, fmt.Errorf("event %d: data is not valid JSON", i))
	}
	for _, f := range [...]struct{ name, val string }{
		{"id", e.ID}, {"type", e.Type}, {"actor", e.Actor}, {"session", e.SessionID},
		{"addr", e.ClientAddr}, {"stanza id", e.StanzaID}, {"causation", e.CausationID},
		{"correlation", e.CorrelationID}, {"node", e.Node}, {"prev", e.Prev},
	} {
		if !utf8.ValidString(f.val) {
			errs = append(errs, fmt.Errorf("event %d: %s is not valid UTF-8", i, f.name))
		}
	}
	return errors.Join(errs...)
}
