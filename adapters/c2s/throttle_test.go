package c2s_test

import (
	"strings"
	"testing"
	"time"

	"xmppd/adapters/c2s"
	"xmppd/events"
)

// step is one thing that happens to a throttle in a table test: a
// failure or success is recorded, or an attempt is checked against what
// it must be told. advance moves the clock first.
type step struct {
	advance time.Duration
	addr    string
	user    string
	record  string // "fail" (one failure), "failN" (n of them, see n), "ok", or "" to check
	n       int
	want    events.ThrottleDecision
	delay   time.Duration
}

func testThrottleConfig(now *time.Time) c2s.ThrottleConfig {
	return c2s.ThrottleConfig{
		FreeFailures: 3, AddrFreeFailures: 10,
		BaseDelay: time.Second, MaxDelay: 8 * time.Second,
		RefuseAfter: 30, RefuseFor: 10 * time.Minute, Window: 5 * time.Minute,
		MaxDelayedPerAddr: 100,
		Now:               func() time.Time { return *now },
	}
}

// TestMemoryThrottleDecisions runs each scenario on a fresh throttle with
// an injected clock and checks every decision and delay.
func TestMemoryThrottleDecisions(t *testing.T) {
	const attacker, owner = "192.0.2.66", "198.51.100.7"
	cases := []struct {
		name  string
		steps []step
	}{
		{"a few typos are answered at normal speed", []step{
			{addr: owner, user: "alice", record: "failN", n: 2},
			{addr: owner, user: "alice", want: events.ThrottleNone},
		}},
		{"the delay starts after FreeFailures, doubles, and stops at MaxDelay", []step{
			{addr: attacker, user: "alice", record: "failN", n: 3},
			{addr: attacker, user: "alice", want: events.ThrottleDelayed, delay: time.Second},
			{addr: attacker, user: "alice", record: "fail"},
			{addr: attacker, user: "alice", want: events.ThrottleDelayed, delay: 2 * time.Second},
			{addr: attacker, user: "alice", record: "fail"},
			{addr: attacker, user: "alice", want: events.ThrottleDelayed, delay: 4 * time.Second},
			{addr: attacker, user: "alice", record: "failN", n: 10},
			{addr: attacker, user: "alice", want: events.ThrottleDelayed, delay: 8 * time.Second},
		}},
		{"the owner from another address is never delayed nor refused", []step{
			{addr: attacker, user: "alice", record: "failN", n: 29},
			{addr: owner, user: "alice", want: events.ThrottleNone},
			{addr: owner, user: "", want: events.ThrottleNone},
			{addr: attacker, user: "alice", record: "fail"}, // the 30th: refused
			{addr: attacker, user: "", want: events.ThrottleRefused},
			{addr: owner, user: "alice", want: events.ThrottleNone},
		}},
		{"an address is refused at RefuseAfter, for RefuseFor, then starts again", []step{
			{addr: attacker, user: "alice", record: "failN", n: 30},
			{addr: attacker, user: "alice", want: events.ThrottleRefused},
			{addr: attacker, user: "bob", want: events.ThrottleRefused},
			{advance: 10*time.Minute - time.Second, addr: attacker, user: "", want: events.ThrottleRefused},
			{advance: time.Second, addr: attacker, user: "alice", want: events.ThrottleNone},
		}},
		{"failures older than Window are forgotten", []step{
			{addr: attacker, user: "alice", record: "failN", n: 5},
			{addr: attacker, user: "alice", want: events.ThrottleDelayed, delay: 4 * time.Second},
			{advance: 5*time.Minute + time.Second, addr: attacker, user: "alice", want: events.ThrottleNone},
		}},
		{"success clears the pair, not the address's guesses at others", []step{
			{addr: owner, user: "alice", record: "failN", n: 3},
			{addr: owner, user: "alice", record: "ok"},
			{addr: owner, user: "alice", want: events.ThrottleNone},
			// 3 at alice + 7 at others = AddrFreeFailures: the address is
			// slowed for every account, and alice's success did not help.
			{addr: owner, user: "bob", record: "failN", n: 2},
			{addr: owner, user: "carol", record: "failN", n: 2},
			{addr: owner, user: "dave", record: "failN", n: 2},
			{addr: owner, user: "erin", record: "fail"},
			{addr: owner, user: "alice", record: "ok"},
			{addr: owner, user: "alice", want: events.ThrottleDelayed, delay: time.Second},
			{addr: owner, user: "", want: events.ThrottleDelayed, delay: time.Second},
		}},
		{"spraying one password at many accounts is slowed per address", []step{
			{addr: attacker, user: "u1", record: "failN", n: 2},
			{addr: attacker, user: "u2", record: "failN", n: 2},
			{addr: attacker, user: "u3", record: "failN", n: 2},
			{addr: attacker, user: "u4", record: "failN", n: 2},
			{addr: attacker, user: "u5", record: "failN", n: 2},
			{addr: attacker, user: "u6", want: events.ThrottleDelayed, delay: time.Second},
			{addr: owner, user: "u6", want: events.ThrottleNone},
		}},
		{"IPv6 is counted by /64", []step{
			{addr: "2001:db8:1:2::1", user: "alice", record: "failN", n: 3},
			{addr: "2001:db8:1:2:ffff::9", user: "alice", want: events.ThrottleDelayed, delay: time.Second},
			{addr: "2001:db8:1:3::1", user: "alice", want: events.ThrottleNone},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(1_000_000, 0)
			th := c2s.NewMemoryThrottle(testThrottleConfig(&now))
			for i, s := range tc.steps {
				now = now.Add(s.advance)
				switch s.record {
				case "fail":
					th.Record(s.addr, s.user, false)
				case "failN":
					for range s.n {
						th.Record(s.addr, s.user, false)
					}
				case "ok":
					th.Record(s.addr, s.user, true)
				default:
					v := th.Check(s.addr, s.user)
					if v.Release != nil {
						v.Release()
					}
					if v.Decision != s.want || v.Delay != s.delay {
						t.Fatalf("step %d: %s at %q: %s %s (%s), want %s %s", i, s.addr, s.user, v.Decision, v.Delay, v.Reason, s.want, s.delay)
					}
				}
			}
		})
	}
}

// TestMemoryThrottleCapsWaitingAttempts: an address may have only
// MaxDelayedPerAddr attempts waiting; the next is refused at once, and a
// released slot is free again. Other addresses are not affected.
func TestMemoryThrottleCapsWaitingAttempts(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	cfg := testThrottleConfig(&now)
	cfg.MaxDelayedPerAddr = 2
	th := c2s.NewMemoryThrottle(cfg)
	for range 3 {
		th.Record("192.0.2.66", "alice", false)
	}
	a := th.Check("192.0.2.66", "alice")
	b := th.Check("192.0.2.66", "alice")
	if a.Decision != events.ThrottleDelayed || b.Decision != events.ThrottleDelayed {
		t.Fatalf("first two: %s, %s", a.Decision, b.Decision)
	}
	c := th.Check("192.0.2.66", "alice")
	if c.Decision != events.ThrottleRefused || !strings.Contains(c.Reason, "already wait") {
		t.Fatalf("third while two wait: %s (%s)", c.Decision, c.Reason)
	}
	if v := th.Check("198.51.100.7", "alice"); v.Decision != events.ThrottleNone {
		t.Fatalf("another address: %s", v.Decision)
	}
	a.Release()
	a.Release() // twice is once
	d := th.Check("192.0.2.66", "alice")
	if d.Decision != events.ThrottleDelayed {
		t.Fatalf("after one release: %s (%s)", d.Decision, d.Reason)
	}
	if e := th.Check("192.0.2.66", "alice"); e.Decision != events.ThrottleRefused {
		t.Fatalf("a double release freed two slots: %s", e.Decision)
	}
	b.Release()
	d.Release()
}

// TestMemoryThrottleBoundsMemory: with MaxEntries counts live, a new
// address is not counted (memory stays bounded); once the old counts
// expire they are swept and new ones are kept again.
func TestMemoryThrottleBoundsMemory(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	cfg := testThrottleConfig(&now)
	cfg.MaxEntries = 4
	th := c2s.NewMemoryThrottle(cfg)
	th.Record("192.0.2.1", "a", false) // 2 entries: address and pair
	th.Record("192.0.2.2", "a", false) // 4
	for range 5 {
		th.Record("192.0.2.3", "a", false)
	}
	if v := th.Check("192.0.2.3", ""); v.Decision != events.ThrottleNone {
		t.Fatalf("full table: a new address was counted (%s)", v.Decision)
	}
	now = now.Add(cfg.Window + time.Second)
	for range 4 {
		th.Record("192.0.2.3", "a", false)
	}
	if v := th.Check("192.0.2.3", "a"); v.Decision != events.ThrottleDelayed {
		t.Fatalf("after the sweep: %s", v.Decision)
	}
}

// TestThrottleConfigValidate reports every problem at once; the zero
// config is the defaults and valid.
func TestThrottleConfigValidate(t *testing.T) {
	if err := (c2s.ThrottleConfig{}).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	err := c2s.ThrottleConfig{FreeFailures: -1, Window: -time.Second, BaseDelay: 10 * time.Second, MaxDelay: time.Second, RefuseAfter: 5}.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"FreeFailures -1 is negative", "Window -1s is negative", "MaxDelay 1s is below BaseDelay 10s", "RefuseAfter 5 must be above"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q not in %v", want, err)
		}
	}
}
