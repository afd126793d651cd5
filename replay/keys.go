package replay

import (
	"context"
	"iter"

	"xmppd/events"
)

// WithKeys returns store with the key store that opens its sealed
// personal content (events.SealPersonal) attached: every function of this
// package given the result shows that content, or, where its key was
// destroyed, a marker saying it was erased or expired (never an error).
// Given a store without keys, sealed content reads as "missing".
//
// The keys ride on the store, an optional ability found by type
// assertion (STYLE.md habit 4), so that every replay and audit entry
// point keeps its signature.
func WithKeys(store events.Store, keys events.KeyLookup) events.Store {
	k := keyed{Store: store, keys: keys}
	if l, ok := store.(events.StreamHeadLister); ok {
		return keyedLister{k, l}
	}
	return k
}

type keyed struct {
	events.Store
	keys events.KeyLookup
}

func (k keyed) Keys() events.KeyLookup { return k.keys }

type keyedLister struct {
	keyed
	l events.StreamHeadLister
}

func (k keyedLister) StreamHeads(ctx context.Context) iter.Seq2[events.StreamHead, error] {
	return k.l.StreamHeads(ctx)
}

// keysOf is the key store attached to store by WithKeys, or nil.
func keysOf(store events.Store) events.KeyLookup {
	if k, ok := store.(interface{ Keys() events.KeyLookup }); ok {
		return k.Keys()
	}
	return nil
}

// goneWords is how replay and audit show content whose key is gone:
// "(erased)", "(expired)", "(missing)".
func goneWords(gone string) string { return "(" + gone + ")" }
