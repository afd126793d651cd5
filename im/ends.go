package im

import (
	"context"
	"sync"
	"time"

	"xmppd/events"
)

// Session ends the store refused (a full disk) are not forgotten: RFC
// 6121 4.5.2 requires the unavailable broadcast, and a session the log
// shows open would look online to its contacts forever. The session
// leaves the registry at once (the router treats its resource as gone,
// delivery.go), its end waits here, and it is recorded, and broadcast,
// as soon as the store takes writes again: by retries on a timer, before
// a new session binds the same resource, and at shutdown. What is still
// waiting when the process stops is ended by the next start
// (recoverSessions: the log shows it open on this node).

// pendingEnd is a session end not yet recorded.
type pendingEnd struct {
	bare string
	end  events.SessionEnded
	meta events.Meta
}

// pendingEnds holds them by session id; guarded by mu.
type pendingEnds struct {
	mu   sync.Mutex
	m    map[string]pendingEnd
	kick chan struct{} // wakes the retry loop
}

func newPendingEnds() *pendingEnds {
	return &pendingEnds{m: map[string]pendingEnd{}, kick: make(chan struct{}, 1)}
}

func (p *pendingEnds) add(id string, e pendingEnd) {
	p.mu.Lock()
	p.m[id] = e
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// take removes and returns the pending ends of bare (every account's if
// bare is ""), and of resource too if it is not "".
func (p *pendingEnds) take(bare, resource string) map[string]pendingEnd {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]pendingEnd{}
	for id, e := range p.m {
		if (bare == "" || e.bare == bare) && (resource == "" || e.end.Resource == resource) {
			out[id] = e
			delete(p.m, id)
		}
	}
	return out
}

func (p *pendingEnds) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

// recordPendingEnds records the pending ends of bare's resource (all of
// bare's if resource is ""), on bare's actor; those that fail again stay
// pending. It returns the first error.
func (s *Core) recordPendingEnds(ctx context.Context, bare, resource string) error {
	var first error
	for id, e := range s.ends.take(bare, resource) {
		if err := s.recordEnd(ctx, e.bare, e.end, e.meta); err != nil {
			s.ends.add(id, e)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// endRetryMin and endRetryMax bound the wait between retries.
const (
	endRetryMin = 500 * time.Millisecond
	endRetryMax = 5 * time.Second
)

// retryEnds retries the pending ends until ctx is done, backing off while
// the store keeps refusing.
func (s *Core) retryEnds(ctx context.Context) {
	wait := endRetryMin
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		if s.ends.len() == 0 {
			wait = endRetryMin
			select {
			case <-ctx.Done():
				return
			case <-s.ends.kick:
			}
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if s.retryAllEnds(ctx) == nil {
			wait = endRetryMin
			continue
		}
		wait = min(wait*2, endRetryMax)
	}
}

// retryAllEnds tries every pending end once, each on its account's actor.
func (s *Core) retryAllEnds(ctx context.Context) error {
	accounts := map[string]bool{}
	s.ends.mu.Lock()
	for _, e := range s.ends.m {
		accounts[e.bare] = true
	}
	s.ends.mu.Unlock()
	var first error
	for bare := range accounts {
		err := s.actors.do(ctx, bare, func(ctx context.Context) error { return s.recordPendingEnds(ctx, bare, "") })
		if err != nil && first == nil {
			first = err
		}
	}
	if first == nil && len(accounts) > 0 {
		s.log.Info("im: recorded session ends the store had refused", "accounts", len(accounts))
	}
	return first
}
