package main

import (
	"fmt"
	"time"

	"xmppd/im"
)

// RefusalLogConf is auth.refusal_log: how much the logins refused by the
// failed-login throttle write to the log (im.RefusalLogConfig). An
// address's first refused attempt in each interval is recorded whole as
// session.auth_failed; the others are counted and recorded as one
// session.auth_refusals_summarised per address per interval.
type RefusalLogConf struct {
	Interval     time.Duration `mapstructure:"interval"`
	MaxAddresses int           `mapstructure:"max_addresses"`
}

func refusalLogDefaults() map[string]any {
	return map[string]any{
		"auth.refusal_log.interval":      im.DefaultRefusalInterval,
		"auth.refusal_log.max_addresses": im.DefaultRefusalMaxAddresses,
	}
}

// server is the configuration for the server package.
func (r RefusalLogConf) server() im.RefusalLogConfig {
	return im.RefusalLogConfig{Interval: r.Interval, MaxAddresses: r.MaxAddresses}
}

// validate names the keys: zero is not "the default" in the file.
func (r RefusalLogConf) validate() []error {
	var errs []error
	if r.Interval < time.Second {
		errs = append(errs, fmt.Errorf("auth.refusal_log.interval %s must be at least 1s: each address may write one event per interval", r.Interval))
	}
	if r.MaxAddresses < 1 {
		errs = append(errs, fmt.Errorf("auth.refusal_log.max_addresses %d must be at least 1", r.MaxAddresses))
	}
	return errs
}
