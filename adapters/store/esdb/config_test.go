package esdb

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // every problem the error must name; none for a good config
	}{
		{"single node", Config{URL: "esdb://localhost:2113?tls=false"}, nil},
		{"with credentials", Config{URL: "esdb://admin:changeit@db.example.org:2113"}, nil},
		{"cluster", Config{URL: "esdb+discover://node1:2113,node2:2113,node3:2113?nodePreference=leader"}, nil},
		{"options in any case", Config{URL: "esdb://localhost:2113?TLS=false&maxDiscoverAttempts=3&defaultDeadline=5000"}, nil},
		{"retries", Config{URL: "esdb://localhost:2113", AppendRetries: 10}, nil},
		{"empty", Config{}, []string{"url is required"}},
		{"http", Config{URL: "http://localhost:2113"}, []string{"invalid scheme"}},
		{"no host", Config{URL: "esdb://"}, []string{"doesn't have an host"}},
		{"bad bool", Config{URL: "esdb://localhost:2113?tls=maybe"}, []string{"'tls' must be either true or false"}},
		{"bad port", Config{URL: "esdb://localhost:notaport"}, []string{"invalid port"}},
		{"typo in a setting", Config{URL: "esdb://localhost:2113?tsl=false"}, []string{`unknown setting "tsl"`}},
		{"every problem at once", Config{URL: "esdb://localhost:2113?tsl=false&nodepref=x", AppendRetries: -1},
			[]string{`unknown setting "tsl"`, `unknown setting "nodepref"`, "append retries -1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestConfigErrorsHidePassword(t *testing.T) {
	err := Config{URL: "esdb://admin:s3cret@localhost:2113?tls=maybe"}.Validate()
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "admin:xxxxx@localhost") {
		t.Errorf("error %q shows the password or hides too much", err)
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"esdb://admin:changeit@h:2113", "esdb://admin:xxxxx@h:2113"},
		{"esdb://admin@h:2113", "esdb://admin@h:2113"},
		{"esdb://h:2113?x=a@b", "esdb://h:2113?x=a@b"},
		{"no scheme", "no scheme"},
	} {
		if got := redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAppendRetriesDefault(t *testing.T) {
	if got := (Config{}).appendRetries(); got != defaultAppendRetries {
		t.Errorf("default = %d", got)
	}
	if got := (Config{AppendRetries: 2}).appendRetries(); got != 2 {
		t.Errorf("set = %d", got)
	}
}

func TestClientConfigRoutesLogging(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	conf, err := Config{URL: "esdb://localhost:2113?tls=false", Logger: l}.clientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if conf.Address != "localhost:2113" || !conf.DisableTLS {
		t.Errorf("parsed address %q tls disabled %v", conf.Address, conf.DisableTLS)
	}
	conf.Logger(esdb.LogError, "discovery attempt %d of %d failed", 3, 10)
	out := buf.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "discovery attempt 3 of 10 failed") ||
		!strings.Contains(out, "component=esdb-client") {
		t.Errorf("logged %q", out)
	}
}

func TestSlogLevel(t *testing.T) {
	for _, tc := range []struct {
		in   esdb.LogLevel
		want slog.Level
	}{
		{esdb.LogDebug, slog.LevelDebug}, {esdb.LogInfo, slog.LevelInfo},
		{esdb.LogWarn, slog.LevelWarn}, {esdb.LogError, slog.LevelWarn}, {"other", slog.LevelWarn},
	} {
		if got := slogLevel(tc.in); got != tc.want {
			t.Errorf("slogLevel(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
