package server_test

import (
	"strings"
	"testing"

	"xmppd/adapters/server"
)

// Validate reports every problem at once (STYLE.md habit: a Validate that
// joins every problem).
func TestConfigValidateReportsEveryProblem(t *testing.T) {
	err := server.Config{Domain: "Not A Domain!"}.Validate()
	if err == nil {
		t.Fatal("an empty config validated")
	}
	for _, want := range []string{"domain", "node is empty", "no event store", "no listen address", "TLS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in: %v", want, err)
		}
	}
}
