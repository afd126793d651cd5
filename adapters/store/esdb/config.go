package esdb

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// Config says how to reach EventStoreDB. cmd/xmppd fills it from the
// configuration file; nothing here reads the environment.
type Config struct {
	// URL is an EventStoreDB connection string: "esdb://host:2113" for one
	// node or "esdb+discover://host:2113" for a cluster found by gossip,
	// with options as query parameters (for example "?tls=false", or
	// "esdb://admin:changeit@host:2113" with credentials).
	URL string

	// Logger receives the client's own messages (discovery retries,
	// dropped connections), which it would otherwise print to the
	// standard logger. Nil discards them.
	Logger *slog.Logger

	// AppendRetries is how many times Append with events.Any re-reads the
	// stream's head and tries again when another writer extended the
	// stream between the read and the write. 0 means the default, 10.
	AppendRetries int
}

const defaultAppendRetries = 10

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("url is required (esdb://host:2113 or esdb+discover://host:2113)"))
	} else {
		unknown := unknownSettings(c.URL)
		for _, k := range unknown {
			errs = append(errs, fmt.Errorf("url %q: unknown setting %q", redact(c.URL), k))
		}
		// The parser only warns about unknown settings, on the standard
		// logger, before any Logger of ours is in place: report them above
		// as errors instead (a "tsl=false" typo must not go unnoticed), and
		// parse only a URL without them.
		if len(unknown) == 0 {
			if _, err := esdb.ParseConnectionString(c.URL); err != nil {
				errs = append(errs, fmt.Errorf("url %q: %w", redact(c.URL), err))
			}
		}
	}
	if c.AppendRetries < 0 {
		errs = append(errs, fmt.Errorf("append retries %d: must not be negative", c.AppendRetries))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("esdb: invalid config: %w", err)
	}
	return nil
}

// clientConfig parses c.URL and routes the client's logging to c.Logger.
func (c Config) clientConfig() (*esdb.Configuration, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	conf, err := esdb.ParseConnectionString(c.URL)
	if err != nil {
		return nil, fmt.Errorf("esdb: url %q: %w", redact(c.URL), err)
	}
	conf.Logger = logTo(c.Logger)
	return conf, nil
}

func (c Config) appendRetries() int {
	if c.AppendRetries == 0 {
		return defaultAppendRetries
	}
	return c.AppendRetries
}

// knownSetting reports whether EventStore-Client-Go v4.2.0 understands the
// query parameter k (compared in lower case, as it does).
func knownSetting(k string) bool {
	switch strings.ToLower(k) {
	case "discoveryinterval", "gossiptimeout", "maxdiscoverattempts", "nodepreference",
		"keepaliveinterval", "keepalivetimeout", "tls", "tlscafile", "usercertfile",
		"userkeyfile", "tlsverifycert", "defaultdeadline":
		return true
	}
	return false
}

// unknownSettings returns the query parameters of url the client would
// ignore, in order.
func unknownSettings(url string) []string {
	_, query, ok := strings.Cut(url, "?")
	if !ok {
		return nil
	}
	var unknown []string
	for _, kv := range strings.Split(query, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if k != "" && !knownSetting(k) {
			unknown = append(unknown, k)
		}
	}
	return unknown
}

// redact hides the password of a connection string in error messages,
// which end up in logs.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	userinfo, host, ok := strings.Cut(rest, "@")
	if !ok || strings.ContainsAny(userinfo, "/?") {
		return url
	}
	if user, _, hasPass := strings.Cut(userinfo, ":"); hasPass {
		return scheme + "://" + user + ":xxxxx@" + host
	}
	return url
}
