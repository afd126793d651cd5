package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"xmppd/events"
	"xmppd/replay"
)

// startArchivingPair adds alice and bob, starts the server in dir with
// the archive on, and logs alice in as alice@localhost/phone and bob as
// bob@localhost/desk.
func startArchivingPair(t *testing.T, dir string) (srv *serverProc, alice, bob *rawXMPP) {
	t.Helper()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv = startServe(t, dir, "XMPPD_ARCHIVE_ENABLED=true")
	alice = dialXMPP(t, srv.directTLS)
	alice.login("alice", "alice-pw", "phone")
	bob = dialXMPP(t, srv.directTLS)
	bob.login("bob", "bob-pw", "desk")
	return srv, alice, bob
}

// exportLine is one line of `xmppd archive export --format jsonl`, or of
// `archive search --format jsonl`, which adds the body.
type exportLine struct {
	replay.ArchivedMessage
	Body string `json:"body"`
}

func readExportLines(t *testing.T, s string) []exportLine {
	t.Helper()
	var out []exportLine
	for l := range strings.Lines(s) {
		var e exportLine
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("export line %q: %v", l, err)
		}
		out = append(out, e)
	}
	return out
}

// verifyAgainstLog checks each exported line against the log as `xmppd
// export` (the whole log, read independently) gives it: the event at
// the line's position is in the line's stream at its version, has its
// hash, and records the line's archive id, other party and direction.
func verifyAgainstLog(t *testing.T, dir string, lines []exportLine) {
	t.Helper()
	byPos := map[uint64]events.Envelope{}
	for _, e := range readJSONL(t, mustRun(t, dir, "", "export", "--format", "jsonl").stdout) {
		byPos[e.Position] = e
	}
	for _, l := range lines {
		e, ok := byPos[l.Position]
		if !ok {
			t.Fatalf("line %s: the log has no event at position %d", l.ID, l.Position)
		}
		var data events.ArchiveMessageStored
		if err := json.Unmarshal(e.Data, &data); err != nil {
			t.Fatal(err)
		}
		if e.Type != events.TypeArchiveMessageStored || e.Stream != l.Stream || e.Version != l.Version || e.Hash != l.Hash ||
			data.ID != l.ID || data.With != l.With || data.Direction != l.Direction || !e.Recorded.Equal(l.Time) {
			t.Errorf("line %+v\ndoes not match the log's event %+v (%+v)", l, e, data)
		}
	}
}

// emlWant is what testdata/eml_check.py expects of one message.
type emlWant struct {
	From      string `json:"from"`
	To        string `json:"to"`
	FromJID   string `json:"from_jid"`
	ToJID     string `json:"to_jid"`
	Date      int64  `json:"date"`
	MessageID string `json:"message_id"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
	ArchiveID string `json:"archive_id"`
}

// checkEML runs testdata/eml_check.py (Python's email and mailbox
// packages) on an eml export, mode "dir" or "mbox".
func checkEML(t *testing.T, mode, path string, wants []emlWant) {
	t.Helper()
	b, err := json.Marshal(wants)
	if err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(t.TempDir(), "expected.json")
	if err := os.WriteFile(exp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "testdata/eml_check.py", mode, path, exp).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok ") {
		t.Fatalf("eml_check.py %s %s: %v\n%s", mode, path, err, out)
	}
}

// Issue 13, "eDiscovery export and search" and "audit of the auditors",
// through the real binary: messages chatted between two accounts over
// TLS are exported, while the server runs, as JSON lines that verify
// against the log and as EML files and an mbox that Python's email and
// mailbox packages parse with the right From/To/Date/Message-ID/Subject
// and body; search finds whole words in any case and not others; after
// `user erase` the export shows every message as erased and search finds
// nothing; and every export and search is in `xmppd audit` with the OS
// user and the count.
func TestArchiveExportAndSearch(t *testing.T) {
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s is missing: %v", python, err)
	}
	dir := t.TempDir()
	srv, alice, bob := startArchivingPair(t, dir)

	long := strings.Repeat("a long line = with equals signs and ünïcödé ", 4)
	chat := []struct{ from, to, id, xml, body, subject string }{
		{"alice", "bob", "a1", `<subject>Quarterly report</subject><body>The quarterly report is late.</body><thread>t-1</thread>`,
			"The quarterly report is late.", "Quarterly report"},
		{"bob", "alice", "b1", `<body>Grüße aus Köln
From here the budget looks fine</body>`, "Grüße aus Köln\nFrom here the budget looks fine", "Chat message from bob@localhost"},
		{"alice", "bob", "a2", `<body>` + long + `</body>`, long, "Chat message from alice@localhost"},
	}
	clients := map[string]*rawXMPP{"alice": alice, "bob": bob}
	res := map[string]string{"alice": "phone", "bob": "desk"}
	for _, m := range chat {
		clients[m.from].send(`<message type='chat' to='` + m.to + `@localhost/` + res[m.to] + `' id='` + m.id + `'>` + m.xml + `</message>`)
		clients[m.to].await("message", m.id)
	}

	// jsonl, while the server runs, verified line by line against the log.
	jsonlPath := filepath.Join(dir, "alice.jsonl")
	r := mustRun(t, dir, "", "archive", "export", "--user", "alice@localhost", "--format", "jsonl", "--out", jsonlPath)
	if !strings.Contains(r.stderr, "exported 3 messages") {
		t.Errorf("export's summary: %q", r.stderr)
	}
	b, err := os.ReadFile(jsonlPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := readExportLines(t, string(b))
	if len(lines) != len(chat) {
		t.Fatalf("%d lines exported, want %d:\n%s", len(lines), len(chat), b)
	}
	for i, l := range lines {
		m := chat[i]
		wantDir := "out"
		if m.from != "alice" {
			wantDir = "in"
		}
		if l.ContentState != "ok" || l.Direction != wantDir || !strings.Contains(l.Stanza, "id='"+m.id+"'") ||
			!strings.HasPrefix(l.From, m.from+"@localhost") || !strings.HasPrefix(l.To, m.to+"@localhost") {
			t.Errorf("line %d: %+v", i, l)
		}
	}
	verifyAgainstLog(t, dir, lines)
	if r := xmppd(t, dir, "", "archive", "export", "--user", "alice@localhost", "--format", "jsonl", "--out", jsonlPath); r.code != 1 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("an export over an existing file: exit %d, %s", r.code, r.stderr)
	}
	// --with filters by the other party, bare or full; --until by time.
	for with, want := range map[string]int{"bob@localhost": 3, "bob@localhost/desk": 3, "bob@localhost/phone": 0} {
		if got := readExportLines(t, mustRun(t, dir, "", "archive", "export", "--user", "alice@localhost", "--with", with, "--format", "jsonl").stdout); len(got) != want {
			t.Errorf("--with %s: %d messages, want %d", with, len(got), want)
		}
	}
	if got := readExportLines(t, mustRun(t, dir, "", "archive", "export", "--user", "alice@localhost", "--until", "2000-01-01", "--format", "jsonl").stdout); len(got) != 0 {
		t.Errorf("--until 2000-01-01: %d messages", len(got))
	}

	// eml: a file per message, and an mbox, read by Python.
	var wants []emlWant
	for i, l := range lines {
		m := chat[i]
		wants = append(wants, emlWant{From: m.from + "@localhost", To: m.to + "@localhost", FromJID: l.From, ToJID: l.To,
			Date: l.Time.Unix(), MessageID: "<" + l.ID + "@localhost>", Subject: m.subject, Body: m.body, ArchiveID: l.ID})
	}
	emlDir := filepath.Join(dir, "case-4711")
	mustRun(t, dir, "", "archive", "export", "--user", "alice@localhost", "--format", "eml", "--out", emlDir)
	checkEML(t, "dir", emlDir, wants)
	mbox := filepath.Join(dir, "alice.mbox")
	mustRun(t, dir, "", "archive", "export", "--user", "alice@localhost", "--format", "eml", "--mbox", "--out", mbox)
	checkEML(t, "mbox", mbox, wants)

	// A run that fails after it began is recorded with its error: here
	// the second message's file is in the way.
	partial := filepath.Join(dir, "partial")
	if err := os.MkdirAll(partial, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(partial, "000002-"+lines[1].ID+".eml"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := xmppd(t, dir, "", "archive", "export", "--user", "alice@localhost", "--format", "eml", "--out", partial); r.code != 1 ||
		!strings.Contains(r.stderr, "after 1 messages") || !strings.Contains(r.stderr, "exists") {
		t.Errorf("an eml export meeting an existing file: exit %d, %s", r.code, r.stderr)
	}

	// search: whole words, all of them, any case.
	search := func(text string, extra ...string) []exportLine {
		t.Helper()
		args := append([]string{"archive", "search", "--user", "alice@localhost", "--text", text, "--format", "jsonl"}, extra...)
		return readExportLines(t, mustRun(t, dir, "", args...).stdout)
	}
	if got := search("REPORT quarterly"); len(got) != 1 || got[0].ID != lines[0].ID || got[0].Body != chat[0].body {
		t.Errorf("search REPORT quarterly: %+v", got)
	}
	if got := search("grüsse"); len(got) != 0 {
		t.Errorf("search grüsse (not a word of any body: Grüße is): %+v", got)
	}
	if got := search("GRÜẞE budget"); len(got) != 1 || got[0].ID != lines[1].ID {
		t.Errorf("search GRÜẞE budget: %+v", got)
	}
	if got := search("quarter"); len(got) != 0 {
		t.Errorf("search quarter found a substring of a word: %+v", got)
	}
	if got := search("budget", "--with", "bob@localhost/elsewhere"); len(got) != 0 {
		t.Errorf("search budget --with another resource: %+v", got)
	}
	text := mustRun(t, dir, "", "archive", "search", "--user", "alice@localhost", "--text", "late").stdout
	if !strings.Contains(text, lines[0].ID) || !strings.Contains(text, "The quarterly report is late.") || strings.Count(text, "\n") != 2 {
		t.Errorf("search --format text:\n%s", text)
	}

	// Clear refusals.
	for _, bad := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"archive", "export", "--user", "carol@localhost", "--format", "jsonl"}, 1, "no such account"},
		{[]string{"archive", "export", "--user", "alice@localhost", "--format", "jsonl", "--since", "yesterday"}, 2, "neither an RFC 3339 time"},
		{[]string{"archive", "export", "--user", "alice@localhost", "--format", "pdf"}, 2, "use jsonl or eml"},
		{[]string{"archive", "export", "--user", "alice@localhost", "--format", "eml"}, 2, "needs --out"},
		{[]string{"archive", "export", "--format", "jsonl"}, 2, "--user JID is required"},
		{[]string{"archive", "search", "--user", "alice@localhost", "--text", " ,. "}, 2, "has no words"},
	} {
		r := xmppd(t, dir, "", bad.args...)
		if r.code != bad.code || !strings.Contains(r.stderr, bad.says) {
			t.Errorf("xmppd %s: exit %d, want %d saying %q:\n%s", strings.Join(bad.args, " "), r.code, bad.code, bad.says, r.stderr)
		}
	}

	// After erasure (the server stopped: erase refuses while it runs),
	// the export shows every message erased, never an error, and search
	// finds nothing.
	srv.stop(t, syscall.SIGTERM)
	mustRun(t, dir, "", "user", "erase", "alice@localhost")
	erased := readExportLines(t, mustRun(t, dir, "", "archive", "export", "--user", "alice@localhost", "--format", "jsonl").stdout)
	if len(erased) != len(chat) {
		t.Fatalf("after erasure, %d messages exported, want %d", len(erased), len(chat))
	}
	for i, l := range erased {
		if l.ContentState != "erased" || l.Stanza != "" || l.ID != lines[i].ID || l.Hash != lines[i].Hash {
			t.Errorf("after erasure, line %d: %+v", i, l)
		}
	}
	erasedDir := filepath.Join(dir, "erased")
	mustRun(t, dir, "", "archive", "export", "--user", "alice@localhost", "--format", "eml", "--out", erasedDir)
	for i := range wants {
		w := &wants[i]
		// The stanza is gone: its addresses are the archive's bare ones,
		// its subject a fallback, its body the reason.
		w.Body, w.Subject = "(erased)", "Message from "+w.From+" (erased)"
		w.FromJID, w.ToJID = w.From, w.To
		if chat[i].from == "bob" {
			w.FromJID = lines[i].With
		} else {
			w.ToJID = lines[i].With
		}
	}
	checkEML(t, "dir", erasedDir, wants)
	for _, text := range []string{"quarterly", "budget"} {
		if got := search(text); len(got) != 0 {
			t.Errorf("search %s after erasure found %+v", text, got)
		}
	}
	mustRun(t, dir, "", "verify")

	// The audit of the auditors.
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	audit := mustRun(t, dir, "", "audit", "--user", "alice@localhost", "--type", "compliance").stdout
	for _, want := range []string{
		"archive of alice@localhost exported as jsonl by OS user " + me.Username + " on ",
		": 3 messages to " + jsonlPath,
		"archive of alice@localhost exported as mbox by OS user " + me.Username,
		"archive of alice@localhost exported as jsonl (with bob@localhost/phone) by",
		": 0 messages",
		": 1 message to " + partial + ", then failed: " + filepath.Join(partial, "000002-"+lines[1].ID+".eml") + " exists",
		`archive of alice@localhost searched for "REPORT quarterly" by OS user ` + me.Username,
		": 1 match of 3 messages",
		`searched for "budget" (with bob@localhost/elsewhere)`,
		": 3 messages (3 of them erased or expired)",
		`searched for "quarterly" by OS user ` + me.Username,
		": 0 matches of 3 messages",
		"admin:" + me.Username,
	} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit --user alice --type compliance lacks %q:\n%s", want, audit)
		}
	}
	if n := strings.Count(audit, "archive of alice@localhost"); n != 18 {
		t.Errorf("audit shows %d exports and searches of alice's archive, want 18 (the refused runs are not recorded):\n%s", n, audit)
	}
	if strings.Contains(audit, "carol") {
		t.Errorf("audit of alice shows another account's export:\n%s", audit)
	}
	if a := mustRun(t, dir, "", "audit", "--user", "bob@localhost", "--type", "compliance").stdout; strings.Contains(a, "archive of") {
		t.Errorf("audit of bob shows the reading of alice's archive:\n%s", a)
	}
	if a := mustRun(t, dir, "", "audit", "--compliance").stdout; strings.Count(a, "archive of alice@localhost") != 18 {
		t.Errorf("audit --compliance:\n%s", a)
	}
	// The record in the log holds the command line and the words.
	var found bool
	for _, e := range readJSONL(t, mustRun(t, dir, "", "export", "--format", "jsonl").stdout) {
		if e.Type != events.TypeArchiveSearched {
			continue
		}
		var p events.ArchiveSearched
		if err := json.Unmarshal(e.Data, &p); err != nil {
			t.Fatal(err)
		}
		if p.Text == "REPORT quarterly" {
			found = true
			if e.Stream != "compliance-localhost" || p.Account != "alice@localhost" || p.Count != 1 || p.Scanned != 3 ||
				strings.Join(p.Words, " ") != "REPORT quarterly" || p.By.OSUser != me.Username || p.By.PID == 0 ||
				!strings.Contains(strings.Join(p.By.Command, " "), "archive search --user alice@localhost --text REPORT quarterly") {
				t.Errorf("archive.searched in the log: %s %+v", e.Stream, p)
			}
		}
	}
	if !found {
		t.Error("no archive.searched for REPORT quarterly in the log")
	}
}
