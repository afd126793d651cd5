package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"mellium.im/xmpp/jid"
)

// Config is xmppd's whole configuration. Every key can be set in the YAML
// file, as an XMPPD_* environment variable (dots become underscores:
// XMPPD_STORE_KIND) or, for the common ones, as a flag.
type Config struct {
	Domain  string      `mapstructure:"domain"`
	Node    string      `mapstructure:"node"`
	DataDir string      `mapstructure:"data_dir"`
	Store   StoreConfig `mapstructure:"store"`
	C2S     C2SConfig   `mapstructure:"c2s"`
	TLS     TLSConfig   `mapstructure:"tls"`
	Metrics MetricsConf `mapstructure:"metrics"`
	Auth    AuthConfig  `mapstructure:"auth"`

	// Limits are the quotas of one account or session (limits.go).
	Limits LimitsConfig `mapstructure:"limits"`
}

// StoreConfig selects the event store.
type StoreConfig struct {
	Kind string `mapstructure:"kind"` // "sqlite" or "esdb"
	Path string `mapstructure:"path"` // sqlite: file; default <data_dir>/xmppd.db
	URL  string `mapstructure:"url"`  // esdb: connection string
}

// C2SConfig holds the client listener settings.
type C2SConfig struct {
	StartTLSAddr   string `mapstructure:"starttls_addr"`
	DirectTLSAddr  string `mapstructure:"tls_addr"`
	MaxStanzaBytes int    `mapstructure:"max_stanza_bytes"`
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

// AuthConfig tunes credential storage.
type AuthConfig struct {
	ScramIterations int `mapstructure:"scram_iterations"`
}

func defaults() map[string]any {
	host, _ := os.Hostname()
	if host == "" {
		host = "node-1"
	}
	d := map[string]any{
		"domain":                "localhost",
		"node":                  host,
		"data_dir":              "./data",
		"store.kind":            "sqlite",
		"store.path":            "",
		"store.url":             "",
		"c2s.starttls_addr":     ":5222",
		"c2s.tls_addr":          ":5223",
		"c2s.max_stanza_bytes":  262144,
		"tls.cert":              "",
		"tls.key":               "",
		"metrics.addr":          "127.0.0.1:9271",
		"metrics.pprof":         false,
		"auth.scram_iterations": 4096,
	}
	for k, v := range limitsDefaults() {
		d[k] = v
	}
	return d
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	if _, err := jid.Parse(c.Domain); err != nil || c.Domain == "" || strings.ContainsAny(c.Domain, "@/") {
		errs = append(errs, fmt.Errorf("domain %q is not a valid XMPP domain", c.Domain))
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
	if c.C2S.MaxStanzaBytes < 10000 {
		// RFC 6120 13.12: the limit MUST be at least 10000 bytes.
		errs = append(errs, fmt.Errorf("c2s.max_stanza_bytes %d is below RFC 6120's minimum of 10000", c.C2S.MaxStanzaBytes))
	}
	errs = append(errs, c.Limits.validate()...)
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
	fs.StringVarP(&l.file, "config", "c", "", "configuration file (default: ./xmppd.yaml or /etc/xmppd/xmppd.yaml when present)")
	fs.String("domain", "", "XMPP domain served (default localhost)")
	fs.String("data-dir", "", "data directory (default ./data)")
	fs.String("store", "", "event store: sqlite or esdb")
	fs.String("store-path", "", "SQLite event log file (default <data-dir>/xmppd.db)")
	fs.String("store-url", "", "EventStoreDB connection string (esdb://...)")
	for key, flag := range map[string]string{
		"domain": "domain", "data_dir": "data-dir", "store.kind": "store",
		"store.path": "store-path", "store.url": "store-url",
	} {
		_ = l.v.BindPFlag(key, fs.Lookup(flag))
	}
}

// load returns the validated configuration.
func (l *configLoader) load() (*Config, error) {
	switch {
	case l.file != "":
		l.v.SetConfigFile(l.file)
	case os.Getenv("XMPPD_CONFIG") != "":
		l.v.SetConfigFile(os.Getenv("XMPPD_CONFIG"))
	default:
		l.v.SetConfigName("xmppd")
		l.v.SetConfigType("yaml")
		l.v.AddConfigPath(".")
		l.v.AddConfigPath("/etc/xmppd")
	}
	if err := l.v.ReadInConfig(); err != nil {
		var notFound viper.ConfigFileNotFoundError
		if !errors.As(err, &notFound) {
			return nil, usagef("configuration: %v", err)
		}
	}
	var c Config
	if err := l.v.Unmarshal(&c); err != nil {
		return nil, usagef("configuration: %v", err)
	}
	if c.Store.Path == "" {
		c.Store.Path = filepath.Join(c.DataDir, "xmppd.db")
	}
	if err := c.Validate(); err != nil {
		return nil, usageError{fmt.Errorf("configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))}
	}
	return &c, nil
}

// ConfigFile returns the file the configuration came from, if any.
func (l *configLoader) ConfigFile() string { return l.v.ConfigFileUsed() }
