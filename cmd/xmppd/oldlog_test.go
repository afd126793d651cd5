package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// v1Log is a real log written by the xmppd that preceded session.ended
// schema 2 (every event type at schema 1), with that binary's outputs:
// 31 events of the slixmpp story (alice and bob subscribe, approve,
// rename, presence, unsubscribe, cancel), two of them session.ended with
// the free-text reason "client closed the stream".
const v1Log = "testdata/v1log"

// TestV1LogReadsUnchanged runs today's binary on a copy of a log written
// by the previous one, and proves that an event appended by a version of
// xmppd with an older schema replays correctly:
//
//   - verify exits 0: the hash chains of the old events still check, so
//     nothing about them (schema 1 and its bytes included) changed meaning;
//     and every view is rebuilt from them, session.ended going through
//     the v1->v2 upcaster;
//   - export is byte-identical to the old binary's: the log keeps the bytes
//     an event was appended with, and upcasting happens on decode only;
//   - replay --at 20 (both sessions open) and --at 31 (both ended, the
//     schema 1 session.ended applied) give what the old binary gave;
//   - audit of alice gives what the old binary gave for every event, and
//     for session.ended exactly the same plus the schema 2 fields: cause
//     client_closed and the old reason as detail, with no condition.
//
// The testdata file itself is never opened by xmppd (SQLite would leave
// -wal and -shm files beside it, and a store could migrate it): it is
// copied, and its bytes are checked unchanged at the end.
func TestV1LogReadsUnchanged(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(v1Log, "xmppd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		after, err := os.ReadFile(filepath.Join(v1Log, "xmppd.db"))
		if err != nil || !bytes.Equal(after, orig) {
			t.Errorf("the testdata log changed (err %v)", err)
		}
	}()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "xmppd.db"), orig, 0o640); err != nil {
		t.Fatal(err)
	}
	recorded := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(v1Log, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	v := mustRun(t, dir, "", "verify")
	if !strings.Contains(v.stdout, "checked 31 events") || !strings.Contains(v.stdout, "OK") {
		t.Errorf("verify:\n%s", v.stdout)
	}

	export := mustRun(t, dir, "", "export", "--format", "jsonl").stdout
	if want := recorded("export.jsonl"); export != want {
		t.Errorf("export differs from the old binary's:\n%s", lineDiff(export, want))
	}
	// What the byte comparison implies, said plainly: both session.ended
	// are still stored as schema 1 with their reason.
	v1Ends := 0
	for _, e := range readJSONL(t, export) {
		if e.Type == "session.ended" && e.SchemaVersion == 1 && strings.Contains(string(e.Data), `"reason":"client closed the stream"`) {
			v1Ends++
		}
	}
	if v1Ends != 2 {
		t.Errorf("export holds %d session.ended of schema 1, want 2", v1Ends)
	}

	for _, at := range []string{"20", "31"} {
		got := mustRun(t, dir, "", "replay", "--at", at, "--format", "json").stdout
		want := recorded("replay-at-" + at + ".json")
		g, w := jsonLines(t, got), jsonLines(t, want)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("replay --at %s differs from the old binary's:\n%s", at, lineDiff(got, want))
		}
	}

	got := jsonLines(t, mustRun(t, dir, "", "audit", "--user", "alice@localhost", "--format", "json").stdout)
	want := jsonLines(t, recorded("audit-alice.json"))
	if len(got) != len(want) {
		t.Fatalf("audit told %d events, the old binary %d", len(got), len(want))
	}
	ends := 0
	for i := range want {
		g, w := got[i], want[i]
		if w["type"] != "session.ended" {
			if !reflect.DeepEqual(g, w) {
				t.Errorf("audit entry %d (%v) differs from the old binary's:\n got  %v\n want %v", i, w["type"], g, w)
			}
			continue
		}
		ends++
		// The schema 2 fields, field by field.
		if g["cause"] != "client_closed" {
			t.Errorf("audit entry %d: cause %v, want client_closed", i, g["cause"])
		}
		if _, ok := g["condition"]; ok {
			t.Errorf("audit entry %d: condition %v, want none (no stream error was sent)", i, g["condition"])
		}
		if g["detail"] != "client closed the stream" {
			t.Errorf("audit entry %d: detail %v, want the schema 1 reason", i, g["detail"])
		}
		if g["text"] != "session ended: resource laptop (client closed the stream)" {
			t.Errorf("audit entry %d: text %v", i, g["text"])
		}
		// Everything the old binary said is said again, unchanged.
		for k, wv := range w {
			if !reflect.DeepEqual(g[k], wv) {
				t.Errorf("audit entry %d: %s = %v, the old binary said %v", i, k, g[k], wv)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok && k != "cause" && k != "detail" {
				t.Errorf("audit entry %d: unexpected field %s = %v", i, k, g[k])
			}
		}
	}
	if ends != 1 {
		t.Errorf("alice's audit has %d session.ended, want 1", ends)
	}

	// A writable command migrates the file to the store's schema 2 (one
	// JSON envelope column, bulk stream index). Everything read above
	// must read the same afterwards, and the new account's events continue
	// the log.
	mustRun(t, dir, "", "user", "add", "carol@localhost", "--password", "pw")
	v = mustRun(t, dir, "", "verify")
	if !strings.Contains(v.stdout, "checked 33 events") || !strings.Contains(v.stdout, "OK") {
		t.Errorf("verify after migration:\n%s", v.stdout)
	}
	migrated := mustRun(t, dir, "", "export", "--format", "jsonl").stdout
	if want := recorded("export.jsonl"); !strings.HasPrefix(migrated, want) || strings.Count(migrated, "\n") != 33 {
		t.Errorf("export after migration does not begin with the old binary's 31 lines:\n%s", lineDiff(migrated, want))
	}
	for _, at := range []string{"20", "31"} {
		got := mustRun(t, dir, "", "replay", "--at", at, "--format", "json").stdout
		if g, w := jsonLines(t, got), jsonLines(t, recorded("replay-at-"+at+".json")); !reflect.DeepEqual(g, w) {
			t.Errorf("replay --at %s after migration differs from the old binary's", at)
		}
	}
}

// jsonLines decodes one JSON object a line.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// lineDiff lists the lines of got and want that differ, by number.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d:\n got  %s\n want %s\n", i+1, gl, wl)
		}
	}
	return b.String()
}
