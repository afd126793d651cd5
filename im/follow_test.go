package im

import (
	"context"

	"xmppd/adapters/bus"
	"xmppd/events"
)

// followBus is Config.Follow on adapters/bus, as cmd/xmppd gives it.
func followBus(ctx context.Context, store events.Store, name string, from uint64, apply func(events.Envelope) error) (Follower, error) {
	f, err := bus.Follow(ctx, store, name, from, apply)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// FollowBus is followBus for the external tests (package im_test).
var FollowBus Follow = followBus
