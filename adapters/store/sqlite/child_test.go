package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	zsqlite "zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
	"xmppd/events/storetest"
)

// The tests below re-execute the test binary as a second process (as the
// os/exec tests do): when childEnv is set, TestMain runs the child's part
// and exits instead of running tests.
const (
	childEnv     = "XMPPD_SQLITE_TEST_CHILD" // "append", "crash" or "peek"
	childPathEnv = "XMPPD_SQLITE_TEST_PATH"
	childNEnv    = "XMPPD_SQLITE_TEST_N"
)

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "append":
		os.Exit(childAppend(os.Getenv(childPathEnv), os.Getenv(childNEnv)))
	case "crash":
		os.Exit(childCrash(os.Getenv(childPathEnv)))
	case "peek":
		os.Exit(childPeek(os.Getenv(childPathEnv)))
	default:
		fmt.Fprintln(os.Stderr, "unknown child mode")
		os.Exit(2)
	}
}

// startChild starts this test binary in child mode on path.
func startChild(t *testing.T, mode, path string, extra ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+mode, childPathEnv+"="+path)
	cmd.Env = append(cmd.Env, extra...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return cmd, sc
}

// childAppend appends N single events to one stream of its own, printing
// each acknowledged ID, then exits.
func childAppend(path, n string) int {
	var count int
	fmt.Sscan(n, &count)
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: path})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	for i := range count {
		e := storetest.Envelopes(nopTB{}, 1, storetest.FullMeta())
		out, err := s.Append(context.Background(), "account-child@example.com", events.Exactly(uint64(i)), e...)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(out[0].ID)
	}
	return 0
}

// childPeek opens a plain read-write SQLite connection, counts the
// events and closes it, as the sqlite3 shell or `xmppd user list` would.
// Closing, SQLite takes the file for unused if it can lock it exclusively,
// and then checkpoints it and deletes the WAL.
func childPeek(path string) int {
	conn, err := zsqlite.OpenConn(path, zsqlite.OpenReadWrite)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	err = sqlitex.ExecuteTransient(conn, "SELECT count(*) FROM events", &sqlitex.ExecOptions{ResultFunc: func(st *zsqlite.Stmt) error {
		fmt.Println(st.ColumnInt64(0))
		return nil
	}})
	if cerr := conn.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// childCrash appends batches of 1-5 events from 6 goroutines, forever,
// printing "ack <correlation> <id>..." for each acknowledged batch. Each
// batch's CorrelationID is "b<pid>.<goroutine>.<seq>/<size>", so the parent can
// tell whole batches from partial ones after the kill.
func childCrash(path string) int {
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: path})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			versions := map[string]uint64{}
			for seq := 0; ; seq++ {
				stream := fmt.Sprintf("account-crash%d-%d@example.com", g, rng.IntN(10))
				n := 1 + rng.IntN(5)
				m := storetest.FullMeta()
				m.CorrelationID = fmt.Sprintf("b%d.%d.%d/%d", os.Getpid(), g, seq, n)
				evs := storetest.Envelopes(nopTB{}, n, m)
				// Half the appends state the exact version (once known: an
				// earlier child may have written the stream), half use Any.
				expected := events.Any
				if v, known := versions[stream]; known && seq%2 == 0 {
					expected = events.Exactly(v)
				}
				res, err := s.Append(context.Background(), stream, expected, evs...)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				versions[stream] = res[n-1].Version
				ids := make([]string, n)
				for i, e := range res {
					ids[i] = e.ID
				}
				mu.Lock()
				fmt.Fprintf(out, "ack %s %s\n", m.CorrelationID, strings.Join(ids, " "))
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return 0
}

// nopTB lets the child build envelopes with storetest helpers outside a
// test; its Fatalf exits, which in a child is the right outcome.
type nopTB struct{ testing.TB }

func (nopTB) Helper() {}
func (nopTB) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
