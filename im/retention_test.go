package im_test

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/events"
	"xmppd/im"
)

// Issue 13 "Retention", on calendar months as xmppd serve keys them by
// default: a 30-day domain retention expires January's keys only once
// January ended 30 days ago; an account exempted by an override
// ("forever") and an account under legal hold (placed by another writer
// of the log, as `xmppd hold add` is) keep theirs. Each account's
// destruction is one keys.expired event in the compliance stream, naming
// the periods and the retention, and nothing else is recorded.
func TestRetentionExpiresWholePeriodsAndSparesHeldAccounts(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	e := newEnv(t)
	e.tuneIM = func(c *im.Config) {
		c.Clock = now
		c.Retention = im.RetentionConfig{Default: 30 * 24 * time.Hour, Interval: 10 * time.Millisecond,
			Accounts: map[string]time.Duration{"carol@localhost": 0}}
	}
	for _, u := range []string{"alice", "bob", "carol"} {
		e.addUser(u)
	}
	e.start()
	a, b, c := e.login("alice", "phone"), e.login("bob", "laptop"), e.login("carol", "pc")
	a.send(`<message to='%s' type='chat' id='m1'><body>january-to-bob</body></message>`, b.jid)
	b.expect(message(a.jid, "january-to-bob"))
	c.send(`<message to='%s' type='chat' id='m2'><body>january-to-alice</body></message>`, a.jid)
	a.expect(message(c.jid, "january-to-alice"))
	bob := jid.MustParse("bob@localhost")
	if err := (im.Holds{Store: e.store}).Place(t.Context(), bob, "C-1", "litigation", "test", events.Meta{Actor: "admin:test"}); err != nil {
		t.Fatal(err)
	}
	jan := func(account string) events.KeyID { return events.KeyID{Account: account, Period: "2026-01"} }
	gone := func(account string) string {
		_, g, err := e.keys.Lookup(jan(account))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	for _, u := range []string{"alice@localhost", "bob@localhost", "carol@localhost"} {
		if g := gone(u); g != "" {
			t.Fatalf("%s's January key reads as %q before any retention", u, g)
		}
	}

	// February 20th: January ended 19 days ago, under the 30 days.
	clock.Store(time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC).UnixNano())
	time.Sleep(100 * time.Millisecond) // ten sweeps
	if g := gone("alice@localhost"); g != "" {
		t.Fatalf("alice's January key is %q 19 days after January: retention counts from the period's end", g)
	}
	// March 4th: January ended 31 days ago.
	clock.Store(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC).UnixNano())
	e.eventually("alice's January key to expire", func() bool { return gone("alice@localhost") == events.GoneExpired })
	time.Sleep(100 * time.Millisecond)
	if gone("bob@localhost") != "" || gone("carol@localhost") != "" {
		t.Errorf("held bob's key is %q, exempted carol's %q: want both kept", gone("bob@localhost"), gone("carol@localhost"))
	}
	_, ps := e.readStream(events.ComplianceStream("localhost"))
	var expired []events.KeysExpired
	for _, p := range ps {
		if x, ok := p.(events.KeysExpired); ok {
			expired = append(expired, x)
		}
	}
	if len(expired) != 1 || expired[0].Account != "alice@localhost" || !slices.Contains(expired[0].Periods, "2026-01") ||
		expired[0].Retention != "30d" || !expired[0].Before.Equal(time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("compliance stream's expiries: %+v; want one for alice's January, retention 30d, cut-off February 2nd", expired)
	}
}
