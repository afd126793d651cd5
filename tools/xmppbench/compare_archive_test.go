package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestMAMFillAndQueryAgainstXmppd fills an archive through a real xmppd
// with archiving on and reads its last page back (XEP-0313 section 4.3,
// XEP-0059 section 2.5): every message sent is delivered, a page holds
// the 50 asked for, and a page shorter than asked is counted as an error.
func TestMAMFillAndQueryAgainstXmppd(t *testing.T) {
	t.Parallel() // with the test below, its own xmppd: they overlap the waits
	s := startXmppd(t, 3, true)
	bench := func(args ...string) (int, result) {
		t.Helper()
		var out, errOut bytes.Buffer
		args = append(args, "--addr", s.addr(), "--insecure", "--json", "--users", "3", "--hub", "2", "--timeout", "10s", "--max-time", "30s")
		code := run(context.Background(), args, &out, &errOut)
		var r result
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("%v: exit %d, no result: %v\n%s", args, code, err, errOut.String())
		}
		return code, r
	}
	code, fill := bench("mam-fill", "--count", "80", "--window", "5", "--duration", "20s")
	if code != exitOK || fill.Ops != 80 || fill.Errors != 0 || fill.Figures["sent"] != 80 || fill.Latency.Count != 80 {
		t.Fatalf("mam-fill: exit %d, %d delivered, errors %v %q, figures %v", code, fill.Ops, fill.ErrorsByKind, fill.ErrorSamples, fill.Figures)
	}
	code, q := bench("mam-query", "--concurrency", "2", "--count", "10", "--duration", "10s")
	if code != exitOK || q.Ops != 10 || q.Errors != 0 || q.Figures["page"] != 50 {
		t.Errorf("mam-query: exit %d, %d queries, errors %v %q", code, q.Ops, q.ErrorsByKind, q.ErrorSamples)
	}
	// 80 archived: a page of 100 comes back short.
	_, q = bench("mam-query", "--concurrency", "1", "--count", "2", "--items", "100", "--duration", "10s")
	if q.Ops != 2 || q.ErrorsByKind["short-page"] != 2 {
		t.Errorf("mam-query --items 100 of 80: %d queries, errors %v; want 2 short pages", q.Ops, q.ErrorsByKind)
	}
}

// TestCompareArchiveAgainstXmppd runs the comparison's archive phase with
// tiny sizes against xmppd built from this tree: chat with archiving on,
// both fills, the data growth and start-up figures, both queries.
func TestCompareArchiveAgainstXmppd(t *testing.T) {
	t.Parallel()
	bin := buildXmppd(t)
	z := tinySizes()
	z.MAMMessages, z.MAMMessagesLarge, z.MAMFillLimit = 60, 150, 20*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	r := &compareServerResult{Server: "xmppd", Results: map[string]*result{}}
	runCompareArchive(ctx, r, bin, z, false, &bytes.Buffer{})
	if len(r.Problems)+len(r.Notes) > 0 {
		t.Fatalf("problems %q, notes %q", r.Problems, r.Notes)
	}
	for _, sc := range []string{keyChatArchived, keyMAMFill, keyMAMQuery, keyMAMFillLarge, keyMAMQueryLarge} {
		if res := r.Results[sc]; res == nil || res.Ops == 0 || res.Errors != 0 || res.Label != "xmppd" {
			t.Errorf("%s: %+v", sc, res)
		}
	}
	for key, n := range map[string]int64{keyMAMFill: 60, keyMAMFillLarge: 90} {
		f := r.Results[key]
		if f == nil {
			continue
		}
		// A sealed message in two archives takes some hundreds of bytes.
		if f.Ops != n || f.Figures["data_bytes_per_message"] < 100 || f.Figures["start_s_before"] <= 0 || f.Figures["start_s_after"] <= 0 {
			t.Errorf("%s: %d messages (want %d), figures %v", key, f.Ops, n, f.Figures)
		}
	}
	rows := buildCompareTable([]*compareServerResult{r})
	if row := findRow(t, rows, "mam-query-large last 50 p99 ms"); row.Values["xmppd"] <= 0 {
		t.Errorf("row %+v", row)
	}
}

// TestLargeArchiveFiguresNeedAFullFill: a server whose large fill fell
// short of its count gets no large-archive query figures, so that no
// ratio compares archives of different sizes.
func TestLargeArchiveFiguresNeedAFullFill(t *testing.T) {
	mk := func(server string, short int64) *compareServerResult {
		fill := &result{Ops: 100, OpsPerSec: 10, Figures: map[string]float64{}}
		if short > 0 {
			fill.ErrorsByKind = map[string]int64{"short-fill": short}
		}
		return &compareServerResult{Server: server, Results: map[string]*result{
			keyMAMFillLarge:  fill,
			keyMAMQueryLarge: {Ops: 10, Latency: latencySummary{P50MS: 2, P99MS: 4}},
		}}
	}
	rows := buildCompareTable([]*compareServerResult{mk("xmppd", 0), mk("prosody", 900)})
	p99 := findRow(t, rows, "mam-query-large last 50 p99 ms")
	if _, ok := p99.Values["prosody"]; ok || p99.Values["xmppd"] != 4 {
		t.Errorf("row %+v: prosody's short archive must not count", p99)
	}
	if got := findRow(t, rows, "mam-fill-large messages archived"); got.Values["prosody"] != 100 {
		t.Errorf("the archive sizes are shown whatever they are: %+v", got)
	}
	var b bytes.Buffer
	rep := &compareReport{Sizes: compareSizesFor(true), Servers: []*compareServerResult{mk("xmppd", 0)}}
	rep.Servers[0].Notes = []string{"archive: mam-fill-large skipped"}
	rep.Table = buildCompareTable(rep.Servers)
	writeCompareTable(&b, rep)
	if !strings.Contains(b.String(), "note: xmppd: archive: mam-fill-large skipped") {
		t.Errorf("table without the note:\n%s", b.String())
	}
}

// TestCompareTemplatesArchive: the archive phase's configurations turn
// archiving on, by default for every message, on each server's default
// storage; the other runs' configurations leave it off (xmppd's, which
// archives by default, turns it off).
func TestCompareTemplatesArchive(t *testing.T) {
	wants := map[string][]string{
		"xmppd.yaml":      {"archive:\n  enabled: true"},
		"prosody.cfg.lua": {`"carbons"; "mam" }`, "default_archive_policy = true"},
		"ejabberd.yml":    {"  mod_mam: {default: always}"},
	}
	for name, ws := range wants {
		for _, archive := range []bool{false, true} {
			out, err := renderCompareTemplate(name, compareSettings{Dir: "/tmp/x", Domain: "localhost", Port: 15222, Archive: archive})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range ws {
				if bytes.Contains(out, []byte(w)) != archive {
					t.Errorf("%s with Archive %v: has %q is %v:\n%s", name, archive, w, !archive, out)
				}
			}
			if !archive && name == "xmppd.yaml" && !bytes.Contains(out, []byte("archive:\n  enabled: false")) {
				// xmppd archives by default: the other phases turn it off.
				t.Errorf("%s without Archive does not turn archiving off:\n%s", name, out)
			}
			if !archive && (bytes.Contains(out, []byte("mam")) || name != "xmppd.yaml" && bytes.Contains(out, []byte("archive:"))) {
				t.Errorf("%s without Archive mentions the archive:\n%s", name, out)
			}
		}
	}
}
