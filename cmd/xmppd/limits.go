package main

import (
	"fmt"
	"time"

	"xmppd/adapters/c2s"
	"xmppd/adapters/metrics"
	"xmppd/domain"
	"xmppd/im"
)

// The metrics count the stanza rate's delays (c2s finds the ability by
// type assertion; this keeps it from silently disappearing).
var _ c2s.RateMetrics = (*metrics.Metrics)(nil)

// LimitsConfig is what one account or session may take (keys limits.*).
// Zero means no limit for every one of them, so that an operator can turn
// a quota off; the defaults are in limitsDefaults, and why they were
// chosen is in the packages that enforce them (im.DefaultMaxResources,
// domain.DefaultMaxRosterItems, c2s.DefaultStanzaRate).
type LimitsConfig struct {
	// ResourcesPerAccount: live sessions of one account; the next bind
	// gets <resource-constraint/> (RFC 6120 7.6.2.1).
	ResourcesPerAccount int `mapstructure:"resources_per_account"`
	// RosterItems: items in one roster; a new item over it gets
	// <policy-violation/>.
	RosterItems int `mapstructure:"roster_items"`
	// GroupsPerItem: groups one roster item may name; more get
	// <not-acceptable/>.
	GroupsPerItem int `mapstructure:"groups_per_item"`
	// RosterNameBytes and GroupNameBytes: RFC 6121 2.3.3's
	// "server-configured limit" on an item's name and a group's name
	// (<not-acceptable/>). Not zero: RFC 6121 names the limit, not its
	// absence.
	RosterNameBytes int `mapstructure:"roster_name_bytes"`
	GroupNameBytes  int `mapstructure:"group_name_bytes"`
	// StanzaRate (stanzas a second) and StanzaBurst: one session's token
	// bucket; a client over it is read more slowly, never refused.
	StanzaRate  float64 `mapstructure:"stanza_rate"`
	StanzaBurst int     `mapstructure:"stanza_burst"`
	// FloodTimeout: how long a session may stay over the rate before it
	// is closed with <policy-violation/>; zero: never.
	FloodTimeout time.Duration `mapstructure:"flood_timeout"`
}

func limitsDefaults() map[string]any {
	p := domain.DefaultPolicy()
	return map[string]any{
		"limits.resources_per_account": im.DefaultMaxResources,
		"limits.roster_items":          p.MaxRosterItems,
		"limits.groups_per_item":       p.MaxGroupsPerItem,
		"limits.roster_name_bytes":     p.MaxNameLength,
		"limits.group_name_bytes":      p.MaxGroupLength,
		"limits.stanza_rate":           c2s.DefaultStanzaRate,
		"limits.stanza_burst":          c2s.DefaultStanzaBurst,
		"limits.flood_timeout":         c2s.DefaultFloodTimeout,
	}
}

// validate reports every problem with the limits.
func (l LimitsConfig) validate() []error {
	var errs []error
	for _, f := range []struct {
		key string
		v   int
	}{
		{"resources_per_account", l.ResourcesPerAccount}, {"roster_items", l.RosterItems},
		{"groups_per_item", l.GroupsPerItem}, {"stanza_burst", l.StanzaBurst},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("limits.%s %d is negative (0 means no limit)", f.key, f.v))
		}
	}
	for _, f := range []struct {
		key string
		v   int
	}{{"roster_name_bytes", l.RosterNameBytes}, {"group_name_bytes", l.GroupNameBytes}} {
		if f.v < 1 {
			errs = append(errs, fmt.Errorf("limits.%s %d must be at least 1", f.key, f.v))
		}
	}
	if l.StanzaRate < 0 || l.StanzaRate != l.StanzaRate || l.StanzaRate > 1e9 {
		errs = append(errs, fmt.Errorf("limits.stanza_rate %v is not between 0 (no limit) and 1e9 stanzas a second", l.StanzaRate))
	}
	if l.StanzaRate > 0 && l.StanzaBurst < 1 {
		errs = append(errs, fmt.Errorf("limits.stanza_burst must be at least 1 when limits.stanza_rate is set"))
	}
	if l.FloodTimeout < 0 {
		errs = append(errs, fmt.Errorf("limits.flood_timeout %v is negative (0 means never)", l.FloodTimeout))
	}
	return errs
}

// policy is the roster policy of the limits.
func (l LimitsConfig) policy() domain.Policy {
	p := domain.DefaultPolicy()
	p.MaxRosterItems, p.MaxGroupsPerItem = l.RosterItems, l.GroupsPerItem
	p.MaxNameLength, p.MaxGroupLength = l.RosterNameBytes, l.GroupNameBytes
	return p
}

// maxResources is im.Config.MaxResources (there, negative is none).
func (l LimitsConfig) maxResources() int {
	return orNone(l.ResourcesPerAccount)
}

// stanzaRate is c2s.Config.StanzaRate (there, zero is the default and
// negative is none).
func (l LimitsConfig) stanzaRate() float64 {
	if l.StanzaRate == 0 {
		return -1
	}
	return l.StanzaRate
}

// floodTimeout is c2s.Config.FloodTimeout (there, negative is never).
func (l LimitsConfig) floodTimeout() time.Duration {
	return time.Duration(orNone(int(l.FloodTimeout)))
}

// orNone maps the configuration's "0: no limit" to the packages' "negative:
// no limit" (their zero is their default).
func orNone(v int) int {
	if v == 0 {
		return -1
	}
	return v
}
