package sqlitefile

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"
	"testing"
)

// intEdges are integers at the edges of each integer serial type's range.
var intEdges = []int64{
	0, 1, -1, 2, 127, 128, -128, -129, 255, 256,
	32767, 32768, -32768, -32769,
	1<<23 - 1, 1 << 23, -1 << 23, -1<<23 - 1,
	1<<31 - 1, 1 << 31, -1 << 31, -1<<31 - 1,
	1<<47 - 1, 1 << 47, -1 << 47, -1<<47 - 1,
	math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1,
}

// payloadLengths returns blob lengths around the points where a payload
// starts to spill and where its local part changes, for usable size u,
// from 0 bytes up to 300 KiB.
func payloadLengths(u int) []int {
	x := u - 35
	m := (u-12)*32/255 - 23
	var ls []int
	for l := 0; l <= 10; l++ {
		ls = append(ls, l)
	}
	for _, base := range []int{m, x, x + (u - 4), m + (u - 4), x + 2*(u-4), 5000, 70000} {
		for d := -6; d <= 6; d += 2 {
			if l := base + d; l >= 0 {
				ls = append(ls, l)
			}
		}
	}
	return append(ls, 300*1024, 300*1024+1)
}

// TestTablesAndValues builds tables holding every kind of value, payloads
// from empty to 300 KiB, rowids from the least to the greatest with gaps
// and deleted rows, at page sizes 512, 4096 and 65536 and in both journal
// modes, and compares every row and column with what SELECT returns.
func TestTablesAndValues(t *testing.T) {
	t.Parallel()
	for _, pageSize := range []int{512, 4096, 65536} {
		for _, wal := range []bool{false, true} {
			t.Run(fmt.Sprintf("page%d/wal=%v", pageSize, wal), func(t *testing.T) {
				t.Parallel()
				d := newDB(t, pageSize, wal)
				d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, a, b, c)")
				d.exec("BEGIN")
				p := prng(pageSize)
				id := int64(math.MinInt64)
				next := func() int64 {
					id += int64(1 + p.intn(1000))
					return id
				}
				d.insert("t", id, "least rowid", nil, nil)
				for _, v := range intEdges {
					d.insert("t", next(), v, -v, nil)
				}
				for _, v := range []float64{0, math.Copysign(0, -1), 1.5, -2.25, 1e300, -1e-300, math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64, 3} {
					d.insert("t", next(), v, nil, 7)
				}
				for _, s := range []string{"", "a", "héllo, wörld €", p.text(100), p.text(5000)} {
					d.insert("t", next(), s, []byte(s), nil)
				}
				id = -5
				for _, l := range payloadLengths(pageSize) {
					d.insert("t", next(), p.bytes(l), p.text(l%97), int64(l))
				}
				// A run of consecutive rowids, then some deleted.
				id = 1 << 40
				for i := range 3000 {
					d.insert("t", next(), i, p.text(p.intn(120)), nil)
				}
				d.insert("t", int64(math.MaxInt64), "greatest rowid", nil, nil)
				d.exec("COMMIT")
				d.exec("DELETE FROM t WHERE id % 7 = 3 OR (id > ? AND id < ?)", int64(1<<40+10000), int64(1<<40+200000))

				f := openFile(t, d.path)
				if f.PageSize() != pageSize {
					t.Fatalf("PageSize() = %d, want %d", f.PageSize(), pageSize)
				}
				if count := queryInt(t, d.conn, "PRAGMA page_count"); int64(f.Pages()) != count {
					t.Fatalf("Pages() = %d, PRAGMA page_count = %d", f.Pages(), count)
				}
				root := d.rootPage("t")
				want := sqlRows(t, d.conn, true, "SELECT id, * FROM t ORDER BY id")
				compareRows(t, fileRows(t, f, root, math.MinInt64), want)
				for _, from := range []int64{math.MinInt64, -1 << 40, 0, 1 << 40, 1<<40 + 5000, math.MaxInt64} {
					i, _ := slices.BinarySearchFunc(want, from, func(r row, from int64) int {
						return cmp.Compare(r.rowid, from)
					})
					compareRows(t, fileRows(t, f, root, from), want[i:])
				}
			})
		}
	}
}

// TestDeepTree checks a table b-tree of at least three levels (page size
// 512, many rows) and where TableLeaves starts for each from.
func TestDeepTree(t *testing.T) {
	t.Parallel()
	d := newDB(t, 512, true)
	d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
	d.exec("BEGIN")
	p := prng(42)
	const base int64 = 1 << 50 // rowids of 8-byte varints: fewer cells per interior page
	for i := range 40000 {
		d.insert("t", base+int64(3*i+p.intn(2)), p.text(60+p.intn(60)))
	}
	d.exec("COMMIT")
	root := d.rootPage("t")
	f := openFile(t, d.path)

	w := treeWalk{f: f, from: math.MinInt64, seen: make([]uint64, f.avail/64+1), leafDepth: -1}
	if err := w.walk(root, 1, bounds{hi: math.MaxInt64}); err != nil {
		t.Fatal(err)
	}
	if w.leafDepth < 4 {
		t.Fatalf("leaves at depth %d, want a tree of 4 levels or more", w.leafDepth)
	}
	t.Logf("%d leaves at depth %d", len(w.leaves), w.leafDepth)

	want := sqlRows(t, d.conn, true, "SELECT id, * FROM t ORDER BY id")
	compareRows(t, fileRows(t, f, root, math.MinInt64), want)

	// Without deletes each interior key is the greatest rowid of its left
	// subtree, so TableLeaves starts exactly at the leaf holding from.
	leaves, err := f.TableLeaves(root, math.MinInt64)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(leaves, w.leaves) {
		t.Fatal("TableLeaves differs from the walk")
	}
	firsts, lasts := leafRanges(t, f, leaves)
	check := func(from int64, wantStart int) {
		t.Helper()
		got, err := f.TableLeaves(root, from)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, leaves[wantStart:]) {
			t.Fatalf("TableLeaves(from %d): %d leaves starting with %v, want %d from leaf %d", from, len(got), got[:min(len(got), 1)], len(leaves)-wantStart, wantStart)
		}
	}
	for i := 0; i < len(leaves); i += 1 + i%5 + len(leaves)/60 {
		check(firsts[i], i) // on a leaf's first rowid
		if lasts[i] > firsts[i] {
			check(firsts[i]+1, i) // inside a leaf
		}
		check(lasts[i], i) // on a leaf's last rowid
		if i+1 < len(leaves) && lasts[i]+1 < firsts[i+1] {
			check(lasts[i]+1, i+1) // between two leaves
		}
	}
	check(math.MinInt64, 0)
	last := lasts[len(lasts)-1]
	check(last, len(leaves)-1)
	got, err := f.TableLeaves(root, last+1) // past the end: at most the last leaf
	if err != nil || len(got) > 1 {
		t.Fatalf("TableLeaves past the end: %v, %v", got, err)
	}
	if rows := fileRows(t, f, root, last+1); len(rows) != 0 {
		t.Fatalf("%d rows past the end", len(rows))
	}

	// After deletes, keys may exceed what is left of their subtree: the
	// rows from each point must still be exactly those SELECT returns.
	d.exec("DELETE FROM t WHERE id BETWEEN ? AND ? OR id % 5 = 0", int64(base+30000), int64(base+60000))
	f2 := openFile(t, d.path)
	want = sqlRows(t, d.conn, true, "SELECT id, * FROM t ORDER BY id")
	compareRows(t, fileRows(t, f2, root, math.MinInt64), want)
	for _, from := range []int64{-1, 0, base, base + 29999, base + 30000, base + 45000, base + 60000, base + 60001, base + 99999, base + 119990, base + 200000} {
		want := sqlRows(t, d.conn, true, "SELECT id, * FROM t WHERE id >= ? ORDER BY id", from)
		compareRows(t, fileRows(t, f2, root, from), want)
	}
}

// leafRanges returns the first and last rowid of each leaf.
func leafRanges(t *testing.T, f *File, leaves []uint32) (firsts, lasts []int64) {
	t.Helper()
	for _, leaf := range leaves {
		first, last, n := int64(0), int64(0), 0
		if _, err := f.ScanLeaf(leaf, nil, func(rowid int64, _ []byte) bool {
			if n == 0 {
				first = rowid
			}
			last = rowid
			n++
			return true
		}); err != nil || n == 0 {
			t.Fatalf("leaf %d: %d rows, %v", leaf, n, err)
		}
		firsts = append(firsts, first)
		lasts = append(lasts, last)
	}
	return firsts, lasts
}

// TestSchemaTable reads sqlite_schema, whose root is page 1 (with the
// database header before its b-tree header), and finds the root pages
// SQLite reports.
func TestSchemaTable(t *testing.T) {
	t.Parallel()
	d := newDB(t, 1024, true)
	for i := range 40 {
		d.exec(fmt.Sprintf("CREATE TABLE t%d (id INTEGER PRIMARY KEY, x TEXT, y)", i))
		d.exec(fmt.Sprintf("CREATE INDEX i%d ON t%d (x, y)", i, i))
	}
	f := openFile(t, d.path)
	rows := fileRows(t, f, 1, math.MinInt64)
	want := sqlRows(t, d.conn, false, "SELECT rowid, * FROM sqlite_schema ORDER BY rowid")
	compareRows(t, rows, want)
	if len(rows) != 80 {
		t.Fatalf("%d schema rows", len(rows))
	}
	for _, r := range rows {
		if string(r.vals[1].Bytes) == "t17" && uint32(r.vals[3].Int) != d.rootPage("t17") {
			t.Fatalf("root of t17: %d, want %d", r.vals[3].Int, d.rootPage("t17"))
		}
	}
	// An index b-tree is not a table b-tree.
	if _, err := f.TableLeaves(d.rootPage("i3"), 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("TableLeaves of an index: %v, want ErrCorrupt", err)
	}
}

// TestRealAffinity: SQLite stores an integral value of a REAL column as an
// integer, which the caller converts back.
func TestRealAffinity(t *testing.T) {
	t.Parallel()
	d := newDB(t, 4096, false)
	d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, r REAL)")
	d.exec("INSERT INTO t VALUES (1, 3.0), (2, 2.5), (3, -7)")
	f := openFile(t, d.path)
	rows := fileRows(t, f, d.rootPage("t"), 0)
	want := []Value{{Kind: Int, Int: 3}, {Kind: Float, Float: 2.5}, {Kind: Int, Int: -7}}
	if len(rows) != 3 {
		t.Fatalf("rows %v", rows)
	}
	for i, r := range rows {
		if !sameValue(r.vals[1], want[i]) {
			t.Fatalf("row %d: %v, want %v", i, r, showValue(want[i]))
		}
	}
}

// TestScanLeafStop checks that fn returning false ends the scan.
func TestScanLeafStop(t *testing.T) {
	t.Parallel()
	d := newDB(t, 4096, false)
	d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, x)")
	d.exec(series(50) + "INSERT INTO t SELECT value, value FROM s")
	f := openFile(t, d.path)
	leaves, err := f.TableLeaves(d.rootPage("t"), 0)
	if err != nil || len(leaves) != 1 {
		t.Fatal(leaves, err)
	}
	var seen []int64
	if _, err := f.ScanLeaf(leaves[0], nil, func(rowid int64, _ []byte) bool {
		seen = append(seen, rowid)
		return rowid < 3
	}); err != nil || !slices.Equal(seen, []int64{1, 2, 3}) {
		t.Fatalf("saw %v, %v", seen, err)
	}
}

// TestScanAllocs checks that ScanLeaf and DecodeRecord allocate nothing
// per row when payloads fit on their page.
func TestScanAllocs(t *testing.T) {
	d := newDB(t, 4096, true)
	d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, v INTEGER, e TEXT)")
	d.exec(series(2000) + "INSERT INTO t SELECT value, 'stream-' || (value % 10), value, printf('%.*c', 300, 'x') FROM s")
	f := openFile(t, d.path)
	leaves, err := f.TableLeaves(d.rootPage("t"), 0)
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]Value, 0, 8)
	var scratch []byte
	var sum int64
	var derr error
	fn := func(rowid int64, payload []byte) bool {
		vals, derr = DecodeRecord(payload, vals)
		sum += rowid + vals[2].Int + int64(len(vals[3].Bytes))
		return derr == nil
	}
	allocs := testing.AllocsPerRun(10, func() {
		for _, leaf := range leaves {
			scratch, err = f.ScanLeaf(leaf, scratch, fn)
			if err != nil || derr != nil {
				t.Fatal(err, derr)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per scan of %d leaves", allocs, len(leaves))
	}
}

// TestParallelScan reads the leaves of one File from several goroutines
// at once (run it with -race).
func TestParallelScan(t *testing.T) {
	t.Parallel()
	d := newDB(t, 1024, true)
	d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB)")
	d.exec("BEGIN")
	p := prng(7)
	for i := range 3000 {
		d.insert("t", i, p.text(p.intn(200)), p.bytes(p.intn(3000)))
	}
	d.exec("COMMIT")
	d.exec("PRAGMA wal_checkpoint(PASSIVE)")
	d.exec("UPDATE t SET s = 'changed' WHERE id % 13 = 0")
	f := openFile(t, d.path)
	root := d.rootPage("t")
	want := sqlRows(t, d.conn, true, "SELECT id, * FROM t ORDER BY id")
	leaves, err := f.TableLeaves(root, math.MinInt64)
	if err != nil {
		t.Fatal(err)
	}
	const workers = 4
	parts := make([][]row, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			lo, hi := len(leaves)*w/workers, len(leaves)*(w+1)/workers
			var scratch []byte
			for _, leaf := range leaves[lo:hi] {
				var err error
				scratch, err = f.ScanLeaf(leaf, scratch, func(rowid int64, payload []byte) bool {
					vals, err := DecodeRecord(payload, nil)
					if err != nil {
						t.Error(err)
						return false
					}
					r := row{rowid: rowid}
					for _, v := range vals {
						v.Bytes = slices.Clone(v.Bytes)
						r.vals = append(r.vals, v)
					}
					parts[w] = append(parts[w], r)
					return true
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	compareRows(t, slices.Concat(parts...), want)
}

// TestReadFileFallback checks that a database read into memory (the
// fallback where there is no mmap) reads as the mapped one does.
func TestReadFileFallback(t *testing.T) {
	t.Parallel()
	d := newDB(t, 512, false)
	d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, b)")
	d.exec(series(300) + "INSERT INTO t SELECT value, randomblob(value * 7) FROM s")
	fh, err := os.Open(d.path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	fi, _ := fh.Stat()
	data, err := readFile(fh, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	f, err := newFile(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	root := d.rootPage("t")
	compareRows(t, fileRows(t, f, root, 0), fileRows(t, openFile(t, d.path), root, 0))
	compareRows(t, fileRows(t, f, root, 0), sqlRows(t, d.conn, true, "SELECT id, * FROM t ORDER BY id"))
}

// TestOpenErrors: a missing file, an empty one, and a file that is not a
// database.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Open(dir + "/missing.db"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	os.WriteFile(dir+"/empty.db", nil, 0o644)
	if _, err := Open(dir + "/empty.db"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("empty file: %v", err)
	}
	os.WriteFile(dir+"/text.db", make([]byte, 8192), 0o644)
	if _, err := Open(dir + "/text.db"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("zeros: %v", err)
	}
}

// TestClose checks Close is idempotent and that a closed File reports
// errors rather than faulting.
func TestClose(t *testing.T) {
	t.Parallel()
	d := newDB(t, 4096, false)
	d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)")
	f, err := Open(d.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.TableLeaves(d.rootPage("t"), 0); err == nil {
		t.Fatal("TableLeaves after Close succeeded")
	}
}
