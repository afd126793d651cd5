package im

import (
	"context"
	"sync"
	"sync/atomic"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// Archiving off the actor, in order. A message to archive (archive.go)
// must not be delivered before both its copies are durable, but the
// recipient's actor need not wait for the disk meanwhile: it starts the
// appends and goes on to its next stanza, which then waits in the
// account's pipe behind the message, so what reaches the account keeps
// its order (RFC 6120 10.1) while several of its messages share one
// group commit. Each stanza in a pipe runs on the account's actor once
// it and everything before it are ready (a message: archived; anything
// else: at once); it is routed then, with the account's state of then
// (inboundNow). Only stanzas routed to the account (inbound) wait in
// its pipe; its own commands do not.

// pipes holds the pipe of every account with a message being archived.
type pipes struct {
	actors *actors
	mu     sync.Mutex // guards m and every pipe
	m      map[string]*pipe
	// open counts the pipes in m: busy needs no lock while there are none.
	open atomic.Int64
}

// pipe is one account's stanzas waiting for a message before them to be
// archived.
type pipe struct {
	steps []*pipeStep // not yet run, in arrival order
	next  int         // steps[:next] are enqueued on the actor
}

type pipeStep struct {
	ready bool
	run   command
}

func newPipes(as *actors) *pipes { return &pipes{actors: as, m: make(map[string]*pipe)} }

// busy reports whether stanzas for bare wait in its pipe. It runs on
// bare's actor, which alone adds to and runs bare's pipe, so the answer
// holds until it returns.
func (ps *pipes) busy(bare string) bool {
	if ps.open.Load() == 0 {
		return false
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.m[bare] != nil
}

// add puts st at the end of bare's pipe. It runs on bare's actor.
func (ps *pipes) add(bare string, st *pipeStep) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.m[bare]
	if p == nil {
		p = &pipe{}
		ps.m[bare] = p
		ps.open.Add(1)
	}
	p.steps = append(p.steps, st)
	ps.flush(bare, p)
}

// ready says st, in bare's pipe, may run, as run. Any goroutine.
func (ps *pipes) ready(bare string, st *pipeStep, run command) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	st.run, st.ready = run, true
	ps.flush(bare, ps.m[bare])
}

// flush enqueues on bare's actor, in order, the steps that are ready and
// have only enqueued steps before them. A step leaves the pipe when it
// runs, not when it is enqueued: a stanza that reaches the actor before
// the enqueued steps have run still finds the pipe busy and waits behind
// them. ps.mu is held.
func (ps *pipes) flush(bare string, p *pipe) {
	for p.next < len(p.steps) && p.steps[p.next].ready {
		st := p.steps[p.next]
		p.next++
		ps.actors.enqueue(bare, func(ctx context.Context) {
			ps.pop(bare)
			st.run(ctx)
		})
	}
}

// pop removes the first step of bare's pipe, the one about to run.
func (ps *pipes) pop(bare string) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.m[bare]
	p.steps[0] = nil
	p.steps = p.steps[1:]
	p.next--
	if len(p.steps) == 0 {
		delete(ps.m, bare)
		ps.open.Add(-1)
	}
}

// archiveFirst starts archiving el if it is a message XEP-0313 6.1.1
// says to archive and the account accepts it now (6.1: what is refused,
// blocked or bounced is not archived), and puts it in bare's pipe, to be
// routed once both copies are durable, or bounced with
// resource-constraint if the store refuses them. It reports whether it
// did. It runs on bare's actor.
func (s *Core) archiveFirst(bare string, el *stanza.Element, meta events.Meta, at uint64, done func()) bool {
	if s.cfg.ArchiveOff || el.Name.Local != "message" {
		return false
	}
	in := s.routeInput(bare, el, s.addrOf(el, "to"), at)
	if !archivable(el, in.Content) || stampedBy(el, bare) != nil {
		// A copy routed again (delivery.go) carries the stanza-id: it is
		// archived once (6.1.1).
		return false
	}
	fromA := s.address(el, "from")
	if dec := s.route(bare, &in, fromA); dec.Action != domain.Deliver && dec.Action != domain.StoreOffline {
		return false
	}
	keep := s.archiveCopies(bare, fromA.Bare, el)
	if !keep.in && !keep.out {
		return false // neither party keeps it (XEP-0441): routed as any message is
	}
	st := &pipeStep{}
	s.pipes.add(bare, st)
	s.actors.inflight.Add(1) // a drain waits for the archive too
	s.archive(bare, fromA.Bare, el, meta, keep, func(stamped *stanza.Element, err error) {
		defer s.actors.done()
		s.pipes.ready(bare, st, func(ctx context.Context) {
			if err != nil {
				s.bounce(el, errStoreRefused, meta)
				if done != nil {
					done()
				}
				return
			}
			s.inboundNow(ctx, bare, stamped, meta, at, done)
		})
	})
	return true
}
