package bus

import (
	"context"
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"xmppd/events"
)

// Topic is the one topic committed envelopes are published on.
const Topic = "xmppd.events"

// Bus carries committed envelopes from a Feed to Consumers.
type Bus struct {
	pub message.Publisher
	sub message.Subscriber

	mu        sync.Mutex
	published uint64 // position of the last envelope published

	// inProcess is set on a bus whose Pub/Sub is the in-process
	// GoChannel (NewGoChannel): see handOver.
	inProcess *handOver
}

// NewGoChannel returns a single-node bus on watermill's in-process GoChannel.
func NewGoChannel(logger watermill.LoggerAdapter) *Bus {
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	gc := gochannel.NewGoChannel(gochannel.Config{
		OutputChannelBuffer:            256,
		BlockPublishUntilSubscriberAck: true, // keeps log order; see doc.go
	}, logger)
	b := New(gc, gc)
	b.inProcess = &handOver{m: make(map[string][]events.Envelope)}
	return b
}

// New returns a bus on any watermill Publisher and Subscriber that deliver
// one topic's messages in order.
func New(pub message.Publisher, sub message.Subscriber) *Bus {
	return &Bus{pub: pub, sub: sub}
}

// Publish publishes envelopes in the order given: on an in-process bus
// as one message (handover.go), on any other one message each.
func (b *Bus) Publish(envs ...events.Envelope) error {
	if len(envs) == 0 {
		return nil
	}
	if b.inProcess != nil {
		id := watermill.NewUUID()
		b.inProcess.put(id, envs)
		err := b.pub.Publish(Topic, message.NewMessage(id, nil))
		b.inProcess.drop(id)
		if err != nil {
			return fmt.Errorf("bus: publish %s v%d and %d after it: %w", envs[0].Stream, envs[0].Version, len(envs)-1, err)
		}
		b.setPublished(envs[len(envs)-1].Position)
		return nil
	}
	for i := range envs {
		id := envs[i].ID
		if id == "" {
			id = watermill.NewUUID()
		}
		payload, err := json.Marshal(&envs[i])
		if err != nil {
			return fmt.Errorf("bus: encode %s v%d: %w", envs[i].Stream, envs[i].Version, err)
		}
		msg := message.NewMessage(id, payload)
		msg.Metadata.Set("type", envs[i].Type)
		msg.Metadata.Set("stream", envs[i].Stream)
		if err := b.pub.Publish(Topic, msg); err != nil {
			return fmt.Errorf("bus: publish %s v%d: %w", envs[i].Stream, envs[i].Version, err)
		}
		b.setPublished(envs[i].Position)
	}
	return nil
}

func (b *Bus) setPublished(pos uint64) {
	b.mu.Lock()
	b.published = pos
	b.mu.Unlock()
}

// Published returns the position of the last envelope published.
func (b *Bus) Published() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.published
}

// Feed publishes every event of store from position from on, as it is
// committed, until ctx is done. Start it after every consumer has
// subscribed: GoChannel drops messages that no one is subscribed to. On
// an in-process bus, what is committed while one batch is being applied
// goes out as the next batch (feedBatches).
func (b *Bus) Feed(ctx context.Context, store events.Store, from uint64) error {
	if b.inProcess != nil {
		return b.feedBatches(ctx, store, from)
	}
	for e, err := range store.Subscribe(ctx, from) {
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("bus: feed: %w", err)
		}
		if err := b.Publish(e); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the publisher and the subscriber.
func (b *Bus) Close() error {
	err := b.pub.Close()
	if any(b.sub) != any(b.pub) {
		err = errors.Join(err, b.sub.Close())
	}
	return err
}
