package server

import (
	"sync"
	"sync/atomic"

	"mellium.im/xmpp/jid"

	"xmppd/adapters/c2s"
)

// session is what the core keeps about one bound c2s session.
type session struct {
	sess     *c2s.Session
	full     jid.JID
	fullStr  string // full.String()
	bare     string
	resource string
	// pending holds one token per stanza of this session queued on its
	// actor: when full, Stanza waits, which stops c2s reading from this
	// client (backpressure on a flooding client only; actor queues are
	// otherwise unbounded, see actors).
	pending chan struct{}
	release func() // takes a token back from pending
	// onActor counts this session's stanzas queued or running on its
	// account's actor (Stanza).
	onActor atomic.Int32
	// ack is the id of the ping that offline delivery awaits the client's
	// answer to (clientack.go), and acked is closed when it comes; both
	// guarded by ackMu.
	ackMu sync.Mutex
	ack   string
	acked chan struct{}

	// The fields below are guarded by the registry's mu.
	// interested: the resource has requested the roster, so it gets roster
	// pushes (RFC 6121 2.1.6, 2.2).
	interested bool
	// ended: the session's end has been recorded (on close, conflict,
	// shutdown); stanzas still arriving from it are dropped.
	ended bool
}

// registry maps live sessions by session ID and by full JID. It is shared
// by every actor and by c2s callbacks, and guarded by mu. A full JID names
// at most one session that has not ended: a new session binding the same
// full JID ends the old one first (RFC 6120 7.7.2.2).
type registry struct {
	mu     sync.Mutex
	byID   map[string]*session
	byBare map[string]map[string]*session // bare -> resource -> session
}

func newRegistry() *registry {
	return &registry{byID: map[string]*session{}, byBare: map[string]map[string]*session{}}
}

func (r *registry) add(x *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID[x.sess.ID()] = x
	m := r.byBare[x.bare]
	if m == nil {
		m = map[string]*session{}
		r.byBare[x.bare] = m
	}
	m[x.resource] = x
}

// get returns the session with id, or nil.
func (r *registry) get(id string) *session {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id]
}

// resource returns the live session of bare's resource, or nil.
func (r *registry) resource(bare, resource string) *session {
	r.mu.Lock()
	defer r.mu.Unlock()
	if x := r.byBare[bare][resource]; x != nil && !x.ended {
		return x
	}
	return nil
}

// all returns every live session of bare (every account if bare is "").
func (r *registry) all(bare string) []*session {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*session
	add := func(m map[string]*session) {
		for _, x := range m {
			if !x.ended {
				out = append(out, x)
			}
		}
	}
	if bare != "" {
		add(r.byBare[bare]) // not a walk over every account: it runs at each bind
		return out
	}
	for _, m := range r.byBare {
		add(m)
	}
	return out
}

// interested returns the live sessions of bare that requested the roster.
func (r *registry) interested(bare string) []*session {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*session
	for _, x := range r.byBare[bare] {
		if x.interested && !x.ended {
			out = append(out, x)
		}
	}
	return out
}

func (r *registry) setInterested(x *session) {
	r.mu.Lock()
	x.interested = true
	r.mu.Unlock()
}

// markEnded marks x ended and reports whether it was live before.
func (r *registry) markEnded(x *session) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	was := !x.ended
	x.ended = true
	return was
}

func (r *registry) isEnded(x *session) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return x.ended
}

// remove forgets x (and its full JID, unless a newer session holds it).
func (r *registry) remove(x *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.byID, x.sess.ID())
	if m := r.byBare[x.bare]; m[x.resource] == x {
		delete(m, x.resource)
		if len(m) == 0 {
			delete(r.byBare, x.bare)
		}
	}
}
