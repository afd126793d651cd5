package im_test

import (
	"strings"
	"testing"

	"xmppd/im"
)

// Validate reports every problem at once (STYLE.md habit: a Validate that
// joins every problem). The listeners are the transport's to check
// (c2s.Config.Validate).
func TestConfigValidateReportsEveryProblem(t *testing.T) {
	err := im.Config{Domain: "Not A Domain!", SendQueue: im.SendQueue{Len: -1}}.Validate()
	if err == nil {
		t.Fatal("an empty config validated")
	}
	for _, want := range []string{"domain", "node is empty", "no event store", "send queue"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in: %v", want, err)
		}
	}
}
