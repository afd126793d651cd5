package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the xmppd that buildXmppd built, once every test has
// run.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtXmppd.path != "" {
		os.RemoveAll(filepath.Dir(builtXmppd.path))
	}
	os.Exit(code)
}
