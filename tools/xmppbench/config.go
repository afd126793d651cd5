package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Upper bounds that keep every run finite and this machine usable, however
// the flags are set.
const (
	maxUsers       = 100_000
	maxConcurrency = 10_000
	maxWindow      = 10_000
	maxRosterItems = 100_000
	maxRunTime     = time.Hour
)

// config is one run's command line.
type config struct {
	scenario string

	addr, domain                 string
	users, first                 int
	userPattern, passwordPattern string
	mech                         string
	startTLS, insecure           bool
	allowRemote                  bool

	duration, timeout, maxTime time.Duration
	concurrency                int
	rate                       float64
	window                     int
	count                      int64
	hub                        int
	items                      int
	sessions                   int
	serverPID                  int
	presence                   bool
	sm                         bool

	json       bool
	label      string
	cpuProfile string

	server     string // provision: xmppd, prosody or ejabberd
	prosodyCfg string

	client *clientConfig // made once by clientConfig
}

// register declares every flag on fs; a scenario ignores those it does
// not use, which keeps one command line shape for a comparison script.
func (c *config) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.addr, "addr", "127.0.0.1:5222", "server c2s address (host:port); loopback only unless --allow-remote")
	fs.StringVar(&c.domain, "domain", "localhost", "XMPP domain of the accounts")
	fs.IntVar(&c.users, "users", 10, "number of accounts to use")
	fs.IntVar(&c.first, "first", 1, "number of the first account (user1 with the default pattern)")
	fs.StringVar(&c.userPattern, "user-pattern", "user%d", "account localpart, %d is the account number")
	fs.StringVar(&c.passwordPattern, "password-pattern", "pass%d", "account password, %d is the account number")
	fs.StringVar(&c.mech, "mech", "auto", "SASL mechanism: auto, SCRAM-SHA-256, SCRAM-SHA-1 or PLAIN")
	fs.BoolVar(&c.startTLS, "starttls", true, "negotiate STARTTLS (false: plain TCP, if the server allows it)")
	fs.BoolVar(&c.insecure, "insecure", false, "accept any TLS certificate (self-signed test servers)")
	fs.BoolVar(&c.allowRemote, "allow-remote", false, "allow a target that is not loopback")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long the measured phase runs")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "limit for one operation (a login, a message, a fan-out round)")
	fs.DurationVar(&c.maxTime, "max-time", 5*time.Minute, "hard limit for the whole run, setup included")
	fs.IntVar(&c.concurrency, "concurrency", 10, "concurrent connectors (login, idle setup) or workers (roster)")
	fs.Float64Var(&c.rate, "rate", 0, "chat: total messages per second to offer (0: as fast as the window allows)")
	fs.IntVar(&c.window, "window", 10, "chat: in-flight messages per sender; fill-roster: in-flight roster sets")
	fs.Int64Var(&c.count, "count", 0, "stop after this many operations (0: only --duration bounds the run); mam-fill: messages to archive")
	fs.IntVar(&c.hub, "hub", 0, "index among the accounts of the fan-out publisher / roster owner")
	fs.IntVar(&c.items, "items", 0, "fill-roster: items to add; roster: items expected (0: do not check); mam-query: page size (0: 50)")
	fs.IntVar(&c.sessions, "sessions", 0, "idle: sessions to hold open (0: one per account)")
	fs.IntVar(&c.serverPID, "server-pid", 0, "server process: its CPU time (every scenario) and VmRSS (idle) are reported")
	fs.BoolVar(&c.presence, "presence", true, "idle: send initial presence on each session")
	fs.BoolVar(&c.sm, "sm", false, "idle: enable XEP-0198 stream management with resumption on each session")
	fs.BoolVar(&c.json, "json", false, "print the result as JSON")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of xmppbench itself to this file (where the load generator spends its time)")
	fs.StringVar(&c.label, "label", "", "name of the server under test, copied into the result (e.g. xmppd, prosody)")
	fs.StringVar(&c.server, "server", "xmppd", "provision: server kind (xmppd, prosody, ejabberd)")
	fs.StringVar(&c.prosodyCfg, "prosody-config", "", "provision: prosodyctl --config path")
}

// validate reports every problem with the command line at once.
func (c *config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := checkTarget(c.addr, c.allowRemote); err != nil {
		errs = append(errs, err)
	}
	if c.users < 1 || c.users > maxUsers {
		bad("--users must be between 1 and %d", maxUsers)
	}
	for _, p := range []string{c.userPattern, c.passwordPattern} {
		if strings.Count(p, "%d") != 1 || strings.Count(p, "%") != 1 {
			bad("pattern %q must contain %%d exactly once and no other verb", p)
		}
	}
	if _, ok := mechByName(c.mech); !ok && c.mech != "auto" {
		bad("--mech %q is not one of auto, SCRAM-SHA-256, SCRAM-SHA-1, PLAIN", c.mech)
	}
	if c.duration <= 0 || c.timeout <= 0 || c.maxTime <= 0 {
		bad("--duration, --timeout and --max-time must be positive")
	}
	if c.maxTime > maxRunTime {
		bad("--max-time must be at most %v", maxRunTime)
	}
	if c.duration >= c.maxTime {
		bad("--duration (%v) must be shorter than --max-time (%v), which also covers setup", c.duration, c.maxTime)
	}
	if c.concurrency < 1 || c.concurrency > maxConcurrency {
		bad("--concurrency must be between 1 and %d", maxConcurrency)
	}
	if c.window < 1 || c.window > maxWindow {
		bad("--window must be between 1 and %d", maxWindow)
	}
	if c.rate < 0 || c.count < 0 || c.items < 0 || c.items > maxRosterItems {
		bad("--rate and --count must not be negative, --items between 0 and %d", maxRosterItems)
	}
	if c.sessions < 0 || c.sessions > maxUsers {
		bad("--sessions must be between 0 and %d", maxUsers)
	}
	if c.hub < 0 || c.hub >= c.users {
		bad("--hub must be an index below --users")
	}
	switch c.scenario {
	case "chat", "chat-sm":
		if c.users < 2 || c.users%2 != 0 {
			bad("chat pairs accounts: --users must be even and at least 2")
		}
	case "fanout", "subscribe":
		if c.users < 2 {
			bad("%s needs the hub and at least one contact: --users at least 2", c.scenario)
		}
	case "fill-roster":
		if c.items < 1 {
			bad("fill-roster needs --items")
		}
	case "mam-fill":
		if c.users < 2 || c.count < 1 {
			bad("mam-fill needs the hub and at least one sender (--users at least 2) and --count messages")
		}
	case "provision":
		if c.server != "xmppd" && c.server != "prosody" && c.server != "ejabberd" {
			bad("--server must be xmppd, prosody or ejabberd")
		}
	}
	return errors.Join(errs...)
}

// account is one benchmark account.
type account struct {
	user, password string
}

// account returns the i-th account (0-based) of the run.
func (c *config) account(i int) account {
	n := c.first + i
	return account{user: fmt.Sprintf(c.userPattern, n), password: fmt.Sprintf(c.passwordPattern, n)}
}

// bare returns the bare JID of the i-th account.
func (c *config) bare(i int) string { return c.account(i).user + "@" + c.domain }

// clientConfig returns the run's client settings, made on first use, so
// the report can tell which mechanism the logins negotiated.
func (c *config) clientConfig() *clientConfig {
	if c.client != nil {
		return c.client
	}
	c.client = &clientConfig{
		addr: c.addr, domain: c.domain, mech: c.mech,
		startTLS: c.startTLS, insecure: c.insecure, timeout: c.timeout,
		dialer: newDialer(c.allowRemote),
	}
	return c.client
}
