package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"xmppd/events"
)

// head is what Append needs to know about the end of a stream to extend
// its hash chain: the last version (0 for no events) and its hash.
type head struct {
	version uint64
	hash    string
}

var emptyHead = head{0, events.GenesisHash}

// headOf reads the head from the stream's last recorded event.
func headOf(rec *esdb.RecordedEvent) (head, error) {
	e, err := fromRecorded(rec)
	if err != nil {
		return head{}, err
	}
	return head{e.Version, e.Hash}, nil
}

// planAppend decides, from the head just read, whether an append expecting
// expected may go ahead, and if so seals copies of evs onto the head and
// encodes them. rev is the exact revision to append at: the head read, not
// what the caller expected, so a writer that moved the head in between
// makes the append fail instead of forking the chain.
func planAppend(stream string, h head, expected events.ExpectedVersion, evs []events.Envelope,
	newID func() uuid.UUID) (sealed []events.Envelope, data []esdb.EventData, rev esdb.ExpectedRevision, err error) {
	if expected < events.Any {
		return nil, nil, nil, fmt.Errorf("esdb: invalid expected version %d", int64(expected))
	}
	if !expected.Matches(h.version) {
		return nil, nil, nil, fmt.Errorf("%w: stream is at version %d", events.ErrConflict, h.version)
	}
	rev, err = expectedRevision(events.Exactly(h.version))
	if err != nil {
		return nil, nil, nil, err
	}
	sealed = make([]events.Envelope, len(evs))
	copy(sealed, evs)
	for i := range sealed {
		sealed[i].Position = 0
		if err := normalize(&sealed[i], newID); err != nil {
			return nil, nil, nil, fmt.Errorf("event %d: %w", i, err)
		}
	}
	events.Seal(stream, h.version, h.hash, sealed)
	data = make([]esdb.EventData, len(sealed))
	for i := range sealed {
		if data[i], err = toEventData(&sealed[i]); err != nil {
			return nil, nil, nil, err
		}
	}
	return sealed, data, rev, nil
}

// Append implements events.Store. It reads the stream's last event to learn
// the head of its hash chain, seals evs onto it, and appends them at
// exactly that revision. With events.Any, losing a race to another writer
// is retried (re-reading the head) up to Config.AppendRetries times; with
// an exact expectation it is events.ErrConflict, as it must be.
//
// Once the server has committed the events, Append reads them back to
// learn their $all positions (the append reply carries one position for
// the whole batch). If that read fails, the error says the events were
// committed; the caller's retry then sees them by version or by id.
func (s *Store) Append(ctx context.Context, stream string, expected events.ExpectedVersion, evs ...events.Envelope) ([]events.Envelope, error) {
	const op = "append"
	ver := int64(expected)
	c, err := s.conn(op, stream, ver, 0)
	if err != nil {
		return nil, err
	}
	if err := checkStream(stream); err != nil {
		return nil, storeError(op, stream, ver, 0, err)
	}
	release, err := s.locks.acquire(ctx, stream)
	if err != nil {
		return nil, storeError(op, stream, ver, 0, err)
	}
	defer release()
	for attempt := 0; ; attempt++ {
		h, err := readHead(ctx, c, stream)
		if err != nil {
			return nil, s.fail(ctx, c, op, stream, ver, 0, err)
		}
		sealed, data, rev, err := planAppend(stream, h, expected, evs, s.newID)
		if err != nil {
			return nil, storeError(op, stream, ver, 0, err)
		}
		if len(data) == 0 {
			return sealed, nil
		}
		_, err = c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: rev}, data...)
		if err == nil {
			if err := readPositions(ctx, c, stream, sealed); err != nil {
				return nil, s.fail(ctx, c, op, stream, ver, 0,
					fmt.Errorf("events committed at versions %d-%d, but reading their positions failed: %w",
						sealed[0].Version, sealed[len(sealed)-1].Version, err))
			}
			return sealed, nil
		}
		if code, _ := codeOf(err); code == esdb.ErrorCodeWrongExpectedVersion &&
			expected == events.Any && attempt < s.retries {
			// Another process extended the stream: let it finish its
			// burst before reading the head again.
			if !sleep(ctx, retryPause(attempt)) {
				return nil, s.fail(ctx, c, op, stream, ver, 0, err)
			}
			continue
		}
		return nil, s.fail(ctx, c, op, stream, ver, 0, err)
	}
}

// retryPause is the wait before retry attempt+1 of an Any append: a few
// milliseconds, doubling, with jitter so racing processes spread out.
func retryPause(attempt int) time.Duration {
	base := time.Millisecond << min(attempt, 8)
	return base + rand.N(base)
}

// readHead reads the last event of stream: one event, backwards from the end.
func readHead(ctx context.Context, c *esdb.Client, stream string) (head, error) {
	rs, err := c.ReadStream(ctx, stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil {
		return head{}, err
	}
	defer rs.Close()
	ev, err := rs.Recv()
	switch {
	case errors.Is(err, io.EOF):
		return emptyHead, nil
	case err != nil:
		if code, _ := codeOf(err); code == esdb.ErrorCodeResourceNotFound {
			return emptyHead, nil
		}
		return head{}, err
	}
	return headOf(ev.Event)
}

// readPositions fills the Position of freshly appended events by reading
// them back, checking that the events found are the ones written.
func readPositions(ctx context.Context, c *esdb.Client, stream string, sealed []events.Envelope) error {
	first := sealed[0].Version
	rs, err := c.ReadStream(ctx, stream,
		esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(revisionOf(first))}, uint64(len(sealed)))
	if err != nil {
		return err
	}
	defer rs.Close()
	for i := range sealed {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("esdb: read back %d of %d events", i, len(sealed))
		}
		if err != nil {
			return err
		}
		if err := matchWritten(&sealed[i], ev.Event); err != nil {
			return err
		}
		sealed[i].Position = positionOf(ev.Event.Position)
	}
	return nil
}

// matchWritten checks that rec, read back at e's version, is e.
func matchWritten(e *events.Envelope, rec *esdb.RecordedEvent) error {
	if rec.EventID != mustEventID(e.ID) || versionOf(rec.EventNumber) != e.Version {
		return fmt.Errorf("esdb: read back event %s at version %d, wrote %s at version %d",
			rec.EventID, versionOf(rec.EventNumber), e.ID, e.Version)
	}
	return nil
}
