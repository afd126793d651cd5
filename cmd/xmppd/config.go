package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"mellium.im/xmpp/jid"

	"xmppd/adapters/c2s"
	"xmppd/domain"
	"xmppd/events"
)

// Config is xmppd's whole configuration. Every key can be set in the YAML
// file, as an XMPPD_* environment variable (dots become underscores:
// XMPPD_STORE_KIND) or, for the common ones, as a flag.
type Config struct {
	Domain  string      `mapstructure:"domain"`
	Node    string      `mapstructure:"node"`
	DataDir string      `mapstructure:"data_dir"`
	Store   StoreConfig `mapstructure:"store"`
	Keys    KeysConfig  `mapstructure:"keys"`
	C2S     C2SConfig   `mapstructure:"c2s"`
	TLS     TLSConfig   `mapstructure:"tls"`
	Metrics MetricsConf `mapstructure:"metrics"`
	Auth    AuthConfig  `mapstructure:"auth"`
	Offline OfflineConf `mapstructure:"offline"`
	// Limits are the quotas of one account or session (limits.go).
	Limits LimitsConfig `mapstructure:"limits"`
	// IM tunes the core's small IQs and user storage (imconf.go).
	IM IMConf `mapstructure:"im"`
	// Archive is the message archive (XEP-0313).
	Archive ArchiveConf `mapstructure:"archive"`
}

// ArchiveConf: archive.enabled (on by default) records every one-to-one
// message XEP-0313 6.1.1 names in both parties' archives before it is
// delivered; off, nothing new is archived (MAM still serves what was).
//
// archive.policy is the domain's archive policy: "user" lets each account
// choose with XEP-0441 preferences (everything is archived until it
// does), "always" archives every message whatever the preferences say and
// refuses to change them (not-allowed), for a deployment that must keep
// its records.
type ArchiveConf struct {
	Enabled bool   `mapstructure:"enabled"`
	Policy  string `mapstructure:"policy"`
	// RetentionConf: archive.retention and its overrides (retention.go).
	RetentionConf `mapstructure:",squash"`
}

// OfflineConf bounds each account's offline storage (XEP-0160); 0 is no
// limit. Over it a sender gets <service-unavailable/>.
type OfflineConf struct {
	MaxMessages int `mapstructure:"max_messages"`
	MaxBytes    int `mapstructure:"max_bytes"`
}

// StoreConfig selects the event store.
type StoreConfig struct {
	Kind string `mapstructure:"kind"` // "sqlite" or "esdb"
	Path string `mapstructure:"path"` // sqlite: file; default <data_dir>/xmppd.db
	URL  string `mapstructure:"url"`  // esdb: connection string
	// AcceptAlteredLog serves a log whose stream heads do not match their
	// events, recording the decision (startup.go); off, such a log is
	// refused at start.
	AcceptAlteredLog bool `mapstructure:"accept_altered_log"`
}

// KeysConfig places the key store that seals personal content (issue
// 13): its own file, never inside the log, backed up apart from it.
type KeysConfig struct {
	Path string `mapstructure:"path"` // default <data_dir>/keys.db
	// Period is how much time one key covers, the granularity of
	// retention's shredding: month, day, hour or a duration of at least
	// 1s (events.ParseKeyPeriod).
	Period string `mapstructure:"period"`
}

// C2SConfig holds the client listener settings.
type C2SConfig struct {
	StartTLSAddr   string `mapstructure:"starttls_addr"`
	DirectTLSAddr  string `mapstructure:"tls_addr"`
	MaxStanzaBytes int    `mapstructure:"max_stanza_bytes"`
	// QueueLen and QueueBytes bound the output waiting for one slow
	// client, WriteTimeout one write to it; over them the session is
	// closed (<resource-constraint/>, or the connection cut).
	QueueLen     int           `mapstructure:"queue_len"`
	QueueBytes   int           `mapstructure:"queue_bytes"`
	WriteTimeout time.Duration `mapstructure:"write_timeout"`
	// SendBuffer is each client connection's socket send buffer; 0: the
	// kernel's sizing.
	SendBuffer int `mapstructure:"send_buffer"`
	// StanzaTimeout bounds the rest of a stanza once its first byte has
	// arrived; IdleTimeout closes a bound session that sends nothing at
	// all for that long. 0 disables either.
	StanzaTimeout time.Duration `mapstructure:"stanza_timeout"`
	IdleTimeout   time.Duration `mapstructure:"idle_timeout"`
	// ResumeTimeout is how long a session whose client enabled XEP-0198
	// resumption waits, once its connection is lost, to be resumed; 0:
	// stream management without resumption.
	ResumeTimeout time.Duration `mapstructure:"resume_timeout"`
	// AckTimeout is how long a client with stream management may leave
	// an <r/> unanswered before its connection is taken to be dead; 0:
	// never.
	AckTimeout time.Duration `mapstructure:"ack_timeout"`
	// RegistrationInterval is how long one address waits between two
	// accounts registered in band (im.allow_registration).
	RegistrationInterval time.Duration `mapstructure:"registration_interval"`
}

// TLSConfig names the certificate; empty means a self-signed one kept in
// the data directory.
type TLSConfig struct {
	Cert string `mapstructure:"cert"`
	Key  string `mapstructure:"key"`
}

// MetricsConf is where /metrics and /healthz listen (empty Addr: nowhere)
// and whether Go's profiles are served beside them under /debug/pprof/.
type MetricsConf struct {
	Addr  string `mapstructure:"addr"`
	Pprof bool   `mapstructure:"pprof"`
}

// AuthConfig tunes credential storage and the failed-login throttle.
type AuthConfig struct {
	ScramIterations int            `mapstructure:"scram_iterations"`
	Throttle        ThrottleConfig `mapstructure:"throttle"`
	RefusalLog      RefusalLogConf `mapstructure:"refusal_log"` // refusals.go
}

// ThrottleConfig is auth.throttle: c2s.ThrottleConfig's keys.
type ThrottleConfig struct {
	FreeFailures      int           `mapstructure:"free_failures"`
	AddrFreeFailures  int           `mapstructure:"addr_free_failures"`
	BaseDelay         time.Duration `mapstructure:"base_delay"`
	MaxDelay          time.Duration `mapstructure:"max_delay"`
	RefuseAfter       int           `mapstructure:"refuse_after"`
	RefuseFor         time.Duration `mapstructure:"refuse_for"`
	Window            time.Duration `mapstructure:"window"`
	MaxDelayedPerAddr int           `mapstructure:"max_delayed_per_addr"`
}

// c2s is the throttle's configuration for the c2s package.
func (t ThrottleConfig) c2s() c2s.ThrottleConfig {
	return c2s.ThrottleConfig{
		FreeFailures: t.FreeFailures, AddrFreeFailures: t.AddrFreeFailures,
		BaseDelay: t.BaseDelay, MaxDelay: t.MaxDelay,
		RefuseAfter: t.RefuseAfter, RefuseFor: t.RefuseFor, Window: t.Window,
		MaxDelayedPerAddr: t.MaxDelayedPerAddr,
	}
}

// validate names the keys: zero is not "the default" in the file (the
// defaults are in defaults()), so every value must be positive, and the
// delays must fit in c2s's negotiation timeout, which bounds each wait.
func (t ThrottleConfig) validate() []error {
	var errs []error
	for _, f := range []struct {
		key string
		v   int
	}{{"free_failures", t.FreeFailures}, {"addr_free_failures", t.AddrFreeFailures},
		{"refuse_after", t.RefuseAfter}, {"max_delayed_per_addr", t.MaxDelayedPerAddr}} {
		if f.v < 1 {
			errs = append(errs, fmt.Errorf("auth.throttle.%s %d must be at least 1", f.key, f.v))
		}
	}
	for _, f := range []struct {
		key string
		v   time.Duration
	}{{"base_delay", t.BaseDelay}, {"max_delay", t.MaxDelay}, {"refuse_for", t.RefuseFor}, {"window", t.Window}} {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("auth.throttle.%s %s must be positive", f.key, f.v))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	if t.MaxDelay < t.BaseDelay {
		errs = append(errs, fmt.Errorf("auth.throttle.max_delay %s is below auth.throttle.base_delay %s", t.MaxDelay, t.BaseDelay))
	}
	if t.MaxDelay >= c2s.DefaultNegotiationTimeout {
		errs = append(errs, fmt.Errorf("auth.throttle.max_delay %s must be below the %s negotiation timeout, which ends a login that waits longer", t.MaxDelay, c2s.DefaultNegotiationTimeout))
	}
	if t.RefuseAfter <= t.FreeFailures || t.RefuseAfter <= t.AddrFreeFailures {
		errs = append(errs, fmt.Errorf("auth.throttle.refuse_after %d must be above free_failures %d and addr_free_failures %d: an address is slowed long before it is refused",
			t.RefuseAfter, t.FreeFailures, t.AddrFreeFailures))
	}
	return errs
}

func defaults() map[string]any {
	host, _ := os.Hostname()
	if host == "" {
		host = "node-1"
	}
	d := map[string]any{
		"domain":                    "localhost",
		"node":                      host,
		"data_dir":                  "./data",
		"store.kind":                "sqlite",
		"store.path":                "",
		"store.url":                 "",
		"keys.path":                 "",
		"c2s.starttls_addr":         ":5222",
		"c2s.tls_addr":              ":5223",
		"c2s.max_stanza_bytes":      262144,
		"c2s.queue_len":             16384,
		"c2s.queue_bytes":           4 << 20,
		"c2s.write_timeout":         "30s",
		"c2s.send_buffer":           0,
		"c2s.stanza_timeout":        "30s",
		"c2s.idle_timeout":          "0s",
		"c2s.resume_timeout":        "600s",
		"c2s.ack_timeout":           "60s",
		"c2s.registration_interval": "5m",
		"tls.cert":                  "",
		"tls.key":                   "",
		"metrics.addr":              "127.0.0.1:9271",
		"metrics.pprof":             false,
		"auth.scram_iterations":     4096,
		"offline.max_messages":      5000,
		"offline.max_bytes":         32 << 20,
		"archive.enabled":           true,
		"archive.policy":            "user",

		// serve refuses an altered log unless this is on (startup.go).
		"store.accept_altered_log": false,

		"auth.throttle.free_failures":        c2s.DefaultThrottleFreeFailures,
		"auth.throttle.addr_free_failures":   c2s.DefaultThrottleAddrFreeFailures,
		"auth.throttle.base_delay":           c2s.DefaultThrottleBaseDelay,
		"auth.throttle.max_delay":            c2s.DefaultThrottleMaxDelay,
		"auth.throttle.refuse_after":         c2s.DefaultThrottleRefuseAfter,
		"auth.throttle.refuse_for":           c2s.DefaultThrottleRefuseFor,
		"auth.throttle.window":               c2s.DefaultThrottleWindow,
		"auth.throttle.max_delayed_per_addr": c2s.DefaultThrottleMaxDelayed,
	}
	for k, v := range limitsDefaults() {
		d[k] = v
	}
	for k, v := range refusalLogDefaults() {
		d[k] = v
	}
	for k, v := range imDefaults() {
		d[k] = v
	}
	for k, v := range retentionDefaults() {
		d[k] = v
	}
	return d
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	errs = append(errs, c.IM.validate()...)
	if err := domain.ArchivePolicy(c.Archive.Policy).Validate(); err != nil {
		errs = append(errs, fmt.Errorf("archive.policy: %w", err))
	}
	if _, err := jid.Parse(c.Domain); err != nil || c.Domain == "" || strings.ContainsAny(c.Domain, "@/") {
		errs = append(errs, fmt.Errorf("domain %q is not a valid XMPP domain", c.Domain))
	}
	if strings.TrimSpace(c.Node) == "" {
		// Every event names the node that wrote it, and start-up recovery
		// ends the sessions the log shows open on this node: on a shared
		// log (esdb) each server needs its own name.
		errs = append(errs, errors.New("node is empty: name this server process (unique among the servers sharing a log)"))
	}
	switch c.Store.Kind {
	case "sqlite":
		if c.Store.Path == "" {
			errs = append(errs, errors.New("store.path is empty"))
		}
	case "esdb":
		if c.Store.URL == "" {
			errs = append(errs, errors.New("store.kind is esdb but store.url is empty (esdb://host:2113?tls=false)"))
		}
	default:
		errs = append(errs, fmt.Errorf("store.kind %q is not sqlite or esdb", c.Store.Kind))
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		errs = append(errs, errors.New("tls.cert and tls.key must be set together"))
	}
	if c.Metrics.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Addr); err != nil {
			errs = append(errs, fmt.Errorf("metrics.addr %q is not host:port (empty disables metrics): %v", c.Metrics.Addr, err))
		}
	}
	if c.Metrics.Pprof && c.Metrics.Addr == "" {
		errs = append(errs, errors.New("metrics.pprof is on but metrics.addr is empty: profiles are served on the metrics listener"))
	}
	if c.Auth.ScramIterations < 4096 {
		errs = append(errs, fmt.Errorf("auth.scram_iterations %d is below 4096", c.Auth.ScramIterations))
	}
	errs = append(errs, c.Auth.Throttle.validate()...)
	if c.C2S.MaxStanzaBytes < 10000 {
		// RFC 6120 13.12: the limit MUST be at least 10000 bytes.
		errs = append(errs, fmt.Errorf("c2s.max_stanza_bytes %d is below RFC 6120's minimum of 10000", c.C2S.MaxStanzaBytes))
	}
	if c.C2S.QueueLen < 1 {
		errs = append(errs, fmt.Errorf("c2s.queue_len %d must be at least 1", c.C2S.QueueLen))
	}
	if c.C2S.QueueBytes < 1 {
		errs = append(errs, fmt.Errorf("c2s.queue_bytes %d must be at least 1", c.C2S.QueueBytes))
	}
	if c.C2S.SendBuffer < 0 {
		errs = append(errs, fmt.Errorf("c2s.send_buffer %d must not be negative (0: the kernel's sizing)", c.C2S.SendBuffer))
	}
	if c.C2S.WriteTimeout <= 0 {
		errs = append(errs, fmt.Errorf("c2s.write_timeout %v must be positive (e.g. 30s)", c.C2S.WriteTimeout))
	}
	if c.Offline.MaxMessages < 0 || c.Offline.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("offline.max_messages %d and offline.max_bytes %d must not be negative (0: no limit)", c.Offline.MaxMessages, c.Offline.MaxBytes))
	}
	for _, t := range []struct {
		key string
		d   time.Duration
	}{{"c2s.stanza_timeout", c.C2S.StanzaTimeout}, {"c2s.idle_timeout", c.C2S.IdleTimeout}, {"c2s.resume_timeout", c.C2S.ResumeTimeout}, {"c2s.ack_timeout", c.C2S.AckTimeout}, {"c2s.registration_interval", c.C2S.RegistrationInterval}} {
		if key, d := t.key, t.d; d != 0 && d < time.Second {
			// A bare number is nanoseconds to viper: "30" would cut every client.
			errs = append(errs, fmt.Errorf("%s %v must be 0 (off) or at least 1s (write it with a unit: 30s, 5m)", key, d))
		}
	}
	errs = append(errs, c.Limits.validate()...)
	errs = append(errs, c.Auth.RefusalLog.validate()...)
	_, rerrs := c.Archive.policy(c.Domain)
	errs = append(errs, rerrs...)
	if _, err := events.ParseKeyPeriod(c.Keys.Period); err != nil {
		errs = append(errs, fmt.Errorf("keys.period: %v", err))
	}
	return errors.Join(errs...)
}

// configLoader reads the configuration file, the environment and flags
// with viper, the one place the configuration is read.
type configLoader struct {
	v    *viper.Viper
	file string
}

func newConfigLoader() *configLoader {
	v := viper.New()
	for k, val := range defaults() {
		v.SetDefault(k, val)
	}
	v.SetEnvPrefix("XMPPD")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	return &configLoader{v: v}
}

func (l *configLoader) bindFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&l.file, "config", "c", "", "configuration file: YAML, or JSON/TOML by extension (default: ./xmppd.yaml or /etc/xmppd/xmppd.yaml when present; .yml also)")
	fs.String("domain", "", "XMPP domain served (default localhost)")
	fs.String("data-dir", "", "data directory (default ./data)")
	fs.String("store", "", "event store: sqlite or esdb")
	fs.String("store-path", "", "SQLite event log file (default <data-dir>/xmppd.db)")
	fs.String("store-url", "", "EventStoreDB connection string (esdb://...)")
	fs.String("keys-path", "", "key store that seals personal content (default <data-dir>/keys.db)")
	for key, flag := range map[string]string{
		"domain": "domain", "data_dir": "data-dir", "store.kind": "store",
		"store.path": "store-path", "store.url": "store-url", "keys.path": "keys-path",
	} {
		_ = l.v.BindPFlag(key, fs.Lookup(flag))
	}
}

// load returns the validated configuration. Every error names the file
// read (findConfigFile says which): "configuration ./xmppd.yaml: ...".
func (l *configLoader) load() (*Config, error) {
	f, err := findConfigFile(l.file, os.Getenv("XMPPD_CONFIG"))
	if err != nil {
		return nil, usageError{err}
	}
	where := "configuration"
	if f.path != "" {
		where = "configuration " + f.path
		l.v.SetConfigFile(f.path)
		l.v.SetConfigType(f.typ)
		if err := l.v.ReadInConfig(); err != nil {
			return nil, usagef("%s: %v", where, err)
		}
	}
	var c Config
	if err := l.v.Unmarshal(&c); err != nil {
		return nil, usagef("%s: %v", where, err)
	}
	if c.Store.Path == "" {
		c.Store.Path = filepath.Join(c.DataDir, "xmppd.db")
	}
	if c.Keys.Path == "" {
		c.Keys.Path = filepath.Join(c.DataDir, "keys.db")
	}
	if err := c.Validate(); err != nil {
		return nil, usageError{fmt.Errorf("%s:\n  %s", where, strings.ReplaceAll(err.Error(), "\n", "\n  "))}
	}
	return &c, nil
}

// ConfigFile returns the file the configuration came from, if any.
func (l *configLoader) ConfigFile() string { return l.v.ConfigFileUsed() }
