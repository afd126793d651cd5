package esdb

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"xmppd/events"
)

// Store is an events.Store on EventStoreDB. It is safe for concurrent use:
// the esdb client multiplexes calls over one gRPC connection, and Store's
// mutable state (the client and the closed flag) is guarded by mu.
type Store struct {
	conf    *esdb.Configuration
	retries int
	newID   func() uuid.UUID
	locks   streamLocks // serializes this process's appends per stream

	mu     sync.Mutex
	client *esdb.Client // replaced by renew when it gave up
	closed bool
}

var (
	_ events.Store      = (*Store)(nil)
	_ events.HeadReader = (*Store)(nil)
)

// Open connects to EventStoreDB and checks that it answers (and lets this
// user read $all, which ReadAll and Subscribe need) before returning.
func Open(ctx context.Context, c Config) (*Store, error) {
	conf, err := c.clientConfig()
	if err != nil {
		return nil, err
	}
	client, err := esdb.NewClient(conf)
	if err != nil {
		return nil, storeError("open", "", -1, 0, err)
	}
	s := &Store{conf: conf, client: client, retries: c.appendRetries(), newID: uuid.New}
	if err := s.ping(ctx, client); err != nil {
		client.Close()
		return nil, storeError("open", "", -1, 0, err)
	}
	return s, nil
}

// ping checks that the server is one this adapter works with and that it
// lets us read $all.
func (s *Store) ping(ctx context.Context, c *esdb.Client) error {
	v, err := c.GetServerVersion()
	if err != nil {
		return err
	}
	if err := checkServerVersion(v); err != nil {
		return err
	}
	_, err = s.head(ctx, c)
	return err
}

// checkServerVersion refuses servers older than 22.6: before it, reading
// a stream returns no $all positions (both are sent as -1), so Append
// could not tell where its events went and ReadStream could not fill
// Envelope.Position.
func checkServerVersion(v *esdb.ServerVersion) error {
	if v.Major > 22 || v.Major == 22 && v.Minor >= 6 {
		return nil
	}
	return fmt.Errorf("esdb: EventStoreDB %d.%d.%d is too old: 22.6 or newer is needed (stream reads carry $all positions from 22.6)",
		v.Major, v.Minor, v.Patch)
}

// Close closes the connection. Calls after Close fail with events.ErrClosed;
// running iterators end with it.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.client.Close()
}

// conn returns the client to make a call with, or the error of a call
// made after Close.
func (s *Store) conn(op, stream string, version int64, pos uint64) (*esdb.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, storeError(op, stream, version, pos, events.ErrClosed)
	}
	return s.client, nil
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// fail translates the error of a call made with client c under ctx. It
// reports ErrClosed when the store was closed under the call (the client
// then fails with transport errors of all kinds), and ctx's error when ctx
// ended (gRPC reports that as a status error that does not wrap it), and
// renews c if it gave up.
func (s *Store) fail(ctx context.Context, c *esdb.Client, op, stream string, version int64, pos uint64, err error) error {
	if s.isClosed() {
		return storeError(op, stream, version, pos, events.ErrClosed)
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	s.renew(c, err)
	return storeError(op, stream, version, pos, err)
}

// renew replaces client c when err says it gave up. When node discovery
// fails MaxDiscoverAttempts times in a row (about a second by default),
// the esdb client closes itself for good and answers every later call
// with ErrorCodeConnectionClosed (the failing call itself sees
// ErrorUnavailable, which a live client also reports while it reconnects,
// so only the next call can tell). A server must outlive an EventStoreDB
// outage, so the call after that gets a new client that discovers afresh.
// Only the client that failed is replaced, so concurrent failures renew
// once.
func (s *Store) renew(c *esdb.Client, err error) {
	if code, ok := codeOf(err); !ok || code != esdb.ErrorCodeConnectionClosed {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.client != c {
		return
	}
	fresh, nerr := esdb.NewClient(s.conf)
	if nerr != nil {
		return // the configuration was valid once; keep the old client's error
	}
	c.Close()
	s.client = fresh
}
