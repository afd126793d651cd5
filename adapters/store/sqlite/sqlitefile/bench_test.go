package sqlitefile

import (
	"math"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"zombiezen.com/go/sqlite"
)

// benchRows is the size of the benchmark's event table.
const benchRows = 100_000

// BenchmarkScan reads a 100,000-row table shaped like xmppd's event log
// (envelopes of about 500 bytes of JSON, rows of about 600 bytes, page
// size 4096, WAL mode, checkpointed) whole, each way:
//
//   - sqlitefile: Open, TableLeaves, ScanLeaf and DecodeRecord of every
//     column, in one goroutine;
//   - sqlitefile-copy: the same, copying the text columns into a reused
//     buffer as the SQL reader must;
//   - sqlitefile-parallel, sqlitefile-parallel-copy: the same with the
//     leaves split among GOMAXPROCS goroutines;
//   - zombiezen: SELECT position, stream, version, type, recorded, hash,
//     envelope FROM events ORDER BY position, reading the integers with
//     ColumnInt64 and the text with ColumnBytes into a reused buffer.
//
// Each reports rows/s.
func BenchmarkScan(b *testing.B) {
	path := filepath.Join(b.TempDir(), "events.db")
	conn := openConn(b, path)
	mustExec(b, conn, "PRAGMA page_size=4096")
	mustExec(b, conn, "PRAGMA journal_mode=WAL")
	mustExec(b, conn, eventsSchema)
	mustExec(b, conn, "BEGIN")
	ins := conn.Prep(insertEvent)
	p := prng(2024)
	for pos := int64(1); pos <= benchRows; pos++ {
		bindEvent(ins, pos, &p, 350+p.intn(200))
		if _, err := ins.Step(); err != nil {
			b.Fatal(err)
		}
		ins.Reset()
	}
	mustExec(b, conn, "COMMIT")
	mustExec(b, conn, "PRAGMA wal_checkpoint(TRUNCATE)")
	root := rootPageConn(b, conn, "events")
	b.Logf("%d rows, %d bytes of table", benchRows, queryInt(b, conn, "PRAGMA page_count")*4096)

	report := func(b *testing.B, rows int64) {
		if rows != int64(b.N)*benchRows {
			b.Fatalf("read %d rows in %d scans", rows, b.N)
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
	}
	scanFile := func(b *testing.B, workers int, copyText bool) {
		var rows int64
		for b.Loop() {
			f, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			leaves, err := f.TableLeaves(root, math.MinInt64)
			if err != nil {
				b.Fatal(err)
			}
			counts := make([]int64, workers)
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					lo, hi := len(leaves)*w/workers, len(leaves)*(w+1)/workers
					vals := make([]Value, 0, 8)
					var scratch, buf []byte
					var derr error
					var sum int64
					for _, leaf := range leaves[lo:hi] {
						var err error
						scratch, err = f.ScanLeaf(leaf, scratch, func(rowid int64, payload []byte) bool {
							vals, derr = DecodeRecord(payload, vals)
							if derr != nil || len(vals) != 7 {
								return false
							}
							sum += rowid + vals[2].Int + vals[4].Int
							if copyText {
								buf = buf[:0]
								for _, c := range [...]int{1, 3, 5, 6} {
									buf = append(buf, vals[c].Bytes...)
								}
							} else {
								sum += int64(len(vals[6].Bytes))
							}
							counts[w]++
							return true
						})
						if err != nil || derr != nil {
							b.Error(err, derr)
							return
						}
					}
					_ = sum
				})
			}
			wg.Wait()
			f.Close()
			for _, c := range counts {
				rows += c
			}
		}
		report(b, rows)
	}
	b.Run("sqlitefile", func(b *testing.B) { scanFile(b, 1, false) })
	b.Run("sqlitefile-copy", func(b *testing.B) { scanFile(b, 1, true) })
	b.Run("sqlitefile-parallel", func(b *testing.B) { scanFile(b, runtime.GOMAXPROCS(0), false) })
	b.Run("sqlitefile-parallel-copy", func(b *testing.B) { scanFile(b, runtime.GOMAXPROCS(0), true) })
	b.Run("zombiezen", func(b *testing.B) {
		st := conn.Prep("SELECT position, stream, version, type, recorded, hash, envelope FROM events ORDER BY position")
		var buf []byte
		var rows int64
		for b.Loop() {
			var sum int64
			for {
				ok, err := st.Step()
				if err != nil {
					b.Fatal(err)
				}
				if !ok {
					break
				}
				sum += st.ColumnInt64(0) + st.ColumnInt64(2) + st.ColumnInt64(4)
				buf = buf[:0]
				for _, c := range [...]int{1, 3, 5, 6} {
					buf = columnBytes(st, c, buf)
				}
				rows++
			}
			st.Reset()
			_ = sum
		}
		report(b, rows)
	})
}

// columnBytes appends column c of the current row to buf.
func columnBytes(st *sqlite.Stmt, c int, buf []byte) []byte {
	n := st.ColumnLen(c)
	buf = append(buf, make([]byte, n)...)
	st.ColumnBytes(c, buf[len(buf)-n:])
	return buf
}
