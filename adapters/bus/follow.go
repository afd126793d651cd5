package bus

import (
	"context"
	"errors"
	"fmt"

	"xmppd/events"
)

// Following is one reader of the log kept up to date: a bus of its own,
// fed from a store, and one consumer applying every event in order. It
// is what the IM core follows the log with (im.Follower).
type Following struct {
	*Consumer
	bus      *Bus
	stop     context.CancelFunc
	feedDone chan error
}

// Follow starts following store after position from with apply, on an
// in-process bus (watermill's GoChannel), under the consumer name name.
// It returns at once; the feed and the consumer run until Stop, or until
// ctx ends, or until apply fails (Done, Err).
func Follow(ctx context.Context, store events.Store, name string, from uint64, apply Apply) (*Following, error) {
	ctx, stop := context.WithCancel(ctx)
	b := NewGoChannel(nil)
	cons, err := b.Subscribe(ctx, name, from, apply)
	if err != nil {
		stop()
		return nil, errors.Join(fmt.Errorf("bus: follow the log: %w", err), b.Close())
	}
	f := &Following{Consumer: cons, bus: b, stop: stop, feedDone: make(chan error, 1)}
	go func() { f.feedDone <- b.Feed(ctx, store, from+1) }()
	return f, nil
}

// Stop stops following and waits for the consumer and the feed; it
// returns the feed's error, if any. Stop is called once.
func (f *Following) Stop() error {
	f.stop()
	<-f.Consumer.Done()
	err := <-f.feedDone
	return errors.Join(err, f.bus.Close())
}
