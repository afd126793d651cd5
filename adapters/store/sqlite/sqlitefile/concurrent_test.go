package sqlitefile

import (
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zombiezen.com/go/sqlite"
)

// TestConcurrentWriter holds a read transaction on one connection while
// another keeps appending rows (and, in one variant, a third checkpoints
// the WAL into the database file, restarting and truncating it), opens a
// File inside that transaction, and checks that every row the transaction
// sees is read from the File exactly as SELECT returns it. This is how
// the store uses the package.
func TestConcurrentWriter(t *testing.T) {
	t.Parallel()
	for _, checkpoints := range []bool{false, true} {
		t.Run(fmt.Sprint("checkpoints=", checkpoints), func(t *testing.T) {
			t.Parallel()
			testConcurrentWriter(t, checkpoints)
		})
	}
}

func testConcurrentWriter(t *testing.T, checkpoints bool) {
	path := filepath.Join(t.TempDir(), "events.db")
	w := openConn(t, path)
	mustExec(t, w, "PRAGMA page_size=1024")
	mustExec(t, w, "PRAGMA journal_mode=WAL")
	if checkpoints {
		mustExec(t, w, "PRAGMA wal_autocheckpoint=64")
	} else {
		mustExec(t, w, "PRAGMA wal_autocheckpoint=0")
	}
	mustExec(t, w, eventsSchema)
	r := openConn(t, path)
	root := rootPageConn(t, r, "events")

	const maxRows = 25000
	var (
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		written atomic.Int64
	)
	wg.Go(func() {
		ins := w.Prep(insertEvent)
		p := prng(1234)
		pos := int64(0)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if pos >= maxRows {
				time.Sleep(time.Millisecond)
				continue
			}
			if err := execConn(w, "BEGIN IMMEDIATE"); err != nil {
				t.Error(err)
				return
			}
			for range 1 + p.intn(30) {
				pos++
				bindEvent(ins, pos, &p, 100+p.intn(2400))
				if _, err := ins.Step(); err != nil {
					t.Error(err)
					return
				}
				ins.Reset()
			}
			if err := execConn(w, "COMMIT"); err != nil {
				t.Error(err)
				return
			}
			written.Store(pos)
			time.Sleep(time.Duration(p.intn(600)) * time.Microsecond)
		}
	})
	var ckpts atomic.Int64
	if checkpoints {
		c := openConn(t, path)
		c.SetBusyTimeout(2 * time.Millisecond)
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				mode := "PASSIVE"
				switch i % 8 {
				case 3:
					mode = "RESTART"
				case 7:
					mode = "TRUNCATE"
				}
				if execConn(c, "PRAGMA wal_checkpoint("+mode+")") == nil {
					ckpts.Add(1)
				}
				time.Sleep(300 * time.Microsecond)
			}
		})
	}

	retries := walRetries.Load()
	start := time.Now()
	var reads, newer int
	for i := 0; i < 300 && (i < 20 || time.Since(start) < 3*time.Second); i++ {
		if t.Failed() {
			break
		}
		mustExec(t, r, "BEGIN")
		seen := queryInt(t, r, "SELECT coalesce(max(position), 0) FROM events")
		if i%3 == 1 {
			time.Sleep(time.Millisecond) // let commits land between the snapshot and Open
		}
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tryFileRows(f, root, math.MinInt64)
		if err != nil {
			t.Fatalf("read %d (transaction sees %d rows): %v", i, seen, err)
		}
		if n := len(got); n > 0 && got[n-1].rowid > seen {
			newer++
		}
		for len(got) > 0 && got[len(got)-1].rowid > seen {
			got = got[:len(got)-1]
		}
		want := sqlRows(t, r, true, "SELECT position, * FROM events ORDER BY position")
		mustExec(t, r, "COMMIT")
		f.Close()
		if int64(len(want)) != seen || len(got) != len(want) {
			t.Fatalf("read %d: transaction sees %d rows, SELECT returned %d, the File %d", i, seen, len(want), len(got))
		}
		compareRows(t, got, want)
		reads++
	}
	close(stop)
	wg.Wait()
	t.Logf("%d reads while %d rows were written, %d checkpoints; %d views newer than their transaction; WAL copied again %d times (all tests)",
		reads, written.Load(), ckpts.Load(), newer, walRetries.Load()-retries)
}

func mustExec(t testing.TB, conn *sqlite.Conn, query string, args ...any) {
	t.Helper()
	if err := execConn(conn, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// eventsSchema is the shape of xmppd's event log.
const eventsSchema = `CREATE TABLE events (
	position  INTEGER PRIMARY KEY,
	stream    TEXT    NOT NULL,
	version   INTEGER NOT NULL,
	type      TEXT    NOT NULL,
	recorded  INTEGER NOT NULL,
	hash      TEXT    NOT NULL,
	envelope  TEXT    NOT NULL
)`

const insertEvent = `INSERT INTO events (position, stream, version, type, recorded, hash, envelope) VALUES (?, ?, ?, ?, ?, ?, ?)`

// bindEvent binds an event-like row at position pos with an envelope of
// about size bytes of JSON-like text.
func bindEvent(st *sqlite.Stmt, pos int64, p *prng, size int) {
	st.BindInt64(1, pos)
	st.BindText(2, fmt.Sprintf("account-user%d@example.com", p.intn(500)))
	st.BindInt64(3, pos/7+1)
	st.BindText(4, []string{"subscription.changed", "roster.item.set", "message.stored", "session.opened"}[p.intn(4)])
	st.BindInt64(5, 1_700_000_000_000_000_000+pos*1_000_003)
	st.BindText(6, fmt.Sprintf("%016x%016x%016x%016x", p.next(), p.next(), p.next(), p.next()))
	env := fmt.Sprintf(`{"prev":"%064x","id":"0190a1b2-%04x-7def-8123-%012x","schema":1,"actor":"user%d@example.com/res","session":"s%d","addr":"192.0.2.%d:5222","stanza_id":"","causation":"","correlation":"c%d","node":"node-1","data":{"text":"`,
		p.next(), p.intn(65536), p.next()&0xffffffffffff, p.intn(500), p.intn(1000), p.intn(255), pos)
	if pad := size - len(env) - 3; pad > 0 {
		env += p.text(pad)
	}
	st.BindText(7, env+`"}}`)
}
