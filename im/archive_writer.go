package im

import (
	"context"
	"sync"

	"xmppd/events"
)

// archiveWriter appends archive.message_stored events, each archive
// stream's in the order they were submitted: an archive is in
// chronological order (XEP-0313 4.2), and concurrent appends to one
// stream could commit in any order. Each stream with work has one
// goroutine that appends, in one Append, everything submitted for the
// stream while its previous Append was committing; streams' Appends run
// side by side and share the store's group commit.
type archiveWriter struct {
	s  *Core
	mu sync.Mutex // guards m
	m  map[string]*archiveQueue
}

type archiveQueue struct {
	reqs []archiveReq // submitted, not yet appended
}

type archiveReq struct {
	p    events.ArchiveMessageStored
	meta events.Meta
	done func(error)
}

// archiveBatch bounds the events of one Append.
const archiveBatch = 256

func newArchiveWriter(s *Core) *archiveWriter {
	return &archiveWriter{s: s, m: make(map[string]*archiveQueue)}
}

// submit queues p for the archive of bare; done is called with the
// outcome once it is durable or refused, on the stream's goroutine.
func (w *archiveWriter) submit(bare string, p events.ArchiveMessageStored, meta events.Meta, done func(error)) {
	stream := events.ArchiveStream(bare)
	w.mu.Lock()
	q := w.m[stream]
	start := q == nil
	if start {
		q = &archiveQueue{}
		w.m[stream] = q
	}
	q.reqs = append(q.reqs, archiveReq{p, meta, done})
	w.mu.Unlock()
	if start {
		go w.run(stream, q)
	}
}

// run appends q's requests, a batch at a time, until none are left.
func (w *archiveWriter) run(stream string, q *archiveQueue) {
	for {
		w.mu.Lock()
		batch := q.reqs[:min(len(q.reqs), archiveBatch)]
		if len(batch) == 0 {
			delete(w.m, stream)
			w.mu.Unlock()
			return
		}
		q.reqs = q.reqs[len(batch):]
		w.mu.Unlock()
		err := w.append(stream, batch)
		for _, r := range batch {
			r.done(err)
		}
	}
}

// append records batch in stream in one Append. The archive stream's
// only writer never decides from its state, so it expects any version.
// Each message is sealed under the key of the archive's owner for the
// month (events.SealPersonal, issue 13): the sender's and the
// recipient's copies of one message are sealed apart, each under its own
// account's key, so that erasing or expiring one party's keys leaves the
// other's copy readable. A key store that fails refuses the batch, as a
// store that fails does: nothing is archived in clear instead.
func (w *archiveWriter) append(stream string, batch []archiveReq) error {
	s := w.s
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CommandTimeout)
	defer cancel()
	envs := make([]events.Envelope, len(batch))
	now := s.now().UTC()
	owner := streamAccount(stream)
	for i, r := range batch {
		var p events.Payload = r.p
		if s.cfg.Keys != nil {
			var err error
			if p, err = events.SealPersonal(p, s.cfg.Keys, owner, now); err != nil {
				s.log.Error("im: seal archived message", "stream", stream, "err", err)
				return err
			}
		}
		e, err := events.New(p, r.meta)
		if err != nil {
			return err
		}
		e.Recorded = now
		envs[i] = e
	}
	committed, err := s.cfg.Store.Append(ctx, stream, events.Any, envs...)
	if err != nil {
		s.log.Error("im: append to archive failed", "stream", stream, "events", len(envs), "err", err)
		return err
	}
	pos := committed[len(committed)-1].Position
	for {
		cur := s.archived.Load()
		if pos <= cur || s.archived.CompareAndSwap(cur, pos) {
			return nil
		}
	}
}
