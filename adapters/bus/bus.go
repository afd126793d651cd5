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
	b.inProcess = &handOver{m: make(map[string]*events.Envelope)}
	return b
}

// New returns a bus on any watermill Publisher and Subscriber that deliver
// one topic's messages in order.
func New(pub message.Publisher, sub message.Subscriber) *Bus {
	return &Bus{pub: pub, sub: sub}
}

// Publish publishes envelopes in the order given.
func (b *Bus) Publish(envs ...events.Envelope) error {
	for i := range envs {
		id := envs[i].ID
		if id == "" {
			id = watermill.NewUUID()
		}
		var payload []byte
		if b.inProcess == nil {
			var err error
			if payload, err = json.Marshal(&envs[i]); err != nil {
				return fmt.Errorf("bus: encode %s v%d: %w", envs[i].Stream, envs[i].Version, err)
			}
		} else {
			b.inProcess.put(id, &envs[i])
		}
		msg := message.NewMessage(id, payload)
		msg.Metadata.Set("type", envs[i].Type)
		msg.Metadata.Set("stream", envs[i].Stream)
		err := b.pub.Publish(Topic, msg)
		if b.inProcess != nil {
			b.inProcess.drop(id)
		}
		if err != nil {
			return fmt.Errorf("bus: publish %s v%d: %w", envs[i].Stream, envs[i].Version, err)
		}
		b.mu.Lock()
		b.published = envs[i].Position
		b.mu.Unlock()
	}
	return nil
}

// Published returns the position of the last envelope published.
func (b *Bus) Published() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.published
}

// Feed publishes every event of store from position from on, as it is
// committed, until ctx is done. Start it after every consumer has
// subscribed: GoChannel drops messages that no one is subscribed to.
func (b *Bus) Feed(ctx context.Context, store events.Store, from uint64) error {
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
