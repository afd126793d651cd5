package events

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// KeyPeriod is how much time one key covers (keys.period): the
// granularity of crypto-shredding. Retention destroys a key only once its
// whole period is older than the retention, so a longer period keeps some
// content up to one period longer than the policy asks; a shorter one
// makes more keys (one per account and period that has content). Periods
// are aligned on multiples of their length since the Unix epoch (UTC),
// except the calendar month, and each period's name says where it ends
// (PeriodEnd), so a key store can tell when a key's period is over
// without knowing the configuration it was made under.
type KeyPeriod struct {
	d time.Duration // 0: the calendar month
}

// MonthPeriod is the default KeyPeriod: the UTC calendar month, named
// "2026-12" (the only naming before keys.period existed).
var MonthPeriod = KeyPeriod{}

// ParseKeyPeriod reads keys.period: "month", "day", "hour", or a
// duration of at least one second ("2s", "90m", "7d": a "d" suffix is 24
// hours).
func ParseKeyPeriod(s string) (KeyPeriod, error) {
	switch strings.TrimSpace(s) {
	case "", "month":
		return MonthPeriod, nil
	case "day":
		return KeyPeriod{d: 24 * time.Hour}, nil
	case "hour":
		return KeyPeriod{d: time.Hour}, nil
	}
	d, err := ParseDays(s)
	if err != nil {
		return KeyPeriod{}, fmt.Errorf("key period %q: %w (month, day, hour or a duration such as 6h or 7d)", s, err)
	}
	if d < time.Second || d%time.Second != 0 {
		return KeyPeriod{}, fmt.Errorf("key period %q must be a whole number of seconds, at least 1s", s)
	}
	return KeyPeriod{d: d}, nil
}

// ParseDays is time.ParseDuration that also reads whole days ("2555d"),
// the unit retention rules are written in.
func ParseDays(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseInt(n, 10, 64)
		if err != nil || days < 0 || days > int64(1<<63-1)/int64(24*time.Hour) {
			return 0, fmt.Errorf("%q is not a whole number of days", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("not a duration")
	}
	return d, nil
}

// FormatDays writes d as ParseDays reads it, in days when it is a whole
// number of them.
func FormatDays(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

func (p KeyPeriod) String() string {
	switch p.d {
	case 0:
		return "month"
	case 24 * time.Hour:
		return "day"
	case time.Hour:
		return "hour"
	}
	return FormatDays(p.d)
}

// Name is the name of the period t is in: "2026-12" for a month,
// "2026-12-08" for a day, "2026-12-08T14" for an hour, and otherwise the
// period's start and length, "2026-12-08T14:03:20Z+2s".
func (p KeyPeriod) Name(t time.Time) string {
	t = t.UTC()
	switch p.d {
	case 0:
		return t.Format("2006-01")
	case 24 * time.Hour:
		return t.Format("2006-01-02")
	case time.Hour:
		return t.Format("2006-01-02T15")
	}
	start := time.Unix(0, t.UnixNano()-mod(t.UnixNano(), int64(p.d))).UTC()
	return start.Format(time.RFC3339) + "+" + FormatDays(p.d)
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// PeriodEnd is when the period a key id's Period names ends: the first
// instant after it. A later generation's "~N" suffix (adapters/keystore)
// is ignored.
func PeriodEnd(period string) (time.Time, error) {
	name, _, _ := strings.Cut(period, "~")
	if start, length, ok := strings.Cut(name, "+"); ok {
		t, err := time.Parse(time.RFC3339, start)
		if err != nil {
			return time.Time{}, fmt.Errorf("events: key period %q: %w", period, err)
		}
		d, err := ParseDays(length)
		if err != nil || d <= 0 {
			return time.Time{}, fmt.Errorf("events: key period %q: bad length %q", period, length)
		}
		return t.Add(d), nil
	}
	for _, f := range []struct {
		layout string
		next   func(time.Time) time.Time
	}{
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.Add(24 * time.Hour) }},
		{"2006-01-02T15", func(t time.Time) time.Time { return t.Add(time.Hour) }},
	} {
		if t, err := time.Parse(f.layout, name); err == nil {
			return f.next(t), nil
		}
	}
	return time.Time{}, fmt.Errorf("events: key period %q is not a period name", period)
}

// PeriodNamer is an optional ability of a KeySource: one that makes keys
// for periods other than the calendar month says how it names the
// period of an instant (KeyPeriod.Name). SealPersonal asks it.
type PeriodNamer interface {
	PeriodName(t time.Time) string
}

// periodOf is the period SealPersonal seals content of account recorded
// at t under.
func periodOf(keys KeySource, t time.Time) string {
	if n, ok := keys.(PeriodNamer); ok {
		return n.PeriodName(t)
	}
	return PeriodOf(t)
}
