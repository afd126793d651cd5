package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCLIRefusesBadCommandLines(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no scenario", nil, "usage"},
		{"unknown scenario", []string{"stress"}, "unknown scenario"},
		{"remote target", []string{"login", "--addr", "10.1.2.3:5222"}, "not a loopback address"},
		{"unknown flag", []string{"login", "--bogus"}, "bogus"},
		{"odd chat users", []string{"chat", "--users", "3"}, "even"},
		{"fanout without contacts", []string{"fanout", "--users", "1"}, "at least 2"},
		{"duration past max-time", []string{"login", "--duration", "10m", "--max-time", "5m"}, "shorter than --max-time"},
		{"pattern without %d", []string{"login", "--user-pattern", "alice"}, "%d exactly once"},
		{"bad mechanism", []string{"login", "--mech", "DIGEST-MD5"}, "not one of"},
		{"too many users", []string{"idle", "--users", "1000000"}, "--users"},
		{"hub out of range", []string{"roster", "--users", "2", "--hub", "2"}, "--hub"},
		{"fill-roster without items", []string{"fill-roster"}, "--items"},
		{"stray argument", []string{"login", "extra"}, "unexpected arguments"},
	}
	for _, tc := range cases {
		code, _, stderr := runCLI(t, tc.args...)
		if code != exitUsage {
			t.Errorf("%s: exit %d, want %d", tc.name, code, exitUsage)
		}
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: stderr %q does not mention %q", tc.name, stderr, tc.want)
		}
	}
}

func TestCLIReportsEveryProblemAtOnce(t *testing.T) {
	_, _, stderr := runCLI(t, "chat", "--addr", "10.0.0.1:5222", "--users", "3", "--window", "0")
	for _, want := range []string{"loopback", "even", "--window"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not mention %q", stderr, want)
		}
	}
}

func TestProvisionPrintsCommandsPerServer(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--server", "xmppd", "--users", "2"}, []string{
			"xmppd user add user1@localhost --password pass1", "xmppd user add user2@localhost --password pass2"}},
		{[]string{"--server", "prosody", "--users", "1", "--first", "7", "--prosody-config", "/tmp/p d.cfg.lua"}, []string{
			"prosodyctl --config '/tmp/p d.cfg.lua' register user7 localhost pass7"}},
		{[]string{"--server", "ejabberd", "--users", "1", "--password-pattern", "it's%d"}, []string{
			`ejabberdctl register user1 localhost 'it'\''s1'`}},
	}
	for _, tc := range cases {
		code, out, stderr := runCLI(t, append([]string{"provision"}, tc.args...)...)
		if code != exitOK {
			t.Fatalf("provision %v: exit %d: %s", tc.args, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if strings.Join(lines, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("provision %v printed\n%s\nwant\n%s", tc.args, out, strings.Join(tc.want, "\n"))
		}
	}
}

func TestParseProcFiles(t *testing.T) {
	status := "Name:\tprosody\nVmPeak:\t  300 kB\nVmRSS:\t   20788 kB\nThreads:\t1\n"
	got, err := parseVmRSS(strings.NewReader(status))
	if err != nil || got != 20788*1024 {
		t.Fatalf("parseVmRSS = %d, %v; want %d", got, err, 20788*1024)
	}
	if _, err := parseVmRSS(strings.NewReader("Name:\tkthreadd\n")); err == nil {
		t.Fatal("a status without VmRSS parsed")
	}
	// Field 2 may hold spaces and parentheses; utime 250 + stime 50 ticks.
	stat := "4242 (lua (5.4) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 1 0 100 200 300"
	if cpu, err := parseStatCPU(stat); err != nil || cpu != 3*time.Second {
		t.Fatalf("parseStatCPU = %v, %v; want 3s", cpu, err)
	}
	if _, err := parseStatCPU("4242 (x) S 1"); err == nil {
		t.Fatal("a short stat line parsed")
	}
	if n, err := readRSS(1 << 30); err == nil {
		t.Fatalf("readRSS of a process that cannot exist = %d", n)
	}
}
