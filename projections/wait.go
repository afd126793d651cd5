package projections

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// WaitApplied returns once Position has reached pos, or with ctx's error.
// A command that appended events waits for the position of its last one
// before it reads the views again (read-your-writes, DESIGN.md step 5).
func (v *Views) WaitApplied(ctx context.Context, pos uint64) error {
	if v.pos.Load() >= pos {
		return nil
	}
	ch := v.waits.add(pos, &v.pos)
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		v.waits.remove(ch)
		return fmt.Errorf("projections: wait for position %d (at %d): %w", pos, v.pos.Load(), ctx.Err())
	}
}

// waiters is the list of WaitApplied calls still waiting. Apply checks n
// (lock-free) after every event, so it costs nothing while nobody waits.
type waiters struct {
	n    atomic.Int32
	mu   sync.Mutex // guards list
	list []waiter
}

type waiter struct {
	pos uint64
	ch  chan struct{}
}

// add registers a wait for pos and returns the channel closed when it is
// reached, or nil if cur has reached it already. Registering before
// re-reading cur closes the race with notify: either notify sees n > 0,
// or this sees the position notify follows.
func (w *waiters) add(pos uint64, cur *atomic.Uint64) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch := make(chan struct{})
	w.list = append(w.list, waiter{pos, ch})
	w.n.Store(int32(len(w.list)))
	if cur.Load() >= pos {
		w.list = w.list[:len(w.list)-1]
		w.n.Store(int32(len(w.list)))
		return nil
	}
	return ch
}

func (w *waiters) remove(ch chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = slices.DeleteFunc(w.list, func(x waiter) bool { return x.ch == ch })
	w.n.Store(int32(len(w.list)))
}

// notify wakes every wait for a position at or before pos.
func (w *waiters) notify(pos uint64) {
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = slices.DeleteFunc(w.list, func(x waiter) bool {
		if x.pos <= pos {
			close(x.ch)
			return true
		}
		return false
	})
	w.n.Store(int32(len(w.list)))
}
