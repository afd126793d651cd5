package main_test

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// storyStep is one step of testdata/story_slixmpp.py: the instant the
// script printed after the step, and the log position at that instant.
type storyStep struct {
	Step string    `json:"step"`
	Time time.Time `json:"time"`
	pos  uint64
}

// replayState mirrors one line of `xmppd replay --format json`.
type replayState struct {
	AsOf          string `json:"as_of"`
	JID           string `json:"jid"`
	Position      uint64 `json:"position"`
	Exists        bool   `json:"exists"`
	RosterVersion uint64 `json:"roster_version"`
	Roster        []struct {
		JID, Name, Subscription, State string
		Groups                         []string
		Ask, Approved                  bool
	} `json:"roster"`
	Pending []struct {
		From  string    `json:"from"`
		Since time.Time `json:"since"`
	} `json:"pending"`
	Preapproved []string `json:"preapproved"`
	Resources   []struct {
		Resource, Show, Status, Session, Addr, Node string
		Available                                   bool
		Priority                                    int
	} `json:"resources"`
}

// auditEntry mirrors one line of `xmppd audit --format json`.
type auditEntry struct {
	Time                                 time.Time
	Position                             uint64
	Stream, Type, Category, Text         string
	Contact, Cause, Before, After        string
	Condition, Detail                    string
	Actor, Session, Addr, Node           string
	StanzaID                             string `json:"stanza_id"`
	ID, Causation, Correlation, Resource string
}

var addrRE = regexp.MustCompile(`^127\.0\.0\.1:\d+$`)

// TestForensicsStory drives a real server with a scripted slixmpp story
// (subscribe, approve, roster edits, presence, unsubscribe, cancel: RFC
// 6121 2.3, 3.1-3.3, 4.2), then asks replay and audit what happened at
// every instant between steps, field by field; and asks again on a copy of
// the log with no server running, expecting the same answers.
func TestForensicsStory(t *testing.T) {
	requireSlixmpp(t)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv := startServe(t, dir)
	host, port, _ := net.SplitHostPort(srv.starttls)
	out, err := exec.Command(python, "testdata/story_slixmpp.py", host, port, "alice-pw", "bob-pw").Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("story: %v\nstdout: %s\nstderr: %s\nserver:\n%s", err, out, stderr, srv.log())
	}
	steps := map[string]*storyStep{}
	var order []*storyStep
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		var s storyStep
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("story line %q: %v", sc.Text(), err)
		}
		steps[s.Step] = &s
		order = append(order, &s)
	}
	if len(order) != 10 {
		t.Fatalf("story printed %d steps, want 10:\n%s", len(order), out)
	}
	// The position at each instant: the last event recorded at or before
	// it, read from the live log with export.
	log := readJSONL(t, mustRun(t, dir, "", "export").stdout)
	for _, s := range order {
		for _, e := range log {
			if !e.Recorded.After(s.Time) {
				s.pos = e.Position
			}
		}
	}

	live := checkStory(t, dir, order, steps)

	// Forensics on a copy, with no server running: the same answers.
	srv.stop(t, syscall.SIGTERM)
	cp := t.TempDir()
	copyLog(t, filepath.Join(dir, "data"), filepath.Join(cp, "data"))
	// Presence status is sealed (issue 13): the auditor restores the key
	// store, backed up apart from the log, beside the copy.
	keys, err := os.ReadFile(filepath.Join(dir, "data", "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cp, "data", "keys.db"), keys, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, s := range order {
		at := s.Time.Format(time.RFC3339Nano)
		got := mustRun(t, cp, "", "replay", "--at", at, "--format", "json").stdout
		if got != live[s.Step] {
			t.Errorf("replay --at %s (%s) on the copy differs from the live log:\ncopy: %s\nlive: %s", at, s.Step, got, live[s.Step])
		}
	}
	if v := mustRun(t, cp, "", "verify"); !strings.Contains(v.stdout, "OK") || !strings.Contains(v.stdout, "2 accounts") {
		t.Errorf("verify on the copy:\n%s", v.stdout)
	}
}

// copyLog copies the SQLite log (with its WAL, if any) as an auditor would.
func copyLog(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"xmppd.db", "xmppd.db-wal"} {
		src, err := os.Open(filepath.Join(from, name))
		if os.IsNotExist(err) && name != "xmppd.db" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.Create(filepath.Join(to, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// wantAlice is alice's view of bob after each step: her roster item
// (absent before roster_add), her pending requests and her presence.
type wantAlice struct {
	item              bool
	name, groups, sub string
	ask               bool
	state             string
	pending           []string
	show, status      string
	priority          int
}

func checkStory(t *testing.T, dir string, order []*storyStep, steps map[string]*storyStep) map[string]string {
	want := map[string]wantAlice{
		"online":         {},
		"roster_add":     {item: true, name: "Bob", groups: "Friends", sub: "none", state: "None"},
		"subscribe":      {item: true, name: "Bob", groups: "Friends", sub: "none", ask: true, state: "None + Pending Out"},
		"approve":        {item: true, name: "Bob", groups: "Friends", sub: "to", state: "To"},
		"roster_change":  {item: true, name: "Bobby", groups: "Friends,Work", sub: "to", state: "To"},
		"presence":       {item: true, name: "Bobby", groups: "Friends,Work", sub: "to", state: "To", show: "away", status: "lunch", priority: 5},
		"subscribe_back": {item: true, name: "Bobby", groups: "Friends,Work", sub: "to", state: "To + Pending In", pending: []string{"bob@localhost"}, show: "away", status: "lunch", priority: 5},
		"approve_back":   {item: true, name: "Bobby", groups: "Friends,Work", sub: "both", state: "Both", show: "away", status: "lunch", priority: 5},
		"unsubscribe":    {item: true, name: "Bobby", groups: "Friends,Work", sub: "from", state: "From", show: "away", status: "lunch", priority: 5},
		"cancel":         {item: true, name: "Bobby", groups: "Friends,Work", sub: "none", state: "None", show: "away", status: "lunch", priority: 5},
	}
	live := map[string]string{}
	var aliceSession, bobSession string
	for _, s := range order {
		w := want[s.Step]
		at := s.Time.Format(time.RFC3339Nano)
		t.Run("replay at "+s.Step, func(t *testing.T) {
			all := mustRun(t, dir, "", "replay", "--at", at, "--format", "json").stdout
			live[s.Step] = all
			states := readStates(t, all)
			if len(states) != 2 || states[0].JID != "alice@localhost" || states[1].JID != "bob@localhost" {
				t.Fatalf("replay of every account gave %d states:\n%s", len(states), all)
			}
			one := readStates(t, mustRun(t, dir, "", "replay", "--at", at, "--user", "alice@localhost", "--format", "json").stdout)
			if len(one) != 1 || !jsonEqual(t, one[0], states[0]) {
				t.Errorf("--user alice differs from alice's line of the full replay:\n%+v\n%+v", one, states[0])
			}
			byPos := readStates(t, mustRun(t, dir, "", "replay", "--at", fmt.Sprint(s.pos), "--format", "json").stdout)
			for i := range byPos {
				byPos[i].AsOf = states[i].AsOf
			}
			if len(byPos) != 2 || !jsonEqual(t, byPos, states) {
				t.Errorf("--at position %d differs from --at %s:\n%+v\n%+v", s.pos, at, byPos, states)
			}
			a := states[0]
			if a.AsOf != at || !a.Exists || a.Position > s.pos {
				t.Errorf("as_of %q exists %v position %d (log position at the instant %d)", a.AsOf, a.Exists, a.Position, s.pos)
			}
			switch {
			case !w.item && len(a.Roster) != 0:
				t.Errorf("roster %+v, want empty", a.Roster)
			case w.item && len(a.Roster) != 1:
				t.Errorf("roster %+v, want bob only", a.Roster)
			case w.item:
				it := a.Roster[0]
				if it.JID != "bob@localhost" || it.Name != w.name || strings.Join(it.Groups, ",") != w.groups ||
					it.Subscription != w.sub || it.Ask != w.ask || it.State != w.state || it.Approved {
					t.Errorf("alice's item %+v, want %+v", it, w)
				}
			}
			var pending []string
			for _, p := range a.Pending {
				pending = append(pending, p.From)
				if p.Since.IsZero() || p.Since.After(s.Time) {
					t.Errorf("request from %s since %v", p.From, p.Since)
				}
			}
			if !slices.Equal(pending, w.pending) {
				t.Errorf("pending %v, want %v", pending, w.pending)
			}
			if len(a.Resources) != 1 {
				t.Fatalf("alice's resources %+v, want laptop", a.Resources)
			}
			r := a.Resources[0]
			if r.Resource != "laptop" || !r.Available || r.Show != w.show || r.Status != w.status || r.Priority != w.priority ||
				!addrRE.MatchString(r.Addr) || r.Session == "" || r.Node != "test-node" {
				t.Errorf("alice's laptop %+v, want show %q status %q priority %d from 127.0.0.1", r, w.show, w.status, w.priority)
			}
			aliceSession = r.Session
			if b := states[1]; len(b.Resources) == 1 {
				bobSession = b.Resources[0].Session
			}
			// Bob's side of the request (RFC 6121 3.1.3): pending while
			// unanswered, no roster item before approval (A.1 #3).
			if b := states[1]; s.Step == "subscribe" && (len(b.Pending) != 1 || b.Pending[0].From != "alice@localhost" || len(b.Roster) != 0) {
				t.Errorf("bob after alice's request: pending %+v roster %+v", b.Pending, b.Roster)
			}

			// The same state for a person.
			text := mustRun(t, dir, "", "replay", "--at", at, "--user", "alice@localhost").stdout
			if !strings.HasPrefix(text, "alice@localhost as of "+at+"\n") {
				t.Errorf("text replay starts %q", firstLine(text))
			}
			if w.item {
				ask, fields := "-", fieldsOfLine(text, "    bob@localhost ")
				if w.ask {
					ask = "subscribe"
				}
				wantFields := append([]string{"bob@localhost", w.name, w.groups, w.sub, ask, "-"}, strings.Fields(w.state)...)
				if !slices.Equal(fields, wantFields) {
					t.Errorf("text roster line %q, want %q\n%s", fields, wantFields, text)
				}
			}
			show, status := w.show, w.status
			if show == "" {
				show, status = "-", "-"
			}
			wantRes := []string{"laptop", "yes", show, status, fmt.Sprint(w.priority), r.Addr, r.Session, "-"}
			if got := fieldsOfLine(text, "    laptop "); !slices.Equal(got, wantRes) {
				t.Errorf("text presence line %q, want %q\n%s", got, wantRes, text)
			}
		})
	}
	if aliceSession == "" || bobSession == "" || aliceSession == bobSession {
		t.Fatalf("sessions: alice %q bob %q", aliceSession, bobSession)
	}
	t.Run("diff", func(t *testing.T) { checkDiff(t, dir, steps) })
	t.Run("audit", func(t *testing.T) { checkAudit(t, dir, steps, aliceSession, bobSession) })
	t.Run("explain", func(t *testing.T) { checkExplain(t, dir, steps, aliceSession, bobSession) })
	return live
}

// checkDiff: the changes to alice's views between approve and
// approve_back, in log order, each with its before and after.
func checkDiff(t *testing.T, dir string, steps map[string]*storyStep) {
	from, to := steps["approve"].Time.Format(time.RFC3339Nano), steps["approve_back"].Time.Format(time.RFC3339Nano)
	type change struct {
		Time                                                 time.Time
		Position                                             uint64
		Account, Kind, Contact, Resource, Event, Actor, Text string
		Before, After                                        map[string]any
	}
	var got []change
	out := mustRun(t, dir, "", "replay", "--diff", from, to, "--user", "alice@localhost", "--format", "json").stdout
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var c change
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		got = append(got, c)
	}
	want := []struct {
		kind, who, field, before, after, actor string
	}{
		{"roster.changed", "bob@localhost", "Name", "Bob", "Bobby", "alice@localhost/laptop"},
		{"presence.changed", "laptop", "Show", "", "away", "alice@localhost/laptop"},
		{"roster.changed", "bob@localhost", "State", "To", "To + Pending In", "bob@localhost/phone"},
		{"request.arrived", "bob@localhost", "", "", "", "bob@localhost/phone"},
		{"roster.changed", "bob@localhost", "State", "To + Pending In", "Both", "alice@localhost/laptop"},
		{"request.answered", "bob@localhost", "", "", "", "alice@localhost/laptop"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d changes, want %d:\n%s", len(got), len(want), out)
	}
	lo, hi := steps["approve"].Time, steps["approve_back"].Time
	for i, w := range want {
		c := got[i]
		who := c.Contact + c.Resource
		if c.Kind != w.kind || who != w.who || c.Actor != w.actor || c.Account != "alice@localhost" || c.Text == "" {
			t.Errorf("change %d: %s %s by %s (%q), want %s %s by %s", i, c.Kind, who, c.Actor, c.Text, w.kind, w.who, w.actor)
		}
		if c.Time.Before(lo) || c.Time.After(hi) || (i > 0 && c.Position < got[i-1].Position) {
			t.Errorf("change %d at %v position %d: outside (%v, %v] or out of order", i, c.Time, c.Position, lo, hi)
		}
		if w.field == "" {
			continue
		}
		key := map[string]string{"Name": "name", "Show": "show", "State": "state"}[w.field]
		if c.Before[key] != w.before || c.After[key] != w.after {
			t.Errorf("change %d: %s %v → %v, want %q → %q", i, key, c.Before[key], c.After[key], w.before, w.after)
		}
	}
	if !strings.Contains(got[5].Text, "approved") {
		t.Errorf("answered request: %q", got[5].Text)
	}
	text := mustRun(t, dir, "", "replay", "--diff", from, to, "--user", "alice@localhost").stdout
	if !strings.HasPrefix(text, "6 changes from "+from+" to "+to) || strings.Count(text, "\n") != 8 {
		t.Errorf("text diff:\n%s", text)
	}
}

// checkAudit: alice's subscription story in json, csv and text, each
// transition with its Appendix A input, states, actor, session, address
// and the stanza id the script set.
func checkAudit(t *testing.T, dir string, steps map[string]*storyStep, aliceSession, bobSession string) {
	base := []string{"audit", "--user", "alice@localhost", "--contact", "bob@localhost", "--type", "subscription"}
	js := mustRun(t, dir, "", append(base, "--format", "json")...).stdout
	var all, changed []auditEntry
	sc := bufio.NewScanner(strings.NewReader(js))
	for sc.Scan() {
		var e auditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		all = append(all, e)
		if e.Type == "subscription.changed" {
			changed = append(changed, e)
		}
	}
	want := []struct{ step, cause, before, after, actor, session, stanza string }{
		{"subscribe", "outbound_subscribe", "None", "None + Pending Out", "alice@localhost/laptop", aliceSession, "sub-1"},
		{"approve", "inbound_subscribed", "None + Pending Out", "To", "bob@localhost/phone", bobSession, "subd-1"},
		{"subscribe_back", "inbound_subscribe", "To", "To + Pending In", "bob@localhost/phone", bobSession, "sub-2"},
		{"approve_back", "outbound_subscribed", "To + Pending In", "Both", "alice@localhost/laptop", aliceSession, "subd-2"},
		{"unsubscribe", "outbound_unsubscribe", "Both", "From", "alice@localhost/laptop", aliceSession, "unsub-1"},
		{"cancel", "outbound_unsubscribed", "From", "None", "alice@localhost/laptop", aliceSession, "cancel-1"},
	}
	if len(changed) != len(want) {
		t.Fatalf("%d transitions, want %d:\n%s", len(changed), len(want), js)
	}
	prev := steps["approve"].Time.Add(-time.Hour)
	for i, w := range want {
		e := changed[i]
		if e.Cause != w.cause || e.Before != w.before || e.After != w.after || e.Actor != w.actor || e.Session != w.session ||
			e.StanzaID != w.stanza || !addrRE.MatchString(e.Addr) || e.Node != "test-node" || e.Contact != "bob@localhost" ||
			e.Stream != "account-alice@localhost" || e.Category != "subscription" || e.ID == "" || e.Correlation == "" {
			t.Errorf("transition %d: %+v\nwant %+v", i, e, w)
		}
		if e.Time.After(steps[w.step].Time) || !e.Time.After(prev) {
			t.Errorf("transition %d (%s) recorded at %v, not before its step's instant %v", i, w.cause, e.Time, steps[w.step].Time)
		}
		prev = e.Time
	}
	for _, e := range all {
		if e.Category != "subscription" || e.Contact != "bob@localhost" {
			t.Errorf("filter let through %+v", e)
		}
	}

	// CSV: a header, then the same entries field for field.
	rows, err := csv.NewReader(strings.NewReader(mustRun(t, dir, "", append(base, "--format", "csv")...).stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := []string{"time", "position", "stream", "version", "type", "category", "contact", "resource",
		"cause", "before", "after", "condition", "detail", "text", "actor", "session", "addr", "stanza_id", "node", "id", "causation", "correlation"}
	if len(rows) != len(all)+1 || !slices.Equal(rows[0], header) {
		t.Fatalf("csv: %d rows, header %q; want %d rows and %q", len(rows), rows[0], len(all)+1, header)
	}
	for i, e := range all {
		r := rows[i+1]
		wantRow := []string{e.Time.Format(time.RFC3339Nano), fmt.Sprint(e.Position), e.Stream, r[3], e.Type, e.Category,
			e.Contact, e.Resource, e.Cause, e.Before, e.After, e.Condition, e.Detail, e.Text, e.Actor, e.Session, e.Addr, e.StanzaID, e.Node, e.ID, e.Causation, e.Correlation}
		if !slices.Equal(r, wantRow) {
			t.Errorf("csv row %d %q\nwant %q", i+1, r, wantRow)
		}
	}

	// Text: one line per entry, in order, carrying who, from where, and
	// the transition.
	text := mustRun(t, dir, "", base...).stdout
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) != len(all)+1 || !strings.HasPrefix(lines[0], "TIME") {
		t.Fatalf("text audit has %d lines for %d entries:\n%s", len(lines), len(all), text)
	}
	for i, e := range all {
		l := lines[i+1]
		for _, part := range []string{e.Time.Format(time.RFC3339Nano), e.Actor, e.Session, e.Addr, e.StanzaID, e.Before, e.Node} {
			if !strings.Contains(l, part) {
				t.Errorf("text line %d %q lacks %q", i+1, l, part)
			}
		}
	}

	// --since/--until and --type together: between approve and
	// approve_back alice's roster changed once (roster-2) and her
	// subscription twice (sub-2 arrived, subd-2 sent).
	window := []string{"--since", steps["approve"].Time.Format(time.RFC3339Nano), "--until", steps["approve_back"].Time.Format(time.RFC3339Nano), "--format", "json"}
	for _, tc := range []struct {
		kind    string
		stanzas []string
	}{
		{"roster", []string{"roster-2"}},
		{"subscription", []string{"sub-2", "subd-2"}},
		{"presence", []string{"pres-1"}},
		{"session", nil},
	} {
		out := mustRun(t, dir, "", append([]string{"audit", "--user", "alice@localhost", "--type", tc.kind}, window...)...).stdout
		var got []string
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var e auditEntry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			got = append(got, e.StanzaID)
		}
		if !slices.Equal(got, tc.stanzas) {
			t.Errorf("--type %s in the window: stanza ids %q, want %q", tc.kind, got, tc.stanzas)
		}
	}
	if r := xmppd(t, dir, "", "audit", "--user", "alice@localhost", "--type", "gossip"); r.code != 2 {
		t.Errorf("unknown --type: exit %d", r.code)
	}
	if r := xmppd(t, dir, "", "audit", "--contact", "bob@localhost"); r.code != 2 {
		t.Errorf("audit without --user: exit %d", r.code)
	}
}

// checkExplain: how alice came to see bob's presence ("To" after
// approve): her request, then bob's approval, joined with bob's records.
func checkExplain(t *testing.T, dir string, steps map[string]*storyStep, aliceSession, bobSession string) {
	at := steps["approve"].Time.Format(time.RFC3339Nano)
	var x struct {
		User, Contact, State, Subscription string
		Steps                              []struct {
			auditEntry
			Story string
			Other *auditEntry
		}
	}
	out := mustRun(t, dir, "", "audit", "--explain", "--user", "alice@localhost", "--contact", "bob@localhost", "--at", at, "--format", "json").stdout
	if err := json.Unmarshal([]byte(out), &x); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if x.State != "To" || x.Subscription != "to" || len(x.Steps) != 2 {
		t.Fatalf("explain: state %q subscription %q, %d steps:\n%s", x.State, x.Subscription, len(x.Steps), out)
	}
	req, ok := x.Steps[0], x.Steps[1]
	if req.Cause != "outbound_subscribe" || req.Other == nil || req.Other.Stream != "account-bob@localhost" ||
		req.Other.Cause != "inbound_subscribe" || req.Other.After != "None + Pending In" || req.Other.Correlation != req.Correlation {
		t.Errorf("request step %+v, bob's side %+v", req.auditEntry, req.Other)
	}
	if ok.Cause != "inbound_subscribed" || ok.Other == nil || ok.Other.Cause != "outbound_subscribed" ||
		ok.Other.Before != "None + Pending In" || ok.Other.After != "From" || ok.Other.ID != ok.Causation {
		t.Errorf("approval step %+v, bob's side %+v", ok.auditEntry, ok.Other)
	}
	// At the end of the story: cancelled (RFC 6121 3.2), nothing left
	// either way, and bob's side agrees.
	var end struct {
		State string
		Steps []struct {
			auditEntry
			Other *auditEntry
		}
	}
	endAt := steps["cancel"].Time.Format(time.RFC3339Nano)
	if err := json.Unmarshal([]byte(mustRun(t, dir, "", "audit", "--explain", "--user", "alice@localhost", "--contact", "bob@localhost", "--at", endAt, "--format", "json").stdout), &end); err != nil {
		t.Fatal(err)
	}
	if n := len(end.Steps); end.State != "None" || n < 6 || end.Steps[n-1].Cause != "outbound_unsubscribed" ||
		end.Steps[n-1].StanzaID != "cancel-1" || end.Steps[n-1].Other == nil || end.Steps[n-1].Other.After != "None" {
		t.Errorf("explain at the end: state %q, steps %+v", end.State, end.Steps)
	}
	text := mustRun(t, dir, "", "audit", "--explain", "--user", "alice@localhost", "--contact", "bob@localhost", "--at", at).stdout
	wantStory := fmt.Sprintf("bob@localhost/phone (session %s, %s) approved alice@localhost's request sent at %s from alice@localhost/laptop (session %s, %s)",
		bobSession, ok.Addr, req.Time.Format("2006-01-02 15:04:05"), aliceSession, req.Addr)
	if !strings.Contains(text, wantStory) || !strings.Contains(text, "None + Pending Out → To") {
		t.Errorf("explain text lacks %q:\n%s", wantStory, text)
	}
}

func readStates(t *testing.T, s string) []replayState {
	t.Helper()
	var out []replayState
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var st replayState
		if err := json.Unmarshal(sc.Bytes(), &st); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, st)
	}
	return out
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	x, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(x) == string(y)
}

// fieldsOfLine returns the whitespace-separated fields of the first line
// of text starting with prefix.
func fieldsOfLine(text, prefix string) []string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return strings.Fields(l)
		}
	}
	return nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
