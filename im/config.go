package im

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// DefaultCommandTimeout bounds one command: deciding, appending, waiting
// for the views and carrying out the effects.
const DefaultCommandTimeout = 10 * time.Second

// Keys is the key store the Core seals and opens with
// (cmd/xmppd: adapters/keystore). It is used from many goroutines.
type Keys interface {
	events.KeySource
	events.KeyLookup
}

// Config configures a Server.
type Config struct {
	// Domain is the one XMPP domain served, in canonical form.
	Domain string
	// Node names this process in the events it writes and in its sessions
	// (restart recovery ends the open sessions of this node only).
	Node string
	// Store is the event log. The Core does not close it.
	Store events.Store
	// Keys seals the personal content the Core records (vCards, private
	// XML, PEP items, presence status and stanzas, offline stanzas:
	// events.SealPersonal) under the account's key for the month, and
	// opens it for the views.
	// Nil: recorded in clear, as before issue 13 (tests, and logs whose
	// operator chose no key store).
	Keys Keys
	// Follow starts the reader that keeps the views up to date with the
	// log (cmd/xmppd: adapters/bus.Follow, on watermill).
	Follow Follow
	// SoleServer says no other server process uses Store (the embedded
	// store's server lock proves it): whatever any earlier process left
	// behind is this one's to recover, whichever node name it ran under
	// (a host renamed, node changed in the configuration). Start-up
	// recovery then records server.stopped for the last process that did
	// not stop, of any node, and ends every session the log shows open.
	// Off (a shared log: EventStoreDB), only this node's are recovered.
	SoleServer bool
	// Addresses parses JIDs; nil: a cache of its own. Give the transports
	// the same one, so that an address is normalised once.
	Addresses *stanza.Addresses
	// SendQueue is what the transports queue for one session; offline
	// delivery sends its backlog in windows that fit beside live stanzas.
	// Zero Bytes or Len: unknown, the windows' own bounds apply; zero
	// WriteTimeout: 30 s, c2s's default.
	SendQueue SendQueue
	// TransportSettings are the transports' settings that change what
	// clients see, one "key=value\n" line each (e.g. the listeners'
	// addresses); server.started's config digest covers them.
	TransportSettings string
	// Policy is the roster policy (zero: domain.DefaultPolicy()).
	Policy domain.Policy
	// Offline bounds each account's offline storage (zero:
	// domain.DefaultOfflineLimit(); a negative field is no limit).
	Offline domain.OfflineLimit
	// MaxResources bounds the live sessions of one account (RFC 6120
	// 7.6.2.1); zero: DefaultMaxResources, negative: no limit.
	MaxResources int
	// Logger; nil: discard.
	Logger *slog.Logger
	// Clock stamps events; nil: time.Now.
	Clock func() time.Time
	// CommandTimeout bounds one command; zero: DefaultCommandTimeout.
	CommandTimeout time.Duration
	// Version is the software version recorded in server.started.
	Version string
	// ReportOS adds the operating system (runtime.GOOS) to XEP-0092
	// software version answers; off by default (XEP-0092 section 5: the
	// OS can help an attacker).
	ReportOS bool
	// MaxStoredXML bounds one stored vCard or private XML element, in
	// bytes serialised; zero: domain.DefaultMaxStoredXML (64 KiB).
	MaxStoredXML int
	// PEPMaxNodes bounds an account's PEP nodes and PEPMaxItems the items
	// one node keeps (what pubsub#max_items "max" means); zero: the
	// domain.DefaultPEPMaxNodes and DefaultPEPMaxItems. A PEP item's
	// payload is bounded by MaxStoredXML.
	PEPMaxNodes int
	PEPMaxItems int
	// ScramIterations is the SCRAM iteration count of a password a user
	// changes in band (XEP-0077 section 3.3); zero:
	// domain.MinScramIterations.
	ScramIterations int
	// AllowAccountRemoval lets users cancel their own account in band
	// (XEP-0077 section 3.2); off: not-allowed.
	AllowAccountRemoval bool
	// AllowRegistration lets clients create accounts in band before
	// authenticating (XEP-0077 section 3.1, Register); off by default.
	AllowRegistration bool
	// ArchiveOff stops the archiving of one-to-one messages (XEP-0313,
	// archive.go); zero: every message section 6.1.1 names is archived
	// for both parties. MAM queries over what is archived are answered
	// either way.
	ArchiveOff bool
	// ArchivePolicy is the domain's archive policy (domain.ArchivePolicy,
	// XEP-0441): "user" (zero) lets each account set its preferences,
	// "always" archives everything and refuses them.
	ArchivePolicy domain.ArchivePolicy
	// Refusals bounds what logins refused by the throttle write to the
	// log (authrefusals.go); zero fields: the defaults.
	Refusals RefusalLogConfig
	// Retention is how long personal content is kept (retention.go);
	// zero: for ever. Anything else needs Keys that can expire keys
	// (KeyExpirer).
	Retention RetentionConfig
}

func (c *Config) setDefaults() {
	if c.Policy == (domain.Policy{}) {
		c.Policy = domain.DefaultPolicy()
	}
	if c.Offline == (domain.OfflineLimit{}) {
		c.Offline = domain.DefaultOfflineLimit()
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.CommandTimeout == 0 {
		c.CommandTimeout = DefaultCommandTimeout
	}
	if c.MaxResources == 0 {
		c.MaxResources = DefaultMaxResources
	}
	c.Refusals.setDefaults()
}

// SendQueue is what a transport queues for one session before it gives
// up on a client that does not read, and how long one write may take.
type SendQueue struct {
	Bytes        int
	Len          int
	WriteTimeout time.Duration
}

// defaultWriteTimeout stands for a zero SendQueue.WriteTimeout: c2s's
// default.
const defaultWriteTimeout = 30 * time.Second

func (q SendQueue) validate() error {
	if q.Bytes < 0 || q.Len < 0 || q.WriteTimeout < 0 {
		return fmt.Errorf("send queue %+v has a negative field", q)
	}
	return nil
}

// Validate reports every problem with c at once; defaults are applied to a
// copy first, so zero fields that have defaults are not problems.
func (c Config) Validate() error {
	c.setDefaults()
	var errs []error
	if c.Domain == "" {
		errs = append(errs, errors.New("im: config: domain is empty"))
	} else if d, err := jid.New("", c.Domain, ""); err != nil || d.String() != c.Domain {
		errs = append(errs, fmt.Errorf("im: config: domain %q is not a canonical domainpart", c.Domain))
	}
	if c.Node == "" {
		errs = append(errs, errors.New("im: config: node is empty"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("im: config: no event store"))
	}
	if c.Follow == nil {
		errs = append(errs, errors.New("im: config: no way to follow the log (Follow)"))
	}
	if err := c.SendQueue.validate(); err != nil {
		errs = append(errs, fmt.Errorf("im: config: %w", err))
	}
	if err := c.ArchivePolicy.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("im: config: %w", err))
	}
	if c.CommandTimeout < 0 {
		errs = append(errs, errors.New("im: config: command timeout is negative"))
	}
	if err := c.Refusals.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("im: config: %w", err))
	}
	errs = append(errs, c.Retention.validate()...)
	if _, ok := c.Keys.(KeyExpirer); c.Retention.shortest() > 0 && !ok {
		errs = append(errs, errors.New("im: config: a retention is set but the key store cannot expire keys"))
	}
	return errors.Join(errs...)
}

// Follow starts following store after position from, calling apply for
// each committed event in log order (the views' consumer), under the
// reader's name name. It returns at once. The events include other
// processes' appends (`xmppd user`), which is why the core follows the
// log rather than only its own commits.
type Follow func(ctx context.Context, store events.Store, name string, from uint64, apply func(events.Envelope) error) (Follower, error)

// Follower is a running reader of the log (adapters/bus.Following).
type Follower interface {
	// WaitFor returns once every event up to position pos was applied, or
	// with an error when ctx ends or the reader failed.
	WaitFor(ctx context.Context, pos uint64) error
	// Applied is the last position applied.
	Applied() uint64
	// Done is closed when the reader stops; Err then says why (nil if it
	// was stopped).
	Done() <-chan struct{}
	Err() error
	// Stop stops the reader and waits for it.
	Stop() error
}
