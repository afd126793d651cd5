package main

import (
	"fmt"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/events"
	"xmppd/im"
)

// RetentionConf is the retention part of archive (issue 13): how long
// personal content is kept after the end of the key period it was sealed
// in, and how often the server looks for keys to expire.
//
// The default keeps everything for ever: destroying keys cannot be
// undone, and the right duration is a legal decision (seven years for
// some financial records, a few months elsewhere) the operator must make,
// not a number xmppd should guess.
type RetentionConf struct {
	// Retention is the domain's policy: a duration ("2555d", "720h"),
	// or "forever" or "0" to keep everything.
	Retention string `mapstructure:"retention"`
	// Overrides are per-account exceptions, "JID=DURATION" each
	// ("alice@example.org=90d", "ceo@example.org=forever"). A list
	// rather than a map: viper splits map keys at dots, and every JID has
	// one.
	Overrides []string `mapstructure:"retention_overrides"`
	// Interval is the time between two sweeps; the first runs at start.
	Interval time.Duration `mapstructure:"retention_interval"`
}

func retentionDefaults() map[string]any {
	return map[string]any{
		"archive.retention":           "forever",
		"archive.retention_overrides": []string{},
		"archive.retention_interval":  im.DefaultRetentionInterval.String(),
		"keys.period":                 "month",
	}
}

// parseRetention reads one retention: "forever" or "0" is 0 (kept for
// ever).
func parseRetention(s string) (time.Duration, error) {
	switch strings.TrimSpace(s) {
	case "", "0", "forever":
		return 0, nil
	}
	d, err := events.ParseDays(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a retention: write a duration (2555d, 720h) or forever", s)
	}
	return d, nil
}

// policy is the retention as the core takes it, for accounts of domain;
// every problem is reported at once.
func (r RetentionConf) policy(domain string) (im.RetentionConfig, []error) {
	var errs []error
	out := im.RetentionConfig{Interval: r.Interval, Accounts: map[string]time.Duration{}}
	var err error
	if out.Default, err = parseRetention(r.Retention); err != nil {
		errs = append(errs, fmt.Errorf("archive.retention: %v", err))
	}
	if r.Interval <= 0 {
		errs = append(errs, fmt.Errorf("archive.retention_interval %s must be positive (e.g. 1h)", r.Interval))
	}
	for _, o := range r.Overrides {
		who, how, ok := strings.Cut(o, "=")
		j, jerr := jid.Parse(strings.TrimSpace(who))
		d, derr := parseRetention(how)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("archive.retention_overrides: %q is not JID=DURATION (alice@%s=90d)", o, domain))
		case jerr != nil || j.Localpart() == "" || j.Resourcepart() != "":
			errs = append(errs, fmt.Errorf("archive.retention_overrides: %q does not name an account (a bare JID)", who))
		case j.Domainpart() != domain:
			errs = append(errs, fmt.Errorf("archive.retention_overrides: %s is not on this server's domain %s", j, domain))
		case derr != nil:
			errs = append(errs, fmt.Errorf("archive.retention_overrides: %s: %v", j, derr))
		default:
			out.Accounts[j.String()] = d
		}
	}
	return out, errs
}
