package sqlite_test

import (
	"strings"
	"testing"
	"time"

	"xmppd/adapters/store/sqlite"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  sqlite.Config
		want []string // substrings of the error; none means valid
	}{
		{"path only is valid", sqlite.Config{Path: "x.db"}, nil},
		{"read-only with tuning is valid", sqlite.Config{Path: "x.db", ReadOnly: true, BusyTimeout: time.Second, PollInterval: 250 * time.Millisecond, ReadConns: 2}, nil},
		{"empty path", sqlite.Config{}, []string{"path is empty"}},
		{"memory path", sqlite.Config{Path: ":memory:"}, []string{":memory:"}},
		{"slow poll", sqlite.Config{Path: "x.db", PollInterval: 2 * time.Second}, []string{"over 1s"}},
		{"every problem at once", sqlite.Config{BusyTimeout: -1, PollInterval: -1, ReadConns: -1, MaxBatchEvents: -1, CacheKiB: -1},
			[]string{"path is empty", "busy timeout", "poll interval", "read connections", "max batch", "cache size"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted the config")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
