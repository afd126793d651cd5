package bus

import (
	"context"
	"fmt"
	json "github.com/goccy/go-json"
	"sync"

	"xmppd/events"
)

// Apply is a consumer's handler. It is called from one goroutine, in log
// order, once per position. An error stops the consumer: a projection that
// cannot apply an event must not silently skip it.
type Apply func(events.Envelope) error

// Consumer applies the bus's envelopes with one handler and records how far
// it has got.
type Consumer struct {
	name string

	mu      sync.Mutex
	applied uint64
	err     error
	waiters []waiter
	done    chan struct{}
}

type waiter struct {
	pos uint64
	ch  chan struct{}
}

// Subscribe starts a consumer named name that has already applied every
// position up to and including applied (for example after rebuilding its
// view from the store), and applies later ones with fn until ctx is done.
func (b *Bus) Subscribe(ctx context.Context, name string, applied uint64, fn Apply) (*Consumer, error) {
	msgs, err := b.sub.Subscribe(ctx, Topic)
	if err != nil {
		return nil, fmt.Errorf("bus: subscribe %s: %w", name, err)
	}
	c := &Consumer{name: name, applied: applied, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for msg := range msgs {
			// A stopped consumer still acknowledges what it is sent: the bus
			// blocks each publish until every subscriber acknowledges, and
			// one failed projection must not stall the others.
			if c.Err() == nil {
				c.consume(b.inProcess.take(msg.UUID), msg.Payload, msg.UUID, fn)
			}
			msg.Ack()
		}
		c.fail(context.Cause(ctx))
	}()
	return c, nil
}

// consume applies one message's envelopes: shared, those handed over
// in process, if any (read only: every consumer gets the same), or else
// the one its payload encodes.
func (c *Consumer) consume(shared []events.Envelope, payload []byte, uuid string, fn Apply) {
	if shared != nil {
		for _, e := range shared {
			if !c.apply(e, fn) {
				return
			}
		}
		return
	}
	var e events.Envelope
	if err := json.Unmarshal(payload, &e); err != nil {
		c.fail(fmt.Errorf("bus: %s: decode message %s: %w", c.name, uuid, err))
		return
	}
	c.apply(e, fn)
}

// apply applies e unless it was already, reporting whether the consumer
// goes on.
func (c *Consumer) apply(e events.Envelope, fn Apply) bool {
	if e.Position <= c.Applied() {
		return true
	}
	if err := fn(e); err != nil {
		c.fail(fmt.Errorf("bus: %s: apply %s v%d (position %d): %w", c.name, e.Stream, e.Version, e.Position, err))
		return false
	}
	c.advance(e.Position)
	return true
}

// Name returns the consumer's name.
func (c *Consumer) Name() string { return c.name }

// Applied returns the position of the last envelope applied.
func (c *Consumer) Applied() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.applied
}

// Err returns why the consumer stopped, or nil while it runs.
func (c *Consumer) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Done is closed when the consumer stops.
func (c *Consumer) Done() <-chan struct{} { return c.done }

// WaitFor returns once every position up to and including pos has been
// applied, or with an error when ctx is done or the consumer stopped first.
func (c *Consumer) WaitFor(ctx context.Context, pos uint64) error {
	c.mu.Lock()
	if c.applied >= pos {
		c.mu.Unlock()
		return nil
	}
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return fmt.Errorf("bus: %s stopped before position %d: %w", c.name, pos, err)
	}
	w := waiter{pos, make(chan struct{})}
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()
	select {
	case <-w.ch:
		if c.Applied() >= pos {
			return nil
		}
		return fmt.Errorf("bus: %s stopped before position %d: %w", c.name, pos, c.Err())
	case <-ctx.Done():
		c.forget(w)
		return fmt.Errorf("bus: %s: wait for position %d: %w", c.name, pos, ctx.Err())
	}
}

// forget drops a waiter that gave up, so that waits which time out while
// the consumer is behind (a login waiting for the views, bounded) do not
// pile up until it catches up.
func (c *Consumer) forget(w waiter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.waiters {
		if c.waiters[i].ch == w.ch {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			return
		}
	}
}

func (c *Consumer) advance(pos uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applied = pos
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.pos <= pos {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func (c *Consumer) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		err = context.Canceled
	}
	if c.err == nil {
		c.err = err
	}
	for _, w := range c.waiters {
		close(w.ch)
	}
	c.waiters = nil
}
