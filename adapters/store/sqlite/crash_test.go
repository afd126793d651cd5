package sqlite_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"xmppd/adapters/store/sqlite"
)

// TestCrashKeepsEveryAcknowledgedEvent kills (SIGKILL) a child process
// appending from six goroutines, then reopens the file: every batch the
// child acknowledged is there, every batch is whole or absent, positions
// have no gap, and every chain checks and matches the streams table.
func TestCrashKeepsEveryAcknowledgedEvent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	for round := range 3 {
		cmd, sc := startChild(t, "crash", path)
		acked := map[string][]string{} // correlation -> ids
		deadline := time.Now().Add(10 * time.Second)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 3 || f[0] != "ack" {
				t.Fatalf("child said %q", sc.Text())
			}
			acked[f[1]] = f[2:]
			if len(acked) == 200*(round+1) || time.Now().After(deadline) {
				break
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Acknowledgements already written before the kill count too.
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 3 && f[0] == "ack" {
				acked[f[1]] = f[2:]
			}
		}
		cmd.Wait()
		if len(acked) == 0 {
			t.Fatal("child acknowledged nothing")
		}

		c := checkFile(t, path) // gap-free, chains, streams table
		s := openTemp(t, sqlite.Config{Path: path, ReadOnly: true})
		batches := map[string][]string{}
		for e, err := range s.ReadAll(context.Background(), 0) {
			if err != nil {
				t.Fatal(err)
			}
			batches[e.CorrelationID] = append(batches[e.CorrelationID], e.ID)
		}
		s.Close()
		for corr, ids := range batches {
			size, _ := strconv.Atoi(corr[strings.IndexByte(corr, '/')+1:])
			if len(ids) != size {
				t.Errorf("batch %s: %d of %d events committed", corr, len(ids), size)
			}
		}
		for corr, ids := range acked {
			if strings.Join(batches[corr], " ") != strings.Join(ids, " ") {
				t.Errorf("acknowledged batch %s: log holds %v, want %v", corr, batches[corr], ids)
			}
		}
		t.Logf("round %d: %d batches acknowledged, %d in the log, %d events in %d streams", round, len(acked), len(batches), c.Events, c.Streams())
	}
}
