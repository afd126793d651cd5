package server

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// command is one unit of work for an account. It runs on the account's
// actor, alone among that account's commands.
type command func(ctx context.Context)

// actors runs each account's commands one at a time, in the order they
// were enqueued (DESIGN.md flow step 2). An account's actor is a goroutine
// that exists only while the account has work queued: it is started by the
// first enqueue and ends when its queue is empty, so idle accounts cost
// nothing.
//
// Queues are unbounded on purpose: a command often enqueues commands on
// other accounts (a subscription request recorded on the contact's side),
// and a bounded queue there could deadlock two accounts that write to each
// other. Clients are limited upstream (c2s reads one stanza at a time per
// session and handing it over never blocks).
type actors struct {
	log *slog.Logger

	mu sync.Mutex // guards m and each actor's queue and running
	m  map[string]*actor
	// inflight counts commands enqueued and not finished: drain waits for
	// it. A command that enqueues another does so before it finishes, so
	// the count cannot reach zero while work remains.
	inflight sync.WaitGroup
	ctx      context.Context // commands run with a context derived from it
	timeout  time.Duration
}

type actor struct {
	queue   []command
	running bool
}

func newActors(log *slog.Logger) *actors {
	return &actors{log: log, m: map[string]*actor{}, ctx: context.Background(), timeout: DefaultCommandTimeout}
}

// enqueue adds fn to bare's queue and returns at once.
func (as *actors) enqueue(bare string, fn command) {
	as.inflight.Add(1)
	as.mu.Lock()
	defer as.mu.Unlock()
	a := as.m[bare]
	if a == nil {
		a = &actor{}
		as.m[bare] = a
	}
	a.queue = append(a.queue, fn)
	if !a.running {
		a.running = true
		go as.run(bare, a)
	}
}

// do runs fn on bare's actor and waits for its result, or for ctx.
func (as *actors) do(ctx context.Context, bare string, fn func(ctx context.Context) error) error {
	done := make(chan error, 1)
	as.enqueue(bare, func(ctx context.Context) { done <- fn(ctx) })
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("server: command for %s: %w", bare, ctx.Err())
	}
}

func (as *actors) run(bare string, a *actor) {
	for {
		as.mu.Lock()
		if len(a.queue) == 0 {
			a.running = false
			delete(as.m, bare)
			as.mu.Unlock()
			return
		}
		fn := a.queue[0]
		a.queue[0] = nil
		a.queue = a.queue[1:]
		as.mu.Unlock()
		as.exec(bare, fn)
	}
}

// exec runs one command with its own deadline. A panic in one command is
// logged and does not take the account's actor (or the process) down.
func (as *actors) exec(bare string, fn command) {
	defer as.inflight.Done()
	defer func() {
		if r := recover(); r != nil {
			as.log.Error("server: command panicked", "account", bare, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	ctx, cancel := context.WithTimeout(as.ctx, as.timeout)
	defer cancel()
	fn(ctx)
}

// drain waits until every queued command has finished, or ctx is done.
func (as *actors) drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		as.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("server: drain commands: %w", ctx.Err())
	}
}
