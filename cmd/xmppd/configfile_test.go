package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes name -> content into dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// An xmppd.json or xmppd.toml in the working directory is some other
// tool's file: xmppd reads only ./xmppd.yaml (or ./xmppd.yml). Each file
// here sets domain example.org, so had it been read, adding an account on
// the default domain (localhost) would be refused; the broken ones would
// stop every command ("'tls' expected a map").
func TestConfigIgnoresOtherFilesInWorkingDir(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"valid json":  {"xmppd.json": `{"domain": "example.org"}`},
		"broken json": {"xmppd.json": `{"domain": "example.org", "tls": "x"}`},
		"valid toml":  {"xmppd.toml": "domain = \"example.org\"\n"},
		"broken toml": {"xmppd.toml": "domain = \"example.org\"\ntls = \"x\"\n"},
		"all of them": {"xmppd.json": `{"tls": 1}`, "xmppd.toml": "tls = 1\n", "xmppd.ini": "tls=1\n", "xmppd.env": "TLS=1\n"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, files)
			r := mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "pw")
			if !strings.Contains(r.stdout, "created alice@localhost") {
				t.Fatalf("stdout %q, want the account created on the default domain", r.stdout)
			}
		})
	}
}

// The files xmppd does read are read: ./xmppd.yaml, ./xmppd.yml, and a
// file named by --config or XMPPD_CONFIG, parsed as JSON or TOML by its
// extension and as YAML under any other name. Each sets domain example.org,
// which an account on that domain proves (the default, localhost, would
// refuse it).
func TestConfigReadsTheNamedFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		args  []string
		env   string // XMPPD_CONFIG
	}{
		{name: "./xmppd.yaml", files: map[string]string{"xmppd.yaml": "domain: example.org\n"}},
		{name: "./xmppd.yml", files: map[string]string{"xmppd.yml": "domain: example.org\n"}},
		{name: "--config json", files: map[string]string{"c.json": `{"domain": "example.org"}`}, args: []string{"--config", "c.json"}},
		{name: "--config toml", files: map[string]string{"c.toml": "domain = \"example.org\"\n"}, args: []string{"--config", "c.toml"}},
		{name: "--config other name is yaml", files: map[string]string{"xmppd.conf": "domain: example.org\n"}, args: []string{"-c", "xmppd.conf"}},
		{name: "XMPPD_CONFIG", files: map[string]string{"c.yaml": "domain: example.org\n"}, env: "c.yaml"},
		{name: "--config wins over ./xmppd.yaml", files: map[string]string{"xmppd.yaml": "domain: [\n", "c.yaml": "domain: example.org\n"},
			args: []string{"--config", "c.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			t.Setenv("XMPPD_CONFIG", tc.env) // inherited by the child; empty is unset to xmppd
			argv := append(append([]string{}, tc.args...), "user", "add", "alice@example.org", "--password", "pw")
			r := mustRun(t, dir, "", argv...)
			if !strings.Contains(r.stdout, "created alice@example.org") {
				t.Fatalf("stdout %q", r.stdout)
			}
		})
	}
}

// Every configuration error names the file it is about, with the usage
// exit code 2: a YAML syntax error, a value of the wrong shape, a value
// out of range, a named file that is not there, two candidate files.
func TestConfigErrorsNameTheFile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		args  []string
		env   string
		want  []string // in stderr, in order
	}{
		{name: "yaml syntax", files: map[string]string{"xmppd.yaml": "domain: [\n"},
			want: []string{"xmppd: configuration ./xmppd.yaml: ", "yaml: line "}},
		{name: "yml syntax", files: map[string]string{"xmppd.yml": "c2s: {\n"},
			want: []string{"xmppd: configuration ./xmppd.yml: ", "yaml: "}},
		{name: "wrong shape", files: map[string]string{"xmppd.yaml": "tls: x\n"},
			want: []string{"xmppd: configuration ./xmppd.yaml: ", "'tls' expected a map"}},
		{name: "bad value", files: map[string]string{"xmppd.yaml": "c2s:\n  queue_len: 0\n"},
			want: []string{"xmppd: configuration ./xmppd.yaml:\n", "c2s.queue_len 0 must be at least 1"}},
		{name: "archive policy", files: map[string]string{"xmppd.yaml": "archive:\n  policy: sometimes\n"},
			want: []string{"xmppd: configuration ./xmppd.yaml:\n", `archive.policy: archive policy "sometimes" is neither "user" nor "always"`}},
		{name: "bad value in --config json", files: map[string]string{"c.json": `{"c2s": {"queue_len": 0}}`}, args: []string{"--config", "c.json"},
			want: []string{"xmppd: configuration c.json:\n", "c2s.queue_len 0 must be at least 1"}},
		{name: "json syntax in --config", files: map[string]string{"c.json": `{"domain": `}, args: []string{"--config", "c.json"},
			want: []string{"xmppd: configuration c.json: "}},
		{name: "--config missing", args: []string{"--config", "missing.yaml"},
			want: []string{"xmppd: configuration missing.yaml (named by --config): file does not exist"}},
		{name: "XMPPD_CONFIG missing", env: "gone.yaml",
			want: []string{"xmppd: configuration gone.yaml (named by XMPPD_CONFIG): file does not exist"}},
		{name: "--config a directory", files: map[string]string{}, args: []string{"--config", "."},
			want: []string{"xmppd: configuration . (named by --config): is a directory"}},
		{name: "both .yaml and .yml", files: map[string]string{"xmppd.yaml": "domain: example.org\n", "xmppd.yml": "domain: example.net\n"},
			want: []string{"xmppd: configuration: both ./xmppd.yaml and ./xmppd.yml exist"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			t.Setenv("XMPPD_CONFIG", tc.env)
			argv := append(append([]string{}, tc.args...), "user", "list")
			r := xmppd(t, dir, "", argv...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			rest := r.stderr
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stderr does not have %q (in order):\n%s", w, r.stderr)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}
