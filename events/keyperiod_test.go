package events_test

import (
	"testing"
	"time"

	"xmppd/events"
)

// keys.period names each period so that its end can be computed from the
// name alone (adapters/keystore, retention): whatever period the key was
// made under, PeriodEnd of its name is the first instant after it.
func TestKeyPeriodNamesAndEnds(t *testing.T) {
	at := time.Date(2026, 12, 8, 14, 3, 21, 500, time.UTC)
	for _, c := range []struct {
		period, name string
		end          time.Time
	}{
		{"month", "2026-12", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"day", "2026-12-08", time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC)},
		{"hour", "2026-12-08T14", time.Date(2026, 12, 8, 15, 0, 0, 0, time.UTC)},
		{"2s", "2026-12-08T14:03:20Z+2s", time.Date(2026, 12, 8, 14, 3, 22, 0, time.UTC)},
		{"7d", "2026-12-03T00:00:00Z+7d", time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)},
	} {
		p, err := events.ParseKeyPeriod(c.period)
		if err != nil {
			t.Fatalf("ParseKeyPeriod(%q): %v", c.period, err)
		}
		name := p.Name(at)
		if name != c.name {
			t.Errorf("%s: Name = %q, want %q", c.period, name, c.name)
		}
		for _, n := range []string{name, name + "~2"} {
			end, err := events.PeriodEnd(n)
			if err != nil || !end.Equal(c.end) {
				t.Errorf("%s: PeriodEnd(%q) = %v, %v; want %v", c.period, n, end, err, c.end)
			}
		}
		if got := p.Name(c.end.Add(-time.Nanosecond)); got != name {
			t.Errorf("%s: the period's last instant is named %q, want %q", c.period, got, name)
		}
	}
	for _, bad := range []string{"500ms", "1.5s", "-1h", "week", "0s"} {
		if _, err := events.ParseKeyPeriod(bad); err == nil {
			t.Errorf("ParseKeyPeriod(%q) accepted", bad)
		}
	}
	if d, err := events.ParseDays("2555d"); err != nil || d != 2555*24*time.Hour || events.FormatDays(d) != "2555d" {
		t.Errorf("ParseDays(2555d) = %v, %v", d, err)
	}
}
