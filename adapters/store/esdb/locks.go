package esdb

import (
	"context"
	"sync"
)

// streamLocks serializes the appends of this process to one stream.
//
// Append reads the head and then writes at exactly that revision, so two
// appends to a stream racing in one process would make one of them fail
// (ErrConflict) or retry (Any), although nothing outside the process
// interfered. Taking the stream's lock around read-and-write removes that
// race; only writers in other processes can still conflict. Waiting for
// the lock respects ctx. Entries live only while someone holds or waits.
type streamLocks struct {
	mu sync.Mutex
	m  map[string]*streamLock
}

type streamLock struct {
	held  chan struct{} // a token in the channel means held
	users int           // holders and waiters; guarded by streamLocks.mu
}

// acquire waits for stream's lock or for ctx to end.
func (l *streamLocks) acquire(ctx context.Context, stream string) (release func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*streamLock)
	}
	e := l.m[stream]
	if e == nil {
		e = &streamLock{held: make(chan struct{}, 1)}
		l.m[stream] = e
	}
	e.users++
	l.mu.Unlock()

	select {
	case e.held <- struct{}{}:
		return func() {
			<-e.held
			l.leave(stream, e)
		}, nil
	case <-ctx.Done():
		l.leave(stream, e)
		return nil, ctx.Err()
	}
}

func (l *streamLocks) leave(stream string, e *streamLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.users--
	if e.users == 0 {
		delete(l.m, stream)
	}
}

// size returns how many streams have holders or waiters (for tests).
func (l *streamLocks) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
