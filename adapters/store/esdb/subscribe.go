package esdb

import (
	"context"
	"iter"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"xmppd/events"
)

// Resubscription backoff after a dropped subscription: short at first (a
// leader change takes about a second), capped so a long outage costs
// little.
const (
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = 5 * time.Second
)

// Subscribe implements events.Store with a catch-up subscription to $all,
// filtered on the server to exclude system event types.
//
// The subscription starts just after the last record before from (see
// seekAll), so the hand-over from history to live events happens inside
// EventStoreDB and nothing is missed. When the subscription drops (the
// connection broke, the leader changed, the server found it too slow) it
// resubscribes after the last record it received, and skips any record at
// or before it, so it does not matter whether a server treats the start
// position as exclusive (as documented) or inclusive. Checkpoint,
// caught-up and fell-behind notices are ignored: only EventAppeared moves
// the resume point, because only its position is certain to begin a record.
func (s *Store) Subscribe(ctx context.Context, from uint64) iter.Seq2[events.Envelope, error] {
	return func(yield func(events.Envelope, error) bool) {
		const op = "subscribe"
		c, err := s.conn(op, "", -1, from)
		if err != nil {
			yield(events.Envelope{}, err)
			return
		}
		fail := func(err error) { yield(events.Envelope{}, s.fail(ctx, c, op, "", -1, from, err)) }
		r := resume{}
		seeked := false
		backoff := firstBackoff
		for {
			if c, err = s.conn(op, "", -1, from); err != nil {
				yield(events.Envelope{}, err)
				return
			}
			var sub *esdb.Subscription
			if !seeked {
				var start esdb.AllPosition
				var found bool
				if start, found, err = seekAll(ctx, c, from); err == nil {
					seeked = true
					if found {
						r.set(start.(esdb.Position))
					}
				}
			}
			if err == nil {
				sub, err = c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{
					From:   r.from(),
					Filter: esdb.ExcludeSystemEventsFilter(),
				})
			}
			if err != nil {
				// Seeking or subscribing failed: give up only on a refusal,
				// otherwise wait for the server to come back.
				if ctx.Err() != nil || s.isClosed() || permanent(err) {
					fail(ctxOr(ctx, err))
					return
				}
				s.renew(c, err)
				if !sleep(ctx, backoff) {
					fail(ctx.Err())
					return
				}
				backoff = min(2*backoff, maxBackoff)
				continue
			}
			stop, err := pump(sub, &r, from, yield)
			sub.Close()
			if stop {
				return
			}
			if err != nil {
				fail(err)
				return
			}
			// Dropped: resubscribe, first at once, then backing off.
			if ctx.Err() != nil {
				fail(ctx.Err())
				return
			}
			if s.isClosed() {
				fail(events.ErrClosed)
				return
			}
			if r.progressed {
				backoff = firstBackoff
			} else if !sleep(ctx, backoff) {
				fail(ctx.Err())
				return
			} else {
				backoff = min(2*backoff, maxBackoff)
			}
			r.progressed = false
		}
	}
}

// pump delivers one subscription's events until it drops. stop is true
// when the consumer stopped the loop; err is set when an event could not
// be decoded (which no resubscription would fix).
func pump(sub *esdb.Subscription, r *resume, from uint64, yield func(events.Envelope, error) bool) (stop bool, err error) {
	for {
		ev := sub.Recv()
		switch {
		case ev.SubscriptionDropped != nil:
			return false, nil
		case ev.EventAppeared != nil:
			rec := ev.EventAppeared.OriginalEvent()
			if rec == nil || !r.advance(rec.Position) {
				continue
			}
			e, ok, err := fromAll(ev.EventAppeared, from)
			if err != nil {
				return false, err
			}
			if ok && !yield(e, nil) {
				return true, nil
			}
		}
		// CheckPointReached, CaughtUp, FellBehind: progress notices only.
	}
}

// resume tracks the last $all record a subscription received, which is
// where a new subscription continues.
type resume struct {
	last       esdb.Position
	has        bool
	progressed bool // a record arrived since the last (re)subscription
}

func (r *resume) set(p esdb.Position) { r.last, r.has = p, true }

// from is the position to subscribe from: after the last record received,
// or the start of $all.
func (r *resume) from() esdb.AllPosition {
	if !r.has {
		return esdb.Start{}
	}
	return r.last
}

// advance records p as received and reports whether it is new: after the
// last record received, so a resubscription never delivers one twice.
func (r *resume) advance(p esdb.Position) bool {
	if r.has && !after(p, r.last) {
		return false
	}
	r.set(p)
	r.progressed = true
	return true
}

// ctxOr returns ctx's error when ctx is done (the usual reason a call
// failed then), or err.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// sleep waits d or until ctx is done, reporting whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
