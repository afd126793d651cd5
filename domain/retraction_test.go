package domain_test

import (
	"testing"

	"xmppd/domain"
)

// TestRetractionHonoured: XEP-0424 section 5, one-to-one.
func TestRetractionHonoured(t *testing.T) {
	for _, c := range []struct {
		name, retractor, sender string
		want                    bool
	}{
		{"the sender retracts its own message", "alice@x", "alice@x", true},
		{"the recipient cannot retract what it received", "bob@x", "alice@x", false},
		{"a third party cannot", "eve@x", "alice@x", false},
		{"no retractor", "", "", false},
	} {
		if got := domain.RetractionHonoured(c.retractor, c.sender); got != c.want {
			t.Errorf("%s: RetractionHonoured(%q, %q) = %v, want %v", c.name, c.retractor, c.sender, got, c.want)
		}
	}
}
