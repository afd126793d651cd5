package c2s

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/stanza"
)

// Defaults of Config's zero fields.
const (
	DefaultMaxStanzaBytes       = 256 << 10
	DefaultMaxDepth             = 32
	DefaultQueueLen             = 16384
	DefaultQueueBytes           = 4 << 20
	DefaultKeepalive            = 60 * time.Second
	DefaultNegotiationTimeout   = 60 * time.Second
	DefaultWriteTimeout         = 30 * time.Second
	DefaultStanzaTimeout        = 30 * time.Second
	DefaultMaxAuthAttempts      = 3
	DefaultResumeTimeout        = 600 * time.Second
	DefaultAckTimeout           = 60 * time.Second
	DefaultRegistrationInterval = 5 * time.Minute
)

// Identity is a XEP-0030 identity of the server.
type Identity struct {
	Category, Type, Name string
}

// Config configures a Server. Zero fields take the defaults above.
type Config struct {
	// Domain is the one XMPP domain served (RFC 7622 domainpart).
	Domain string

	// StartTLSAddr listens for streams that must STARTTLS (5222 in
	// production); DirectTLSAddr for XEP-0368 direct TLS (5223). Either may
	// be empty, not both.
	StartTLSAddr  string
	DirectTLSAddr string

	// TLS holds the certificate. Required.
	TLS *tls.Config

	// MaxStanzaBytes bounds one top-level element (and, before binding,
	// the whole negotiation). Over it: <policy-violation/>.
	MaxStanzaBytes int
	// MaxDepth bounds element nesting inside a stanza.
	MaxDepth int
	// QueueLen is how many stanzas, and QueueBytes how many bytes, may
	// wait for a slow client before its session is closed with
	// <resource-constraint/>. Both are generous on purpose: a user with a
	// thousand contacts online receives a thousand presence stanzas at
	// once when logging in (RFC 6121 4.2.2, probes answered), and that is
	// a burst, not a slow reader. The byte bound is what limits memory.
	QueueLen   int
	QueueBytes int
	// SendBuffer, if positive, is the socket send buffer of each client
	// connection (SO_SNDBUF; Linux doubles it). Without stream management
	// what the kernel accepted counts as written, and is lost if the
	// process is killed before the client reads it; a smaller buffer
	// bounds that. Zero: the kernel's own sizing (up to tcp_wmem's max).
	SendBuffer int
	// Keepalive is how long the output may stay idle before a single space
	// is sent (RFC 6120 section 4.6.1). Negative disables.
	Keepalive time.Duration
	// ReadTimeout, if positive, closes a bound session that sends nothing
	// (not even whitespace) for that long, with <connection-timeout/>.
	// Zero: no idle limit (mobile clients may be silent for a long time).
	ReadTimeout time.Duration
	// StanzaTimeout bounds how long the rest of one stanza may take once
	// its first byte has arrived, in a bound session: a client that stops
	// in the middle of a stanza is closed with <connection-timeout/> (RFC
	// 6120 section 4.9.3.4). Whitespace keepalives start no stanza, and a
	// session with no stanza in progress is not affected (see
	// ReadTimeout). Negative disables.
	StanzaTimeout time.Duration
	// NegotiationTimeout bounds everything from connect to bound resource.
	NegotiationTimeout time.Duration
	// WriteTimeout bounds one write to the client.
	WriteTimeout time.Duration
	// MaxAuthAttempts is how many SASL failures a stream may have before it
	// is closed with <policy-violation/> (RFC 6120 section 6.4.5 asks for a
	// configurable number, allowing at least 2 retries).
	MaxAuthAttempts int
	// StanzaRate is how many stanzas a second one session may send once
	// StanzaBurst stanzas sent at full speed are used up (a token bucket,
	// rate.go). A client over it is not refused: reading from it waits,
	// so TCP slows it down and nothing it sent is lost. Negative: no
	// limit. FloodTimeout is how long a client may stay over the rate
	// before its stream is closed with <policy-violation/> (RFC 6120
	// 4.9.3.14); negative: never.
	StanzaRate   float64
	StanzaBurst  int
	FloodTimeout time.Duration

	// ResumeTimeout is how long a session whose client enabled XEP-0198
	// stream resumption waits, once its connection is lost, for the
	// client to resume it (a client asking for less gets less). Negative:
	// stream management without resumption.
	ResumeTimeout time.Duration
	// AckTimeout is how long a client with stream management may leave
	// the server's <r/> unanswered before its connection is taken to be
	// dead and cut (the session is then suspended, or ends). Negative:
	// never.
	AckTimeout time.Duration
	// RegistrationInterval is how long one address (an IPv6 /64) must
	// wait after registering an account in band before it may register
	// another (register.go), when Deps.Registrar offers registration.
	RegistrationInterval time.Duration

	// Features are extra stream features advertised after authentication
	// (beside bind), e.g. RFC 6121 roster versioning and pre-approval. Nil
	// means DefaultFeatures(); an empty non-nil slice means none.
	Features []*stanza.Element
	// ServerFeatures and Identities answer XEP-0030 disco#info sent to the
	// bare domain. The ping and disco#info features are always included.
	ServerFeatures []string
	Identities     []Identity

	// Throttle tunes the failed-login throttle used when Deps.Throttle is
	// nil (see MemoryThrottle). Its MaxDelay must stay below
	// NegotiationTimeout.
	Throttle ThrottleConfig
}

// DefaultFeatures are RFC 6121's roster versioning (2.6.1) and
// subscription pre-approval (3.4) stream features.
func DefaultFeatures() []*stanza.Element {
	return []*stanza.Element{
		stanza.New(stanza.NSRosterVer, "ver"),
		stanza.New(stanza.NSPreApproval, "sub"),
		stanza.New(stanza.NSCSI, "csi"), // XEP-0352 (csi.go)
	}
}

func (c *Config) setDefaults() {
	if c.MaxStanzaBytes == 0 {
		c.MaxStanzaBytes = DefaultMaxStanzaBytes
	}
	if c.MaxDepth == 0 {
		c.MaxDepth = DefaultMaxDepth
	}
	if c.QueueLen == 0 {
		c.QueueLen = DefaultQueueLen
	}
	if c.QueueBytes == 0 {
		c.QueueBytes = DefaultQueueBytes
	}
	if c.Keepalive == 0 {
		c.Keepalive = DefaultKeepalive
	}
	if c.NegotiationTimeout == 0 {
		c.NegotiationTimeout = DefaultNegotiationTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.StanzaTimeout == 0 {
		c.StanzaTimeout = DefaultStanzaTimeout
	}
	if c.MaxAuthAttempts == 0 {
		c.MaxAuthAttempts = DefaultMaxAuthAttempts
	}
	if c.StanzaRate == 0 {
		c.StanzaRate = DefaultStanzaRate
	}
	if c.StanzaBurst == 0 {
		c.StanzaBurst = DefaultStanzaBurst
	}
	if c.FloodTimeout == 0 {
		c.FloodTimeout = DefaultFloodTimeout
	}
	if c.ResumeTimeout == 0 {
		c.ResumeTimeout = DefaultResumeTimeout
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	if c.RegistrationInterval == 0 {
		c.RegistrationInterval = DefaultRegistrationInterval
	}
	if c.Features == nil {
		c.Features = DefaultFeatures()
	}
	if len(c.Identities) == 0 {
		c.Identities = []Identity{{Category: "server", Type: "im", Name: "xmppd"}}
	}
	// The throttle's default delays fit in a short negotiation timeout
	// (tests use them); delays set explicitly are checked by Validate.
	if c.Throttle.MaxDelay == 0 && DefaultThrottleMaxDelay >= c.NegotiationTimeout {
		c.Throttle.MaxDelay = c.NegotiationTimeout / 2
		if c.Throttle.BaseDelay == 0 && DefaultThrottleBaseDelay > c.Throttle.MaxDelay {
			c.Throttle.BaseDelay = c.Throttle.MaxDelay
		}
	}
}

// Validate reports every problem with c at once; defaults are applied to
// a copy first, so zero fields are not problems.
func (c Config) Validate() error {
	c.setDefaults()
	var errs []error
	if c.Domain == "" {
		errs = append(errs, errors.New("c2s: config: domain is empty"))
	} else if d, err := jid.New("", c.Domain, ""); err != nil {
		errs = append(errs, fmt.Errorf("c2s: config: domain %q: %w", c.Domain, err))
	} else if d.String() != c.Domain {
		errs = append(errs, fmt.Errorf("c2s: config: domain %q is not in canonical form %q", c.Domain, d.String()))
	}
	if c.StartTLSAddr == "" && c.DirectTLSAddr == "" {
		errs = append(errs, errors.New("c2s: config: no listen address (StartTLSAddr or DirectTLSAddr)"))
	}
	if c.TLS == nil || (len(c.TLS.Certificates) == 0 && c.TLS.GetCertificate == nil) {
		errs = append(errs, errors.New("c2s: config: TLS config with a certificate is required (RFC 6120 section 5: TLS before authentication)"))
	}
	if c.MaxStanzaBytes < 10000 {
		// RFC 6120 section 13.12: a server MUST NOT set a limit below 10000.
		errs = append(errs, fmt.Errorf("c2s: config: max stanza bytes %d is below RFC 6120's minimum of 10000", c.MaxStanzaBytes))
	}
	if c.MaxDepth < 4 {
		errs = append(errs, fmt.Errorf("c2s: config: max depth %d is too small for any stanza", c.MaxDepth))
	}
	if c.QueueBytes < 0 {
		errs = append(errs, fmt.Errorf("c2s: config: queue bytes %d must not be negative", c.QueueBytes))
	}
	if c.SendBuffer < 0 {
		errs = append(errs, fmt.Errorf("c2s: config: send buffer %d must not be negative", c.SendBuffer))
	}
	if c.QueueLen < 1 {
		errs = append(errs, fmt.Errorf("c2s: config: queue length %d must be positive", c.QueueLen))
	}
	if c.ReadTimeout < 0 || c.NegotiationTimeout < 0 || c.WriteTimeout < 0 {
		errs = append(errs, errors.New("c2s: config: timeouts must not be negative"))
	}
	if c.MaxAuthAttempts < 3 || c.MaxAuthAttempts > 6 {
		// RFC 6120 section 6.4.5: at least 2 and no more than 5 retries.
		errs = append(errs, fmt.Errorf("c2s: config: %d auth attempts is outside RFC 6120 section 6.4.5's 2 to 5 retries", c.MaxAuthAttempts))
	}
	if c.StanzaRate != c.StanzaRate || c.StanzaRate > 1e9 {
		errs = append(errs, fmt.Errorf("c2s: config: stanza rate %v is not a number of stanzas a second up to 1e9 (negative: no limit)", c.StanzaRate))
	}
	if c.StanzaBurst < 1 {
		errs = append(errs, fmt.Errorf("c2s: config: stanza burst %d must be at least 1", c.StanzaBurst))
	}
	for i, f := range c.Features {
		if f == nil || f.Name.Space == "" {
			errs = append(errs, fmt.Errorf("c2s: config: feature %d has no namespace", i))
		}
	}
	if err := c.Throttle.Validate(); err != nil {
		errs = append(errs, err)
	} else if th := withThrottleDefaults(c.Throttle); th.MaxDelay >= c.NegotiationTimeout {
		// A delay the negotiation deadline cuts short answers nothing.
		errs = append(errs, fmt.Errorf("c2s: config: throttle MaxDelay %s is not below the negotiation timeout %s", th.MaxDelay, c.NegotiationTimeout))
	}
	return errors.Join(errs...)
}

// WithDefaults is c with every zero field that has a default set to it:
// what a Server made with c uses (for a core that sizes its work to the
// sessions' queues).
func (c Config) WithDefaults() Config {
	c.setDefaults()
	return c
}
