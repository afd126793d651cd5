package sqlitefile

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// testDB is an SQLite database built for a test through zombiezen.
type testDB struct {
	t    testing.TB
	path string
	conn *sqlite.Conn
}

// newDB creates a database with the given page size in a temporary
// directory, in WAL mode (with automatic checkpoints off) or in rollback
// (DELETE) mode. The connection stays open until the test ends, so the WAL
// is neither checkpointed nor removed behind the test's back.
func newDB(t testing.TB, pageSize int, wal bool) *testDB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	d := &testDB{t: t, path: path, conn: openConn(t, path)}
	d.exec(fmt.Sprintf("PRAGMA page_size=%d", pageSize))
	if wal {
		d.exec("PRAGMA journal_mode=WAL")
		d.exec("PRAGMA wal_autocheckpoint=0")
	} else {
		d.exec("PRAGMA journal_mode=DELETE")
	}
	return d
}

// openConn opens a connection without zombiezen's automatic WAL mode (so
// the page size can still be set) that blocks while the database is busy.
func openConn(t testing.TB, path string) *sqlite.Conn {
	t.Helper()
	conn, err := sqlite.OpenConn(path, sqlite.OpenReadWrite|sqlite.OpenCreate)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func (d *testDB) exec(query string, args ...any) {
	d.t.Helper()
	if err := execConn(d.conn, query, args...); err != nil {
		d.t.Fatalf("%s: %v", query, err)
	}
}

func execConn(conn *sqlite.Conn, query string, args ...any) error {
	return sqlitex.ExecuteTransient(conn, query, &sqlitex.ExecOptions{Args: args})
}

// insert inserts one row of values into table, binding each value by its
// Go type (nil, int64, int, float64, string, []byte).
func (d *testDB) insert(table string, vals ...any) {
	d.t.Helper()
	q := "INSERT INTO " + table + " VALUES (?" + repeat(", ?", len(vals)-1) + ")"
	st := d.conn.Prep(q)
	defer st.Reset()
	for i, v := range vals {
		bind(st, i+1, v)
	}
	if _, err := st.Step(); err != nil {
		d.t.Fatalf("%s %v: %v", q, vals, err)
	}
}

func bind(st *sqlite.Stmt, i int, v any) {
	switch v := v.(type) {
	case nil:
		st.BindNull(i)
	case int:
		st.BindInt64(i, int64(v))
	case int64:
		st.BindInt64(i, v)
	case float64:
		st.BindFloat(i, v)
	case string:
		st.BindText(i, v)
	case []byte:
		st.BindBytes(i, v)
	default:
		panic(fmt.Sprintf("bind %T", v))
	}
}

func repeat(s string, n int) string {
	var b bytes.Buffer
	for range n {
		b.WriteString(s)
	}
	return b.String()
}

// rootPage returns the root page of table from sqlite_schema.
func (d *testDB) rootPage(table string) uint32 {
	d.t.Helper()
	return rootPageConn(d.t, d.conn, table)
}

func rootPageConn(t testing.TB, conn *sqlite.Conn, table string) uint32 {
	t.Helper()
	var root int64 = -1
	err := sqlitex.ExecuteTransient(conn, "SELECT rootpage FROM sqlite_schema WHERE name = ?", &sqlitex.ExecOptions{
		Args:       []any{table},
		ResultFunc: func(st *sqlite.Stmt) error { root = st.ColumnInt64(0); return nil },
	})
	if err != nil || root < 0 {
		t.Fatalf("root page of %s: %d, %v", table, root, err)
	}
	return uint32(root)
}

// row is a table row: its rowid and its columns, the INTEGER PRIMARY KEY
// column (stored as NULL) included.
type row struct {
	rowid int64
	vals  []Value
}

func (r row) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "rowid %d:", r.rowid)
	for _, v := range r.vals {
		b.WriteString(" ")
		b.WriteString(showValue(v))
	}
	return b.String()
}

func showValue(v Value) string {
	switch v.Kind {
	case Null:
		return "NULL"
	case Int:
		return fmt.Sprint(v.Int)
	case Float:
		return fmt.Sprint(v.Float)
	case Text:
		if len(v.Bytes) > 40 {
			return fmt.Sprintf("%q...(%d bytes)", v.Bytes[:40], len(v.Bytes))
		}
		return fmt.Sprintf("%q", v.Bytes)
	default:
		if len(v.Bytes) > 20 {
			return fmt.Sprintf("x'%x'...(%d bytes)", v.Bytes[:20], len(v.Bytes))
		}
		return fmt.Sprintf("x'%x'", v.Bytes)
	}
}

// sqlRows runs query, whose first column is the rowid, and returns each
// row with every column as a Value. The rowid column is returned as the
// NULL that the record stores for an INTEGER PRIMARY KEY when ipk is set:
// then the second column is the INTEGER PRIMARY KEY.
func sqlRows(t testing.TB, conn *sqlite.Conn, ipk bool, query string, args ...any) []row {
	t.Helper()
	var rows []row
	err := sqlitex.ExecuteTransient(conn, query, &sqlitex.ExecOptions{
		Args: args,
		ResultFunc: func(st *sqlite.Stmt) error {
			r := row{rowid: st.ColumnInt64(0)}
			for i := 1; i < st.ColumnCount(); i++ {
				var v Value
				switch st.ColumnType(i) {
				case sqlite.TypeNull:
				case sqlite.TypeInteger:
					v = Value{Kind: Int, Int: st.ColumnInt64(i)}
				case sqlite.TypeFloat:
					v = Value{Kind: Float, Float: st.ColumnFloat(i)}
				case sqlite.TypeText:
					v = Value{Kind: Text, Bytes: []byte(st.ColumnText(i))}
				case sqlite.TypeBlob:
					b := make([]byte, st.ColumnLen(i))
					st.ColumnBytes(i, b)
					v = Value{Kind: Blob, Bytes: b}
				}
				if ipk && i == 1 {
					v = Value{}
				}
				r.vals = append(r.vals, v)
			}
			rows = append(rows, r)
			return nil
		},
	})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return rows
}

// fileRows reads every row of the table rooted at root with rowid >= from
// through a File, copying the values.
func fileRows(t testing.TB, f *File, root uint32, from int64) []row {
	t.Helper()
	rows, err := tryFileRows(f, root, from)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func tryFileRows(f *File, root uint32, from int64) ([]row, error) {
	leaves, err := f.TableLeaves(root, from)
	if err != nil {
		return nil, err
	}
	var rows []row
	var scratch []byte
	var vals []Value
	for i, leaf := range leaves {
		var derr error
		// Every other leaf through ScanLeafHeads: both must read the same.
		scan := f.ScanLeaf
		if i%2 == 1 {
			scan = f.ScanLeafHeads
		}
		scratch, err = scan(leaf, scratch, func(rowid int64, payload []byte) bool {
			if rowid < from {
				return true
			}
			if n := len(rows); n > 0 && rows[n-1].rowid >= rowid {
				derr = fmt.Errorf("rowid %d after %d", rowid, rows[n-1].rowid)
				return false
			}
			vals, derr = DecodeRecord(payload, vals)
			if derr != nil {
				return false
			}
			r := row{rowid: rowid, vals: make([]Value, len(vals))}
			for i, v := range vals {
				if v.Bytes != nil {
					v.Bytes = bytes.Clone(v.Bytes)
				}
				r.vals[i] = v
			}
			rows = append(rows, r)
			return true
		})
		if err == nil {
			err = derr
		}
		if err != nil {
			return nil, fmt.Errorf("leaf %d: %w", leaf, err)
		}
	}
	return rows, nil
}

// openFile opens path and closes the File when the test ends.
func openFile(t testing.TB, path string) *File {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// compareRows fails the test at the first difference between got and want.
func compareRows(t testing.TB, got, want []row) {
	t.Helper()
	for i := 0; i < len(got) && i < len(want); i++ {
		if !sameRow(got[i], want[i]) {
			t.Fatalf("row %d:\n got %v\nwant %v", i, got[i], want[i])
		}
	}
	if len(got) != len(want) {
		var extra row
		if len(got) > len(want) {
			extra = got[len(want)]
		} else {
			extra = want[len(got)]
		}
		t.Fatalf("got %d rows, want %d; first unmatched: %v", len(got), len(want), extra)
	}
}

func sameRow(a, b row) bool {
	if a.rowid != b.rowid || len(a.vals) != len(b.vals) {
		return false
	}
	for i := range a.vals {
		if !sameValue(a.vals[i], b.vals[i]) {
			return false
		}
	}
	return true
}

func sameValue(a, b Value) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case Int:
		return a.Int == b.Int
	case Float:
		return math.Float64bits(a.Float) == math.Float64bits(b.Float)
	case Text, Blob:
		return bytes.Equal(a.Bytes, b.Bytes)
	}
	return true
}

// copyFiles copies the database at path and its WAL (if any) to a new
// directory and returns the copy's path.
func copyFiles(t testing.TB, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy.db")
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(path + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+suffix, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// pseudo-random bytes, the same on every run.
type prng uint64

func (p *prng) next() uint64 {
	*p ^= *p << 13
	*p ^= *p >> 7
	*p ^= *p << 17
	return uint64(*p)
}

func (p *prng) intn(n int) int { return int(p.next() % uint64(n)) }

func (p *prng) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(p.next())
	}
	return b
}

// text returns n bytes of printable, partly multi-byte UTF-8 text.
func (p *prng) text(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 {}\":,é€"
	var b bytes.Buffer
	for b.Len() < n {
		r := []rune(alphabet)
		b.WriteRune(r[p.intn(len(r))])
	}
	return string(bytes.ToValidUTF8(b.Bytes()[:n], nil))
}

// queryInt returns the first column of the first row of query.
func queryInt(t testing.TB, conn *sqlite.Conn, query string, args ...any) int64 {
	t.Helper()
	var n int64
	err := sqlitex.ExecuteTransient(conn, query, &sqlitex.ExecOptions{
		Args:       args,
		ResultFunc: func(st *sqlite.Stmt) error { n = st.ColumnInt64(0); return nil },
	})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// series returns a WITH clause defining s(value) as 1..n.
func series(n int) string {
	return fmt.Sprintf("WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM s WHERE value < %d) ", n)
}
