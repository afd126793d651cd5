package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startScript starts the python script testdata/script with args, killed
// when the test ends, and returns it with a scanner of its stdout.
func startScript(t *testing.T, script string, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(python, append([]string{"testdata/" + script}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, bufio.NewScanner(stdout)
}

// TestKilledServerLosesNoAcknowledgedRosterChange kills `xmppd serve` with
// SIGKILL while a client is adding roster items, restarts it on the same
// log, and checks that every roster set the server had answered with a
// result (RFC 6121 2.3.2: the result follows the change) is still there,
// that the restarted server's roster equals what the killed one had
// committed (rebuilt from the log by replay), that the session the killed
// process left open is recorded as ended, and that the log verifies.
func TestKilledServerLosesNoAcknowledgedRosterChange(t *testing.T) {
	requireSlixmpp(t)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "carol@localhost", "--password", "carol-pw")
	srv := startServe(t, dir)
	host, port, _ := net.SplitHostPort(srv.starttls)

	writer, sc := startScript(t, "roster_writer.py", host, port, "carol@localhost", "carol-pw", "write", "100000")
	acked := -1
	deadline := time.Now().Add(60 * time.Second)
	for sc.Scan() && time.Now().Before(deadline) {
		fmt.Sscanf(sc.Text(), "acked %d", &acked)
		if acked == 40 {
			srv.stop(t, syscall.SIGKILL) // in the middle of the 42nd roster set or so
		}
		if acked >= 40 {
			break
		}
	}
	if acked < 40 {
		t.Fatalf("only %d roster sets acknowledged before the deadline:\n%s", acked+1, srv.log())
	}
	// The client would try to reconnect; stop it, and count whatever it had
	// seen acknowledged before the kill but not yet printed when we read.
	writer.Process.Kill()
	for sc.Scan() {
		fmt.Sscanf(sc.Text(), "acked %d", &acked)
	}
	writer.Wait()

	// What the killed server had committed, rebuilt from its log with the
	// server's own projections (replay reads the log read-only).
	killed := readJSONL(t, mustRun(t, dir, "", "export").stdout)
	head := killed[len(killed)-1].Position
	var before struct {
		Roster []struct {
			JID, Name    string
			Groups       []string
			Subscription string
		} `json:"roster"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, dir, "", "replay", "--at", fmt.Sprint(head), "--user", "carol@localhost", "--format", "json").stdout), &before); err != nil {
		t.Fatal(err)
	}

	srv.start(t)
	out, err := exec.Command(python, "testdata/roster_writer.py", host, port, "carol@localhost", "carol-pw", "read").Output()
	if err != nil {
		t.Fatalf("reading the roster after restart: %v\n%s", err, srv.log())
	}
	var roster map[string]struct {
		Name   string
		Groups []string
	}
	if err := json.Unmarshal(out, &roster); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	for i := 0; i <= acked; i++ {
		item, ok := roster[fmt.Sprintf("contact%d@localhost", i)]
		if !ok || item.Name != fmt.Sprintf("Contact %d", i) || len(item.Groups) != 1 || item.Groups[0] != "crash" {
			t.Errorf("acknowledged roster item contact%d lost or changed after SIGKILL: %+v (present %v)", i, item, ok)
		}
	}
	// The restarted server's roster is exactly the log's: every item the
	// killed process committed (acknowledged or not), nothing else.
	if len(roster) != len(before.Roster) {
		t.Errorf("after restart the roster has %d items; the killed server had committed %d", len(roster), len(before.Roster))
	}
	for _, it := range before.Roster {
		got, ok := roster[it.JID]
		if !ok || got.Name != it.Name || len(got.Groups) != len(it.Groups) {
			t.Errorf("committed item %s (%q %v) differs after restart: %+v (present %v)", it.JID, it.Name, it.Groups, got, ok)
		}
	}
	srv.stop(t, syscall.SIGTERM)

	evs := readJSONL(t, mustRun(t, dir, "", "export").stdout)
	var restartEnded bool
	for _, e := range evs {
		if e.Type == "session.ended" && e.SchemaVersion == 2 && strings.Contains(string(e.Data), `"cause":"restart"`) {
			restartEnded = true
		}
	}
	if !restartEnded {
		t.Error("the session the killed server left open was not recorded as ended (cause restart)")
	}
	if r := xmppd(t, dir, "", "verify"); r.code != 0 {
		t.Errorf("verify after SIGKILL: exit %d\n%s", r.code, r.stdout)
	}
}
