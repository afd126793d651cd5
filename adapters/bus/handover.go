package bus

import (
	"sync"

	"xmppd/events"
)

// handOver carries envelopes from Publish to the consumers of an
// in-process bus by reference, instead of encoding each one to JSON for
// the message payload and decoding it again in every consumer: on one
// node that round trip was a tenth of the server's CPU under archived
// chat (issue 13), for bytes that never leave the process. It is sound
// because the GoChannel blocks each publish until every subscriber has
// acknowledged the message (NewGoChannel): the envelope is in the map
// from before the publish until after the last consumer has taken it.
// A broker-backed Pub/Sub (New) has no handOver and sends JSON.
type handOver struct {
	mu sync.Mutex
	m  map[string]*events.Envelope // by message UUID
}

func (h *handOver) put(id string, e *events.Envelope) {
	h.mu.Lock()
	h.m[id] = e
	h.mu.Unlock()
}

func (h *handOver) drop(id string) {
	h.mu.Lock()
	delete(h.m, id)
	h.mu.Unlock()
}

// take returns the envelope published as message id, or nil when there
// is none (a bus without handOver, or a message from elsewhere).
func (h *handOver) take(id string) *events.Envelope {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[id]
}
