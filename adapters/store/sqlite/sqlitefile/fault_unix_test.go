//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sqlitefile

import (
	"errors"
	"math"
	"os"
	"testing"
)

// TestFileShrunk truncates the database file under its mapping, which the
// caller's read transaction should prevent, and checks that reading the
// lost pages is an error rather than a crash (SIGBUS).
func TestFileShrunk(t *testing.T) {
	t.Parallel()
	d := newDB(t, 4096, false)
	d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)")
	d.exec(series(400) + "INSERT INTO t SELECT value, randomblob(300) FROM s")
	f := openFile(t, d.path)
	root := d.rootPage("t")
	leaves, err := f.TableLeaves(root, math.MinInt64)
	if err != nil || len(leaves) < 10 {
		t.Fatal(leaves, err)
	}
	if err := os.Truncate(d.path, 4096); err != nil {
		t.Fatal(err)
	}
	n := 0
	_, err = f.ScanLeaf(leaves[len(leaves)-1], nil, func(int64, []byte) bool { n++; return true })
	if !errors.Is(err, ErrCorrupt) || n != 0 {
		t.Fatalf("ScanLeaf of a page cut off: %d rows, %v", n, err)
	}
	t.Log(err)
	if _, err := f.TableLeaves(root, math.MinInt64); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("TableLeaves: %v", err)
	}
	// Other panics in fn, a nil dereference among them, go through.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("a nil dereference in fn was swallowed")
			}
		}()
		var p *int
		f.ScanLeaf(1, nil, func(int64, []byte) bool { return *p == 0 })
	}()
}
