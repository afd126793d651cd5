package router

import "sync"

// Key is how the Registry files an entry: by session ID, and by bare JID
// and resource.
type Key struct {
	ID       string // the session's ID
	Bare     string // the account's bare JID, canonical
	Resource string
}

// Entry is what the core keeps about one bound session; the Registry
// files it by its Key, which must not change while it is filed.
type Entry interface {
	comparable
	Key() Key
}

// Registry maps the bound sessions of this node by session ID and by full
// JID. A full JID names at most one session that has not ended: the core
// ends an old session before a new one binds the same full JID (RFC 6120
// section 7.7.2.2). Safe for concurrent use.
type Registry[E Entry] struct {
	mu     sync.Mutex
	byID   map[string]*slot[E]
	byBare map[string]map[string]*slot[E] // bare -> resource -> slot
}

// slot is one entry and what the Registry knows of it.
type slot[E Entry] struct {
	e E
	// interested: the resource has requested the roster, so it gets roster
	// pushes (RFC 6121 2.1.6, 2.2).
	interested bool
	// ended: the session's end has been recorded (on close, conflict,
	// shutdown); it is no longer a destination.
	ended bool
}

// NewRegistry returns an empty Registry.
func NewRegistry[E Entry]() *Registry[E] {
	return &Registry[E]{byID: map[string]*slot[E]{}, byBare: map[string]map[string]*slot[E]{}}
}

// Add files e, in place of any entry with the same full JID.
func (r *Registry[E]) Add(e E) {
	k := e.Key()
	x := &slot[E]{e: e}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID[k.ID] = x
	m := r.byBare[k.Bare]
	if m == nil {
		m = map[string]*slot[E]{}
		r.byBare[k.Bare] = m
	}
	m[k.Resource] = x
}

// Get returns the entry of session id, ended or not; the zero E if none.
func (r *Registry[E]) Get(id string) (e E) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if x := r.byID[id]; x != nil {
		return x.e
	}
	return e
}

// Resource returns the live session of bare's resource; the zero E if
// none.
func (r *Registry[E]) Resource(bare, resource string) (e E) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if x := r.byBare[bare][resource]; x != nil && !x.ended {
		return x.e
	}
	return e
}

// All returns every live session of bare (of every account if bare is "").
func (r *Registry[E]) All(bare string) []E {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []E
	add := func(m map[string]*slot[E]) {
		for _, x := range m {
			if !x.ended {
				out = append(out, x.e)
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

// Each calls fn with every live session of bare, under the registry's
// lock, without building a list: fn must be quick and must not call back
// into the registry. It is for the hot paths that usually find nothing
// (a message's carbon copies).
func (r *Registry[E]) Each(bare string, fn func(E)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.byBare[bare] {
		if !x.ended {
			fn(x.e)
		}
	}
}

// Interested returns the live sessions of bare that requested the roster.
func (r *Registry[E]) Interested(bare string) []E {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []E
	for _, x := range r.byBare[bare] {
		if x.interested && !x.ended {
			out = append(out, x.e)
		}
	}
	return out
}

// SetInterested marks e as having requested the roster.
func (r *Registry[E]) SetInterested(e E) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if x := r.find(e); x != nil {
		x.interested = true
	}
}

// MarkEnded marks e ended and reports whether it was live before.
func (r *Registry[E]) MarkEnded(e E) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	x := r.find(e)
	if x == nil || x.ended {
		return false
	}
	x.ended = true
	return true
}

// IsEnded reports whether e was marked ended or is no longer filed.
func (r *Registry[E]) IsEnded(e E) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	x := r.find(e)
	return x == nil || x.ended
}

// Remove forgets e (and its full JID, unless a newer session holds it).
func (r *Registry[E]) Remove(e E) {
	k := e.Key()
	r.mu.Lock()
	defer r.mu.Unlock()
	if x := r.byID[k.ID]; x != nil && x.e == e {
		delete(r.byID, k.ID)
	}
	if m := r.byBare[k.Bare]; m[k.Resource] != nil && m[k.Resource].e == e {
		delete(m, k.Resource)
		if len(m) == 0 {
			delete(r.byBare, k.Bare)
		}
	}
}

// find returns e's slot, or nil if e is not filed. r.mu is held.
func (r *Registry[E]) find(e E) *slot[E] {
	if x := r.byID[e.Key().ID]; x != nil && x.e == e {
		return x
	}
	return nil
}
