package c2s_test

import (
	"testing"
	"time"

	"xmppd/adapters/c2s"
)

func TestMemoryThrottle(t *testing.T) {
	now := time.Unix(0, 0)
	th := c2s.NewMemoryThrottle(c2s.ThrottleConfig{MaxFailures: 3, Window: time.Minute, Backoff: 10 * time.Minute, Now: func() time.Time { return now }})

	// Failures spread wider than the window never block.
	for i := 0; i < 5; i++ {
		th.Record("10.0.0.1", "alice", false)
		now = now.Add(40 * time.Second)
	}
	if !th.Allow("10.0.0.1", "alice") {
		t.Fatal("blocked by failures outside the window")
	}

	// Three within the window block the address and the account.
	for i := 0; i < 3; i++ {
		th.Record("10.0.0.2", "bob", false)
	}
	if th.Allow("10.0.0.2", "") {
		t.Error("address not blocked")
	}
	if th.Allow("10.0.0.99", "bob") {
		t.Error("account not blocked from another address")
	}
	if !th.Allow("10.0.0.99", "carol") {
		t.Error("an unrelated address and account were blocked")
	}
	now = now.Add(10*time.Minute + time.Second)
	if !th.Allow("10.0.0.2", "bob") {
		t.Error("still blocked after the backoff")
	}

	// A success clears the account's count but not the address's.
	th.Record("10.0.0.3", "dave", false)
	th.Record("10.0.0.3", "dave", false)
	th.Record("10.0.0.3", "dave", true)
	th.Record("10.0.0.4", "dave", false)
	if !th.Allow("10.0.0.4", "dave") {
		t.Error("account blocked although a success reset it")
	}
	th.Record("10.0.0.3", "eve", false)
	if th.Allow("10.0.0.3", "") {
		t.Error("address count was laundered by a success")
	}
}
