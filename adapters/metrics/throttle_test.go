package metrics_test

import (
	"testing"

	"xmppd/adapters/metrics"
)

// TestAuthThrottled: both decisions are exported from the start (a
// dashboard sees 0, not nothing), each is counted, and a decision the
// metrics do not know is no new label value.
func TestAuthThrottled(t *testing.T) {
	m := metrics.New()
	if got := gather(t, m); got["xmppd_auth_throttled_total{decision=delayed}"] != 0 || got["xmppd_auth_throttled_total{decision=refused}"] != 0 {
		t.Fatalf("before any decision: %v", got)
	} else if _, ok := got["xmppd_auth_throttled_total{decision=refused}"]; !ok {
		t.Fatal("decision=refused not exported before the first refusal")
	}
	m.AuthThrottled("delayed")
	m.AuthThrottled("delayed")
	m.AuthThrottled("refused")
	m.AuthThrottled("none")
	got := gather(t, m)
	if got["xmppd_auth_throttled_total{decision=delayed}"] != 2 || got["xmppd_auth_throttled_total{decision=refused}"] != 1 {
		t.Errorf("counts: %v", got)
	}
	if _, ok := got["xmppd_auth_throttled_total{decision=none}"]; ok {
		t.Error("an unknown decision became a label value")
	}
}
