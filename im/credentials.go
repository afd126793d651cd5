package im

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"xmppd/events"
)

// loginCatchUp bounds how long one login waits for the views to apply
// what the log held when the login asked for the account's credentials.
// Only that connection waits; past the bound it is answered
// <temporary-auth-failure/> (RFC 6120 6.5.12), never with an answer from
// views that may be stale.
const loginCatchUp = 2 * time.Second

// Credentials gives a transport the SCRAM keys of an account (by its
// username, already through PRECIS UsernameCaseMapped) from the views, so
// `xmppd user add/passwd/del` take effect at the next login.
//
// Another process (`xmppd user`) appends to the log, and the server's
// feed only learns of it at its next poll. A login that starts after the
// command returned must see the command's effect, whichever it was: a
// new account let in, a new password accepted and the old one refused, a
// deleted account refused. So every lookup first reads the head of the
// log and waits until the views have applied it (logHead coalesces the
// reads). Every lookup, not only one that finds no account: a wrong
// password must be judged against the current keys (passwd), a right one
// refused once the account is gone (del), and a lookup for an unknown
// name must take the same path as a known one, so the time taken does
// not tell whether the account exists (see c2s scramKeys).
func (s *Core) Credentials(ctx context.Context, username string) (events.CredentialsSet, bool, error) {
	if strings.ContainsAny(username, "@/") {
		return events.CredentialsSet{}, false, nil
	}
	if err := s.catchUpForLogin(ctx); err != nil {
		return events.CredentialsSet{}, false, err
	}
	a, ok := s.views.Accounts.Get(username + "@" + s.cfg.Domain)
	if !ok || !a.Exists {
		return events.CredentialsSet{}, false, nil
	}
	return a.Credentials, true, nil
}

// poller is an optional ability of a store whose subscriptions poll for
// other processes' commits (the embedded SQLite store): PollNow makes
// them look at once rather than at the next tick.
type poller interface{ PollNow() }

// catchUpForLogin returns once the views have applied every event the
// log held when it was called, or with an error after loginCatchUp. A
// store that cannot say where its log ends is trusted to feed the views
// promptly.
func (s *Core) catchUpForLogin(ctx context.Context) error {
	if s.heads == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, loginCatchUp)
	defer cancel()
	head, err := s.heads.head(ctx)
	if err != nil {
		return fmt.Errorf("im: read the log head for a login: %w", err)
	}
	if s.consumer.Applied() >= head {
		return nil
	}
	if p, ok := s.cfg.Store.(poller); ok {
		p.PollNow()
	}
	if err := s.consumer.WaitFor(ctx, head); err != nil {
		s.log.Warn("im: login waited for the views in vain", "head", head, "applied", s.consumer.Applied(), "err", err)
		return fmt.Errorf("im: catch up with the log for a login: %w", err)
	}
	return nil
}

// logHead reads the head of the log for many logins at once. A login
// must see every commit made before it asked, so it may not take the
// answer of a read already under way (which may have started before that
// commit); it takes the next read, which starts once the current one
// ends and serves every login that asked in between. At most one read
// runs at a time, however many logins ask: probing unknown names costs
// the store no more than one cheap query per query time.
type logHead struct {
	read    func(context.Context) (uint64, error)
	timeout time.Duration // bounds one read; it serves many logins, so no one login's context

	mu      sync.Mutex // guards running and next
	running bool       // a read is under way
	next    *headRead  // the read that starts when the current one ends, if anyone waits for it
}

// headRead is one read of the head and its result, valid once done is
// closed.
type headRead struct {
	done chan struct{}
	pos  uint64
	err  error
}

func newLogHead(store events.Store, timeout time.Duration) *logHead {
	h, ok := store.(events.HeadReader)
	if !ok {
		return nil
	}
	return &logHead{read: h.Head, timeout: timeout}
}

// head returns the position of the last event committed before head was
// called, or later.
func (h *logHead) head(ctx context.Context) (uint64, error) {
	h.mu.Lock()
	if !h.running {
		h.running = true
		h.mu.Unlock()
		r := &headRead{done: make(chan struct{})}
		h.run(r)
		return r.pos, r.err
	}
	if h.next == nil {
		h.next = &headRead{done: make(chan struct{})}
	}
	r := h.next
	h.mu.Unlock()
	select {
	case <-r.done:
		return r.pos, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// run carries out r, then starts the read the others are waiting for, if
// any, on its own goroutine (the caller has its answer and goes on).
func (h *logHead) run(r *headRead) {
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	r.pos, r.err = h.read(ctx)
	cancel()
	close(r.done)
	h.mu.Lock()
	next := h.next
	h.next = nil
	if next == nil {
		h.running = false
	}
	h.mu.Unlock()
	if next != nil {
		go h.run(next)
	}
}
