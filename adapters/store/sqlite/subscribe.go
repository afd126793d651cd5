package sqlite

import (
	"context"
	"iter"
	"sync"
	"time"

	"zombiezen.com/go/sqlite"

	"xmppd/events"
)

// signal is a broadcast: wait returns a channel that is closed at the next
// broadcast. Taking the channel before looking for new rows, and waiting on
// it after, means a commit between the look and the wait is never missed.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) init() { s.ch = make(chan struct{}) }

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *signal) broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.ch)
	s.ch = make(chan struct{})
}

// runPoller watches for commits by other connections (other processes
// sharing the file) while anyone subscribes: PRAGMA data_version changes
// whenever another connection commits, and costs one cheap query.
func (s *Store) runPoller(conn *sqlite.Conn) {
	defer close(s.pollerDone)
	defer conn.Close()
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	last := int64(-1)
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		if s.subscribers.Load() == 0 {
			continue
		}
		v, err := queryInt(conn, "PRAGMA data_version")
		if err == nil && v == last {
			continue
		}
		last = v
		// This store's own writer is another connection too: its commits
		// change data_version as well. They need no wake-up (subscribers
		// have them from memory), and one would make every subscription
		// read back what it already has. Another process's commits
		// between ours show as gaps in memory (recent.after); only those
		// after our last need the poller, and then the log ends past it.
		if end, err2 := queryInt(conn, "SELECT coalesce(max(position), 0) FROM events"); err == nil && err2 == nil && uint64(end) <= s.recent.last() {
			continue
		}
		// On error, wake subscribers anyway: a spurious wake-up costs one
		// query, a missed one costs latency.
		s.recent.outside.Add(1)
		s.commits.broadcast()
	}
}

// queryInt runs a query that returns one integer.
func queryInt(conn *sqlite.Conn, query string) (int64, error) {
	stmt, err := conn.Prepare(query)
	if err != nil {
		return 0, err
	}
	defer stmt.Reset()
	if _, err = stmt.Step(); err != nil {
		return 0, err
	}
	return stmt.ColumnInt64(0), nil
}

// Subscribe implements events.Store. It always asks for rows after the last
// one delivered, so the hand-over from catching up to live is the same
// query as either: nothing is missed and nothing repeats. Positions are
// assigned inside SQLite's single write lock, so commit order is position
// order and a later query never finds a smaller position than one already
// delivered. Once caught up, this store's own commits are handed on from
// memory (recent.go); the file is read for the rest.
func (s *Store) Subscribe(ctx context.Context, from uint64) iter.Seq2[events.Envelope, error] {
	return func(yield func(events.Envelope, error) bool) {
		s.subscribers.Add(1)
		defer s.subscribers.Add(-1)
		fail := func(err error) {
			yield(events.Envelope{}, s.storeErr(ctx, "subscribe", "", -1, from, err))
		}
		next := from
		live := false // caught up: the latest commits are read here, a page at a time
		sc := newScanner()
		var seen uint64 // s.recent.outside when the file was last read
		var mem []events.Envelope
		cursor := s.recent.follow(next)
		defer s.recent.unfollow(cursor)
		for {
			if err := ctx.Err(); err != nil {
				fail(err)
				return
			}
			woken := s.commits.wait()
			if live {
				// This process's own commits come from memory. The file
				// is read only when they leave a gap (another process
				// wrote in between) or when the poller may have seen a
				// commit that is not among them.
				gap := false
				for !gap {
					mem, gap = s.recent.after(next, mem[:0])
					if len(mem) == 0 {
						break
					}
					for _, e := range mem {
						if !yield(e, nil) {
							return
						}
						next = e.Position + 1
					}
				}
				clear(mem)
				cursor.Store(next)
				if !gap && s.recent.outside.Load() == seen {
					select {
					case <-woken:
					case <-ctx.Done():
						fail(ctx.Err())
						return
					case <-s.done:
						fail(events.ErrClosed)
						return
					}
					continue
				}
			}
			seen = s.recent.outside.Load()
			if !live {
				// prefetch ends at the head as reading reached it.
				for p := range s.prefetch(ctx, next, events.ReadOptions{}, false) {
					if p.err != nil {
						fail(p.err)
						return
					}
					for _, e := range p.evs {
						if !yield(e, nil) {
							return
						}
						next = e.Position + 1
					}
					putPage(p.evs)
				}
				live = true
			} else {
				// Another process's commits (or a gap): one query on
				// this goroutine, without prefetch's head
				// query and fetcher goroutines (a tenth of the server's CPU
				// during a login storm). A full page means a backlog, which
				// goes back to prefetch without waiting.
				evs, err := s.page(ctx, sc, s.layout.all, next, pageSize, getPage())
				if err != nil {
					fail(err)
					return
				}
				for _, e := range evs {
					if !yield(e, nil) {
						return
					}
					next = e.Position + 1
				}
				full := len(evs) == pageSize
				putPage(evs)
				if full {
					live = false
					continue
				}
			}
			select {
			case <-woken:
			case <-ctx.Done():
				fail(ctx.Err())
				return
			case <-s.done:
				fail(events.ErrClosed)
				return
			}
		}
	}
}
