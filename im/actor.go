package im

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// command is one unit of work for an account. It runs on the account's
// actor, alone among that account's commands.
type command func(ctx context.Context)

// actors runs each account's commands one at a time, in the order they
// were enqueued (DESIGN.md flow step 2). An account's actor is a goroutine
// that exists only while the account has work queued: it is started by the
// first enqueue and ends when its queue is empty, so idle accounts cost
// nothing (a goroutine that ran one waits a second for another account's
// work, then ends).
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
	// it to reach zero (drained, guarded by mu, holds the waiters). A
	// command that enqueues another does so before it finishes, so the
	// count cannot reach zero while work remains. (Not a WaitGroup: the
	// count returns to zero and rises again while a drain may be waiting,
	// which a WaitGroup forbids.)
	inflight atomic.Int64
	drained  []chan struct{}
	ctx      context.Context // commands run with a context derived from it
	timeout  time.Duration
	// spare hands an account whose actor must start to a goroutine that
	// ran another account's actor and is waiting, for up to workerIdle,
	// for more work. A presence broadcast starts an actor on each of
	// its contacts; without spares each is a fresh goroutine whose stack
	// grows again (about 8% of the server's CPU in a fan-out).
	spare chan actorJob
}

// workerIdle is how long a goroutine whose actor ran out of work waits
// for another account's actor before it ends.
const workerIdle = time.Second

type actorJob struct {
	bare string
	a    *actor
}

type actor struct {
	queue   []command
	running bool
}

func newActors(log *slog.Logger) *actors {
	return &actors{log: log, m: map[string]*actor{}, ctx: context.Background(), timeout: DefaultCommandTimeout, spare: make(chan actorJob)}
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
		as.start(bare, a)
	}
}

// start runs a's queue on a goroutine: a spare one if one waits, a new
// one if not. as.mu is held.
func (as *actors) start(bare string, a *actor) {
	select {
	case as.spare <- actorJob{bare, a}: // an idle worker takes it
	default:
		go as.work(actorJob{bare, a})
	}
}

// work runs actors, one at a time: the one it was started for, then any
// handed to it while it waits idle, until it has waited workerIdle.
func (as *actors) work(j actorJob) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		as.run(j.bare, j.a)
		idle.Reset(workerIdle)
		select {
		case j = <-as.spare:
		case <-idle.C:
			return
		}
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
		return fmt.Errorf("im: command for %s: %w", bare, ctx.Err())
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
	defer as.done()
	defer func() {
		if r := recover(); r != nil {
			as.log.Error("im: command panicked", "account", bare, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	ctx := newCommandContext(as.ctx, time.Now().Add(as.timeout))
	defer ctx.stop()
	fn(ctx)
}

// commandContext is a command's context: its parent's values and
// cancellation and a deadline, as context.WithDeadline gives, except that
// the timer and the registration with the parent that enforce them are
// made only when the command first asks for Done, Err or AfterFunc. Most
// commands never do (a message handed to a session's queue), and for
// them context.WithDeadline was a good part of the work. stop is the
// CancelFunc: it cancels the context, even if it is only made later.
type commandContext struct {
	parent   context.Context
	deadline time.Time

	mu      sync.Mutex
	timed   atomic.Pointer[timedContext] // nil until needed
	stopped bool
}

type timedContext struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func newCommandContext(parent context.Context, deadline time.Time) *commandContext {
	if d, ok := parent.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return &commandContext{parent: parent, deadline: deadline}
}

// ctx returns the context.WithDeadline this context stands for, making it
// on first use.
func (c *commandContext) ctx() context.Context {
	if t := c.timed.Load(); t != nil {
		return t.ctx
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.timed.Load(); t != nil {
		return t.ctx
	}
	ctx, cancel := context.WithDeadline(c.parent, c.deadline)
	if c.stopped {
		cancel()
	}
	c.timed.Store(&timedContext{ctx, cancel})
	return ctx
}

func (c *commandContext) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	if t := c.timed.Load(); t != nil {
		t.cancel()
	}
}

func (c *commandContext) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *commandContext) Done() <-chan struct{}       { return c.ctx().Done() }
func (c *commandContext) Err() error                  { return c.ctx().Err() }

// Value answers from the made context once there is one (so that
// context.Cause sees its deadline), from the parent before.
func (c *commandContext) Value(key any) any {
	if t := c.timed.Load(); t != nil {
		return t.ctx.Value(key)
	}
	return c.parent.Value(key)
}

// AfterFunc lets contexts derived from this one follow its cancellation
// without a goroutine each (context.AfterFunc's afterFuncer).
func (c *commandContext) AfterFunc(f func()) func() bool {
	return context.AfterFunc(c.ctx(), f)
}

func (c *commandContext) String() string { return "server.commandContext" }

// done counts one command finished, and wakes the drains once none is
// left.
func (as *actors) done() {
	if as.inflight.Add(-1) != 0 {
		return
	}
	as.mu.Lock()
	if as.inflight.Load() == 0 {
		for _, ch := range as.drained {
			close(ch)
		}
		as.drained = nil
	}
	as.mu.Unlock()
}

// drain waits until every queued command has finished, or ctx is done.
func (as *actors) drain(ctx context.Context) error {
	as.mu.Lock()
	if as.inflight.Load() == 0 {
		as.mu.Unlock()
		return nil
	}
	done := make(chan struct{})
	as.drained = append(as.drained, done)
	as.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("im: drain commands: %w", ctx.Err())
	}
}
