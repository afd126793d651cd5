package server

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/adapters/c2s"
	"xmppd/domain"
	"xmppd/events"
)

// DefaultCommandTimeout bounds one command: deciding, appending, waiting
// for the views and carrying out the effects.
const DefaultCommandTimeout = 10 * time.Second

// Config configures a Server.
type Config struct {
	// Domain is the one XMPP domain served, in canonical form.
	Domain string
	// Node names this process in the events it writes and in its sessions
	// (restart recovery ends the open sessions of this node only).
	Node string
	// Store is the event log. The Server does not close it.
	Store events.Store
	// SoleServer says no other server process uses Store (the embedded
	// store's server lock proves it): whatever any earlier process left
	// behind is this one's to recover, whichever node name it ran under
	// (a host renamed, node changed in the configuration). Start-up
	// recovery then records server.stopped for the last process that did
	// not stop, of any node, and ends every session the log shows open.
	// Off (a shared log: EventStoreDB), only this node's are recovered.
	SoleServer bool
	// C2S configures the client listeners (addresses, TLS, limits). Its
	// Domain may be left empty: it is set to Domain.
	C2S c2s.Config
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
	// Metrics counts the client streams' stanzas and failed logins; nil:
	// none. The gauges are read with Status.
	Metrics c2s.Metrics
	// Refusals bounds what logins refused by the throttle write to the
	// log (authrefusals.go); zero fields: the defaults.
	Refusals RefusalLogConfig
}

func (c *Config) setDefaults() {
	if c.C2S.Domain == "" {
		c.C2S.Domain = c.Domain
	}
	if c.Policy == (domain.Policy{}) {
		c.Policy = domain.DefaultPolicy()
	}
	if c.C2S.Features == nil && !c.Policy.Preapproval {
		// RFC 6121 3.4.1: advertise pre-approval only if it is supported.
		for _, f := range c2s.DefaultFeatures() {
			if f.Name.Space != "urn:xmpp:features:pre-approval" {
				c.C2S.Features = append(c.C2S.Features, f)
			}
		}
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

// Validate reports every problem with c at once; defaults are applied to a
// copy first, so zero fields that have defaults are not problems.
func (c Config) Validate() error {
	c.setDefaults()
	var errs []error
	if c.Domain == "" {
		errs = append(errs, errors.New("server: config: domain is empty"))
	} else if d, err := jid.New("", c.Domain, ""); err != nil || d.String() != c.Domain {
		errs = append(errs, fmt.Errorf("server: config: domain %q is not a canonical domainpart", c.Domain))
	}
	if c.Node == "" {
		errs = append(errs, errors.New("server: config: node is empty"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("server: config: no event store"))
	}
	if c.C2S.Domain != c.Domain {
		errs = append(errs, fmt.Errorf("server: config: c2s domain %q differs from domain %q", c.C2S.Domain, c.Domain))
	}
	if err := c.C2S.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("server: config: %w", err))
	}
	if c.CommandTimeout < 0 {
		errs = append(errs, errors.New("server: config: command timeout is negative"))
	}
	if err := c.Refusals.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("server: config: %w", err))
	}
	return errors.Join(errs...)
}
