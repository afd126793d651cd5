package main_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKilledServerLosesNoAcknowledgedAccountState is the SIGKILL test for
// the account state a client changes besides its roster: the block list
// (XEP-0191), the vCard (XEP-0054) and a PEP node (XEP-0163). A client
// blocks, sets its vCard and publishes its nick in turn; the server is
// killed mid-stream and restarted on the same log. Every block the server
// had answered is still there, the vCard and the nick are at least as new
// as the last ones answered, the restarted server serves exactly what the
// killed one had committed (replay of its log), and the log verifies.
func TestKilledServerLosesNoAcknowledgedAccountState(t *testing.T) {
	requireSlixmpp(t)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "dave@localhost", "--password", "dave-pw")
	srv := startServe(t, dir)
	host, port, _ := net.SplitHostPort(srv.starttls)

	writer, sc := startScript(t, "state_writer.py", host, port, "dave@localhost", "dave-pw", "write", "100000")
	acked := map[string]int{"block": -1, "vcard": -1, "nick": -1}
	read := func(line string) {
		var kind string
		var i int
		if _, err := fmt.Sscanf(line, "acked %s %d", &kind, &i); err == nil {
			acked[kind] = i
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for sc.Scan() && time.Now().Before(deadline) {
		read(sc.Text())
		if acked["nick"] >= 15 {
			srv.stop(t, syscall.SIGKILL)
			break
		}
	}
	if acked["nick"] < 15 {
		t.Fatalf("only %v acknowledged before the deadline:\n%s", acked, srv.log())
	}
	writer.Process.Kill()
	for sc.Scan() {
		read(sc.Text())
	}
	writer.Wait()

	// What the killed server had committed, from its log.
	killed := readJSONL(t, mustRun(t, dir, "", "export").stdout)
	head := killed[len(killed)-1].Position
	var before struct {
		Blocked []string `json:"blocked"`
		VCard   string   `json:"vcard"`
		PEP     []struct {
			Node  string `json:"node"`
			Items []struct {
				ID      string `json:"id"`
				Payload string `json:"xml"`
			} `json:"items"`
		} `json:"pep"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, dir, "", "replay", "--at", fmt.Sprint(head), "--user", "dave@localhost", "--format", "json").stdout), &before); err != nil {
		t.Fatal(err)
	}

	srv.start(t)
	out, err := exec.Command(python, "testdata/state_writer.py", host, port, "dave@localhost", "dave-pw", "read").Output()
	if err != nil {
		t.Fatalf("reading the state after restart: %v\n%s", err, srv.log())
	}
	var after struct {
		Blocked []string
		FN      string
		Nicks   []string
	}
	if err := json.Unmarshal(out, &after); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	for i := 0; i <= acked["block"]; i++ {
		if j := fmt.Sprintf("spam%d@example.org", i); !slices.Contains(after.Blocked, j) {
			t.Errorf("acknowledged block of %s lost after SIGKILL", j)
		}
	}
	number := func(s, prefix string) int {
		var n int
		if _, err := fmt.Sscanf(s, prefix+"%d", &n); err != nil {
			return -1
		}
		return n
	}
	if n := number(after.FN, "v"); n < acked["vcard"] {
		t.Errorf("vCard FN %q after restart; v%d had been acknowledged", after.FN, acked["vcard"])
	}
	if len(after.Nicks) == 0 || number(after.Nicks[len(after.Nicks)-1], "n") < acked["nick"] {
		t.Errorf("nicks %v after restart; n%d had been acknowledged", after.Nicks, acked["nick"])
	}
	// Exactly what the killed process committed.
	want := slices.Clone(before.Blocked)
	slices.Sort(want)
	if !slices.Equal(after.Blocked, want) {
		t.Errorf("block list after restart %v; the killed server had committed %v", after.Blocked, want)
	}
	if fn := regexp.MustCompile(`<FN>([^<]*)</FN>`).FindStringSubmatch(before.VCard); len(fn) != 2 || fn[1] != after.FN {
		t.Errorf("vCard after restart has FN %q; the killed server had committed %s", after.FN, before.VCard)
	}
	var committedNick string
	for _, n := range before.PEP {
		if n.Node == "http://jabber.org/protocol/nick" && len(n.Items) > 0 {
			committedNick = n.Items[len(n.Items)-1].Payload
		}
	}
	if len(after.Nicks) == 0 || !strings.Contains(committedNick, ">"+after.Nicks[len(after.Nicks)-1]+"<") {
		t.Errorf("nick after restart %v; the killed server had committed %s", after.Nicks, committedNick)
	}
	srv.stop(t, syscall.SIGTERM)
	if r := xmppd(t, dir, "", "verify"); r.code != 0 {
		t.Errorf("verify after SIGKILL: exit %d\n%s", r.code, r.stdout)
	}
}
