package domain_test

import (
	"testing"

	"xmppd/domain"
)

// TestAdmitOffline: XEP-0160 section 3, a full offline queue refuses with
// service-unavailable; a zero limit is none.
func TestAdmitOffline(t *testing.T) {
	l := domain.OfflineLimit{Messages: 3, Bytes: 100}
	rows := []struct {
		name               string
		l                  domain.OfflineLimit
		count, total, size int
		ok                 bool
	}{
		{"room left", l, 2, 50, 50, true},
		{"message count reached", l, 3, 10, 1, false},
		{"bytes would pass the limit", l, 1, 60, 41, false},
		{"bytes exactly at the limit", l, 1, 60, 40, true},
		{"no limit", domain.OfflineLimit{}, 1 << 20, 1 << 40, 1 << 20, true},
	}
	for _, r := range rows {
		err := domain.AdmitOffline(r.l, r.count, r.total, r.size)
		if (err == nil) != r.ok {
			t.Errorf("%s: got %v, want ok=%v", r.name, err, r.ok)
		}
		if err != nil && domain.KindOf(err) != domain.ServiceUnavailable {
			t.Errorf("%s: kind %v, want service-unavailable (XEP-0160 section 3)", r.name, domain.KindOf(err))
		}
	}
}
