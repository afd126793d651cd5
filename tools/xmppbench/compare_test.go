package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// compareResults builds server results with the given chat rates and p99s.
func compareResults(t *testing.T) []*compareServerResult {
	t.Helper()
	mk := func(server string, chat, p99 float64, tsung *tsungSummary) *compareServerResult {
		return &compareServerResult{Server: server, ProvisionS: 2, Tsung: tsung, Results: map[string]*result{
			"chat": {Scenario: "chat", Ops: 100, OpsPerSec: chat, Latency: latencySummary{Count: 100, P99MS: p99}, Figures: map[string]float64{}},
		}}
	}
	return []*compareServerResult{
		mk("xmppd", 38051, 2, &tsungSummary{Sessions: 100, SessionsPerS: 10, RequestMeanMS: 4}),
		mk("prosody", 5283, 8, nil),
		mk("ejabberd", 7411, 0.5, &tsungSummary{Sessions: 90, SessionsPerS: 9, RequestMeanMS: 0}),
	}
}

func findRow(t *testing.T, rows []compareRow, figure string) compareRow {
	t.Helper()
	for _, r := range rows {
		if r.Figure == figure {
			return r
		}
	}
	t.Fatalf("no row %q in %v", figure, rows)
	return compareRow{}
}

func TestBuildCompareTableRatios(t *testing.T) {
	rows := buildCompareTable(compareResults(t))
	chat := findRow(t, rows, "chat msg/s")
	if chat.Better != "higher" || chat.Values["prosody"] != 5283 || chat.Ratios["prosody"] != 7.2 || chat.Ratios["ejabberd"] != 5.13 {
		t.Errorf("chat row %+v", chat)
	}
	if _, ok := chat.Ratios["xmppd"]; ok {
		t.Errorf("xmppd has a ratio to itself: %v", chat.Ratios)
	}
	p99 := findRow(t, rows, "chat p99 ms")
	if p99.Better != "lower" || p99.Ratios["prosody"] != 0.25 || p99.Ratios["ejabberd"] != 4 {
		t.Errorf("p99 row %+v", p99)
	}
	// tsung ran against two servers only; a zero divisor has no ratio.
	ts := findRow(t, rows, "tsung sessions/s")
	if _, ok := ts.Values["prosody"]; ok || ts.Ratios["ejabberd"] != 1.11 {
		t.Errorf("tsung row %+v", ts)
	}
	mean := findRow(t, rows, "tsung request mean ms")
	if _, ok := mean.Ratios["ejabberd"]; ok {
		t.Errorf("ratio to a zero value: %+v", mean)
	}
	for _, r := range rows {
		if r.Figure == "login/s" {
			t.Errorf("a figure nobody measured has a row: %+v", r)
		}
	}
}

func TestWriteCompareTable(t *testing.T) {
	rep := &compareReport{Sizes: compareSizesFor(true), Servers: compareResults(t)}
	rep.Servers[1].Problems = []string{"idle: exit 1"}
	rep.Table = buildCompareTable(rep.Servers)
	var b bytes.Buffer
	writeCompareTable(&b, rep)
	out := b.String()
	for _, want := range []string{
		"| figure ", "| xmppd/prosody | xmppd/ejabberd |",
		"| chat msg/s ", "| 38051 | 5283 ", "| 7.20x ", "| 5.13x ",
		"| tsung sessions/s ", "problem: prosody: idle: exit 1",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestParseTsungLog(t *testing.T) {
	f, err := os.Open("testdata/compare/tsung-xmppd.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := parseTsungLog(f)
	if err != nil {
		t.Fatal(err)
	}
	// Two dumps 6 s apart: 139 sessions in the first interval, 52 in the
	// second; requests 1254 + 83.
	if s.Seconds != 16 || s.Sessions != 191 || s.Requests != 1337 || s.Users != 191 || s.Errors != 0 {
		t.Errorf("summary %+v", s)
	}
	if s.SessionsPerS != 11.9 || s.RequestMeanMS != 7.09 || s.AuthMeanMS < 5 || s.AuthMeanMS > 5.4 {
		t.Errorf("rates and means %+v", s)
	}
	errLog := "# stats: dump at 100\nstats: session 2 10 0 10 10 0 0\nstats: error_connect_econnrefused 3 3\n" +
		"# stats: dump at 105\nstats: error_connect_econnrefused 1 4\nstats: error_timeout 2 2\n"
	s, err = parseTsungLog(strings.NewReader(errLog))
	if err != nil || s.Errors != 6 || s.ErrorsByKind["error_connect_econnrefused"] != 4 || s.Sessions != 2 {
		t.Errorf("errors: %+v, %v", s, err)
	}
	if _, err := parseTsungLog(strings.NewReader("nothing here\n")); err == nil {
		t.Error("a log with no dump parsed")
	}
}

func TestCompareTemplatesRender(t *testing.T) {
	set := compareSettings{Dir: "/tmp/x", Domain: "localhost", Port: 15222, TLSPort: 15223, AdminPort: 15280, Root: true}
	for name, wants := range map[string][]string{
		"xmppd.yaml":      {`starttls_addr: "127.0.0.1:15222"`, `addr: "127.0.0.1:15280"`, "scram_iterations: 4096", "cert: /tmp/x/cert.pem", "resume_timeout: 600s"},
		"prosody.cfg.lua": {"c2s_ports = { 15222 }", `c2s_interfaces = { "127.0.0.1" }`, "nagle = false", `"epoll"`, "c2s_require_encryption = true", `"limits"`, "run_as_root = true", `"offline"`, `"smacks"`, `"carbons"`, "smacks_hibernation_time = 600"},
		"ejabberd.yml":    {"port: 15222", `ip: "127.0.0.1"`, "starttls_required: true", "backlog: 4096", "shaper: none", "auth_scram_hash: sha", "versioning: true", "mod_offline", "port: 15280", "mod_stream_mgmt: {resume_timeout: 600}", "mod_carboncopy: {}"},
	} {
		out, err := renderCompareTemplate(name, set)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range wants {
			if !bytes.Contains(out, []byte(w)) {
				t.Errorf("%s lacks %q:\n%s", name, w, out)
			}
		}
		if bytes.Contains(out, []byte("0.0.0.0")) || bytes.Contains(out, []byte(`"::"`)) {
			t.Errorf("%s listens beyond loopback", name)
		}
	}
	out, err := renderCompareTemplate("tsung-xmpp.xml", tsungSettings{Port: 15222, Users: 12, MaxUsers: 40, Seconds: 4, LimitSeconds: 34, Rate: 10, Messages: 3, Domain: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`<server host="127.0.0.1" port="15222"`, `name="userid_max" value="12"`, `arrivalrate="10"`, `to="3"`, `type="starttls"`} {
		if !bytes.Contains(out, []byte(w)) {
			t.Errorf("tsung config lacks %q", w)
		}
	}
}

func TestProsodyEncodeAndAccountFile(t *testing.T) {
	if got := prosodyEncode("user.1@x"); got != "user%2e1%40x" {
		t.Errorf("prosodyEncode = %q", got)
	}
	a, err := prosodyAccountFile("pass1", 4096)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := prosodyAccountFile("pass1", 4096)
	if bytes.Equal(a, b) || !bytes.Contains(a, []byte(`["iteration_count"] = 4096;`)) || !bytes.Contains(a, []byte(`["stored_key"] = "`)) {
		t.Errorf("account file (salts must differ):\n%s\n%s", a, b)
	}
}

func TestCompareRefusesBadCommandLines(t *testing.T) {
	for _, args := range [][]string{
		{"--servers", "xmppd,openfire"},
		{"--xmppd", "/nonexistent/xmppd"},
		{"--max-time", "0s", "--servers", "prosody"},
		{"stray"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), append([]string{"compare"}, args...), &out, &errOut); code != exitUsage {
			t.Errorf("compare %v: exit %d, want %d\n%s", args, code, exitUsage, errOut.String())
		}
	}
}

// tinySizes is a comparison that takes seconds.
func tinySizes() compareSizes {
	return compareSizes{Users: 12, Duration: 500 * time.Millisecond, LoginConc: 2, ChatUsers: 4, ChatWindow: 4,
		FanoutContacts: 5, RosterItems: 5, IdleSessions: 20, IdleHold: 200 * time.Millisecond,
		ResumeSessions: 6, ResumeConc: 2, TsungSeconds: 2, TsungRate: 2, TsungMessages: 1}
}

// checkTinyRun asserts that every scenario ran without errors, and that
// the server's directory is gone.
func checkTinyRun(t *testing.T, r *compareServerResult, z compareSizes) {
	t.Helper()
	if len(r.Problems) > 0 {
		t.Fatalf("%s: problems %q", r.Server, r.Problems)
	}
	for _, sc := range []string{"login", "chat", "chat-sm", "subscribe", "fanout", "fill-roster", "roster", "sm-resume", "idle", "idle-sm"} {
		res := r.Results[sc]
		if res == nil || res.Ops == 0 || res.Errors != 0 || res.Label != r.Server || res.Mechanism != "SCRAM-SHA-1" {
			t.Errorf("%s %s: %+v", r.Server, sc, res)
		}
	}
	if got := r.Results["roster"].Figures["roster_items"]; got != float64(z.RosterItems) {
		t.Errorf("%s roster: %v items, want %d", r.Server, got, z.RosterItems)
	}
	for _, sc := range []string{"idle", "idle-sm"} {
		if res := r.Results[sc]; res == nil || res.Figures["sessions_open"] != float64(z.IdleSessions) || res.Figures["server_rss_end_bytes"] <= 0 {
			t.Errorf("%s %s: %+v", r.Server, sc, res)
		}
	}
	if rs := r.Results["sm-resume"]; rs != nil && (rs.Figures["sessions_at_end"] != float64(z.ResumeSessions) || rs.Figures["resume_failed"] != 0) {
		t.Errorf("%s sm-resume: every session cut must be resumed: %v", r.Server, rs.Figures)
	}
	if cs := r.Results["chat-sm"]; cs != nil && (cs.Figures["carbons"] != 2*cs.Figures["sent"] || cs.Figures["delivered"] != cs.Figures["sent"]) {
		t.Errorf("%s chat-sm: %v", r.Server, cs.Figures)
	}
	if _, err := os.Stat(r.Dir); !os.IsNotExist(err) {
		t.Errorf("%s: temporary directory %s left behind (%v)", r.Server, r.Dir, err)
	}
}

// TestCompareAgainstXmppd builds xmppd from this tree and runs the whole
// per-server sequence against it with tiny sizes, tsung included when
// installed.
func TestCompareAgainstXmppd(t *testing.T) {
	bin := buildXmppd(t)
	z := tinySizes()
	_, err := os.Stat(compareBins["tsung"])
	withTsung := err == nil
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	r := runCompareServer(ctx, "xmppd", bin, z, withTsung, false, &bytes.Buffer{})
	checkTinyRun(t, r, z)
	if withTsung && (r.Tsung == nil || r.Tsung.Sessions == 0 || r.Tsung.Errors != 0 || r.Tsung.AuthMeanMS <= 0) {
		t.Errorf("tsung: %+v", r.Tsung)
	}
	if !withTsung {
		t.Log("tsung not installed: its part was not run (apt-get install tsung)")
	}
	if len(processesNamed("epmd")) > 0 && withTsung {
		t.Log("an epmd runs: check that it was there before the test")
	}
	// The JSON report round-trips into the same table.
	rep := &compareReport{Sizes: z, Servers: []*compareServerResult{r}}
	rep.Table = buildCompareTable(rep.Servers)
	raw, _ := json.Marshal(rep)
	path := filepath.Join(t.TempDir(), "report.json")
	os.WriteFile(path, raw, 0o600)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"compare", "--from", path}, &out, &errOut); code != exitOK || !strings.Contains(out.String(), "| chat msg/s") {
		t.Errorf("compare --from: exit %d\n%s%s", code, out.String(), errOut.String())
	}
}

// TestCompareAgainstProsodyAndEjabberd runs the same tiny sequence against
// the other two servers, each skipped when not installed.
func TestCompareAgainstProsodyAndEjabberd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	for _, kind := range []string{"prosody", "ejabberd"} {
		t.Run(kind, func(t *testing.T) {
			bin := map[string]string{"prosody": compareBins["prosody"], "ejabberd": compareBins["erl"]}[kind]
			if _, err := os.Stat(bin); err != nil {
				t.Skipf("needs %s (apt-get install -y %s)", bin, kind)
			}
			if ok, _ := globAny("/usr/lib/x86_64-linux-gnu/ejabberd-*", "/usr/lib/erlang/lib/ejabberd-*"); kind == "ejabberd" && !ok {
				t.Skip("needs ejabberd (apt-get install -y ejabberd)")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			z := tinySizes()
			checkTinyRun(t, runCompareServer(ctx, kind, "", z, false, false, &bytes.Buffer{}), z)
		})
	}
}
