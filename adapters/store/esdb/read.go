package esdb

import (
	"context"
	"errors"
	"io"
	"iter"
	"math"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"xmppd/events"
)

// readAllCount asks a read for everything up to the end. The server takes
// the count as a signed 64-bit number, so math.MaxUint64 would be -1.
const readAllCount = math.MaxInt64

// ReadStream implements events.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[events.Envelope, error] {
	return func(yield func(events.Envelope, error) bool) {
		const op = "read stream"
		ver := int64(min(from, math.MaxInt64))
		c, err := s.conn(op, stream, ver, 0)
		if err != nil {
			yield(events.Envelope{}, err)
			return
		}
		if err := checkStream(stream); err != nil {
			yield(events.Envelope{}, storeError(op, stream, ver, 0, err))
			return
		}
		rs, err := c.ReadStream(ctx, stream, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: readFrom(from)}, readAllCount)
		if err != nil {
			yield(events.Envelope{}, s.fail(ctx, c, op, stream, ver, 0, err))
			return
		}
		defer rs.Close()
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if code, _ := codeOf(err); code == esdb.ErrorCodeResourceNotFound {
					return // a stream that does not exist yields nothing
				}
				yield(events.Envelope{}, s.fail(ctx, c, op, stream, ver, 0, err))
				return
			}
			if ev.Event == nil {
				continue // an unresolved link: xmppd writes none
			}
			e, err := fromRecorded(ev.Event)
			if err != nil {
				yield(events.Envelope{}, storeError(op, stream, ver, 0, err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// ReadAll implements events.Store: the events of every xmppd stream with
// Position >= from, in $all (commit) order, skipping EventStoreDB's own.
func (s *Store) ReadAll(ctx context.Context, from uint64) iter.Seq2[events.Envelope, error] {
	return func(yield func(events.Envelope, error) bool) {
		const op = "read all"
		c, err := s.conn(op, "", -1, from)
		if err != nil {
			yield(events.Envelope{}, err)
			return
		}
		start, _, err := seekAll(ctx, c, from)
		if err != nil {
			yield(events.Envelope{}, s.fail(ctx, c, op, "", -1, from, err))
			return
		}
		rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: start}, readAllCount)
		if err != nil {
			yield(events.Envelope{}, s.fail(ctx, c, op, "", -1, from, err))
			return
		}
		defer rs.Close()
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(events.Envelope{}, s.fail(ctx, c, op, "", -1, from, err))
				return
			}
			e, ok, err := fromAll(ev, from)
			if err != nil {
				yield(events.Envelope{}, storeError(op, "", -1, from, err))
				return
			}
			if ok && !yield(e, nil) {
				return
			}
		}
	}
}

// fromAll decodes an event read from $all (by a read or a subscription).
// ok is false for an event ReadAll and Subscribe do not yield: one of
// EventStoreDB's own, or one before from.
func fromAll(ev *esdb.ResolvedEvent, from uint64) (e events.Envelope, ok bool, err error) {
	rec := ev.OriginalEvent()
	if rec == nil || isSystem(rec) || positionOf(rec.Position) < from {
		return events.Envelope{}, false, nil
	}
	e, err = fromRecorded(rec)
	if err != nil {
		return events.Envelope{}, false, err
	}
	return e, true, nil
}

// seekAll finds where in $all to start so as to see every event with
// Position >= p, without relying on p being a valid $all position.
//
// EventStoreDB accepts only positions at which a log record begins: one
// in the middle of a record (p = last.Position+1, a natural way to say
// "after last") is refused as invalid, or worse, read as garbage by older
// servers. So it reads $all backwards from the end until the first record
// before p and returns that record's own position (a forward read starts
// at it, inclusively, and the caller skips it because it is before p).
// found is false when no record lies before p: then the read starts at the
// beginning. The cost is one backward pass over the events at or after p,
// which for a reader resuming near the head is a handful of records.
func seekAll(ctx context.Context, c *esdb.Client, p uint64) (start esdb.AllPosition, found bool, err error) {
	if p == 0 {
		return esdb.Start{}, false, nil
	}
	rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, readAllCount)
	if err != nil {
		return nil, false, err
	}
	defer rs.Close()
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return esdb.Start{}, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		rec := ev.OriginalEvent()
		if rec != nil && positionOf(rec.Position) < p {
			return rec.Position, true, nil
		}
	}
}

// Head implements events.HeadReader: the Position of the last xmppd event
// in $all, found by reading backwards past EventStoreDB's own events.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	const op = "head"
	c, err := s.conn(op, "", -1, 0)
	if err != nil {
		return 0, err
	}
	p, err := s.head(ctx, c)
	if err != nil {
		return 0, s.fail(ctx, c, op, "", -1, 0, err)
	}
	return p, nil
}

// head is Head without the translation of errors, for Open's check.
func (s *Store) head(ctx context.Context, c *esdb.Client) (uint64, error) {
	rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, readAllCount)
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if rec := ev.OriginalEvent(); rec != nil && !isSystem(rec) {
			return positionOf(rec.Position), nil
		}
	}
}
