package c2s_test

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xmppd/adapters/c2s"
)

// Validate reports every problem at once (STYLE: watermill's Validate).
func TestConfigValidateJoinsProblems(t *testing.T) {
	err := c2s.Config{MaxStanzaBytes: 500, MaxAuthAttempts: 9}.Validate()
	if err == nil {
		t.Fatal("empty config accepted")
	}
	for _, want := range []string{"domain is empty", "no listen address", "TLS config", "below RFC 6120's minimum of 10000", "auth attempts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	cert, _, err := c2s.LoadOrCreateCert(t.TempDir(), "example.org")
	if err != nil {
		t.Fatal(err)
	}
	ok := c2s.Config{Domain: "example.org", StartTLSAddr: ":5222", TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	ok.Domain = "Example.ORG"
	if err := ok.Validate(); err == nil || !strings.Contains(err.Error(), "canonical") {
		t.Fatalf("non-canonical domain: %v", err)
	}
}

// The certificate is made once and then reused; the key is private to
// the owner; a half-present pair is never overwritten.
func TestLoadOrCreateCert(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, created, err := c2s.LoadOrCreateCert(dir, "example.org")
	if err != nil || !created {
		t.Fatalf("first: created=%v err=%v", created, err)
	}
	second, created, err := c2s.LoadOrCreateCert(dir, "example.org")
	if err != nil || created {
		t.Fatalf("second: created=%v err=%v", created, err)
	}
	if string(first.Certificate[0]) != string(second.Certificate[0]) {
		t.Fatal("certificate changed between starts")
	}
	if first.Leaf == nil || first.Leaf.VerifyHostname("example.org") != nil {
		t.Fatal("certificate does not name the domain")
	}
	st, err := os.Stat(filepath.Join(dir, c2s.KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v %v", st.Mode(), err)
	}
	os.Remove(filepath.Join(dir, c2s.KeyFile))
	if _, _, err := c2s.LoadOrCreateCert(dir, "example.org"); err == nil {
		t.Fatal("a certificate without its key was replaced silently")
	}
}
