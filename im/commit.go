package im

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

// maxAttempts bounds how often a command decides again after losing an
// optimistic-concurrency race (another writer appended to the stream
// between our read and our append: `xmppd user` in another process).
const maxAttempts = 5

// decider is a pure decision over one account's roster and presence view.
// It runs under the views' read lock (projections.Views.WithAccount): it
// must not block.
type decider func(a *domain.Account, p *domain.PresenceView) (domain.Decision, error)

// execute decides for the account bare and appends the decision's events
// to stream (DESIGN.md flow steps 3 to 5): the expected version is read
// before the views, the events carry meta, an ErrConflict makes it catch
// up and decide again, and it returns only once the views have applied
// the events, so the effects and the next command see them. On success
// meta.CausationID becomes the ID of the last event appended: whatever the
// effects record elsewhere (the contact's side of a subscription, an
// offline message) names the event that caused it. It must run on bare's
// actor.
func (s *Core) execute(ctx context.Context, bare, stream string, meta *events.Meta, decide decider) (domain.Decision, error) {
	for attempt := 1; ; attempt++ {
		expected, err := s.expected(ctx, bare, stream)
		if err != nil {
			return domain.Decision{}, err
		}
		d, err := s.decide(bare, decide)
		if err != nil || len(d.Events) == 0 {
			return d, err
		}
		committed, err := s.append(ctx, stream, events.Exactly(expected), *meta, d.Events)
		if errors.Is(err, events.ErrConflict) && attempt < maxAttempts {
			if err := s.catchUp(ctx, stream); err != nil {
				return domain.Decision{}, err
			}
			continue
		}
		if err != nil {
			if errors.Is(err, events.ErrConflict) {
				// The store's head keeps differing from the views': a
				// log altered behind the server (a removed tail) looks
				// like this. The requester only sees internal-server-error.
				s.log.Error("im: append keeps conflicting", "stream", stream, "expected", expected, "attempts", attempt, "err", err)
			}
			return domain.Decision{}, err
		}
		last := committed[len(committed)-1]
		if err := s.consumer.WaitFor(ctx, last.Position); err != nil {
			return domain.Decision{}, fmt.Errorf("im: wait for views: %w", err)
		}
		meta.CausationID = last.ID
		return d, nil
	}
}

// decide runs fn on the account's current state; an account the log knows
// nothing about is the empty state (it does not exist).
func (s *Core) decide(bare string, fn decider) (d domain.Decision, err error) {
	if !s.views.WithAccount(bare, func(a *domain.Account, p *domain.PresenceView) { d, err = fn(a, p) }) {
		j, perr := jid.Parse(bare)
		if perr != nil {
			return domain.Decision{}, fmt.Errorf("im: account %q: %w", bare, perr)
		}
		d, err = fn(domain.NewAccount(j, s.cfg.Policy), domain.NewPresenceView())
	}
	return d, err
}

// expected is the version the stream has in the views.
func (s *Core) expected(ctx context.Context, bare, stream string) (uint64, error) {
	if stream == events.AccountStream(bare) {
		a, _ := s.views.Accounts.Get(bare)
		return a.StreamVersion, nil
	}
	return s.vers.get(ctx, stream)
}

// catchUp learns what another writer appended to stream and waits until
// the views have applied it.
func (s *Core) catchUp(ctx context.Context, stream string) error {
	pos, err := s.vers.refresh(ctx, stream)
	if err != nil {
		return err
	}
	if pos == 0 {
		pos = s.views.Position()
	}
	if err := s.consumer.WaitFor(ctx, pos); err != nil {
		return fmt.Errorf("im: catch up %s: %w", stream, err)
	}
	return nil
}

// append records payloads in stream and returns the committed events.
func (s *Core) append(ctx context.Context, stream string, expected events.ExpectedVersion, meta events.Meta, payloads []events.Payload) ([]events.Envelope, error) {
	envs := make([]events.Envelope, len(payloads))
	now := s.now().UTC()
	if meta.CorrelationID == "" {
		// A message's meta is made without one (messageMeta): most
		// messages write no event.
		meta.CorrelationID = NewCorrelationID()
	}
	for i, p := range payloads {
		if s.cfg.Keys != nil && events.IsSealable(p.EventType()) {
			var err error
			if p, err = events.SealPersonal(p, s.cfg.Keys, streamAccount(stream), now); err != nil {
				return nil, fmt.Errorf("im: %w", err)
			}
		}
		e, err := events.New(p, meta)
		if err != nil {
			return nil, fmt.Errorf("im: encode event: %w", err)
		}
		e.Recorded = now
		envs[i] = e
	}
	committed, err := s.cfg.Store.Append(ctx, stream, expected, envs...)
	if err != nil {
		// A conflict is retried by execute, which logs it if it persists;
		// anything else is logged here, where stream and cause are known.
		if !errors.Is(err, events.ErrConflict) {
			s.log.Error("im: append failed", "stream", stream, "expected", expected.String(), "events", len(envs), "err", err)
		}
		return nil, fmt.Errorf("im: append to %s: %w", stream, err)
	}
	for _, e := range committed {
		s.vers.note(stream, e.Version)
	}
	return committed, nil
}

// streamAccount is the account whose key seals what is appended to
// stream: the bare JID every account-owned stream is named for.
func streamAccount(stream string) string {
	_, bare, _ := events.SplitStream(stream)
	return bare
}

// newID is 128 random bits in hex, for the ids of stanzas the server
// sends (roster pushes, pings).
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// NewCorrelationID is the id that ties the events of one command together
// (events.Meta.CorrelationID): a random UUID, the one format every writer
// of the log uses (the server and `xmppd user`).
func NewCorrelationID() string { return uuid.NewString() }
