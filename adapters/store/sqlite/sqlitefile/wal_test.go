package sqlitefile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"testing"
)

// TestWAL compares rows committed only in the WAL, then checkpointed into
// the database file, then a mix: rows in the file changed, deleted and
// added (the database growing past the file) in the WAL.
func TestWAL(t *testing.T) {
	t.Parallel()
	for _, pageSize := range []int{512, 4096, 65536} {
		t.Run(fmt.Sprint("page", pageSize), func(t *testing.T) {
			t.Parallel()
			d := newDB(t, pageSize, true)
			d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB)")
			root := d.rootPage("t")
			p := prng(pageSize + 1)
			add := func(from, to int) {
				d.exec("BEGIN")
				for i := from; i < to; i++ {
					d.insert("t", i, p.text(p.intn(300)), p.bytes(p.intn(2*pageSize)))
				}
				d.exec("COMMIT")
			}
			check := func(what string, walPages bool) {
				t.Helper()
				f := openFile(t, d.path)
				if walPages != (len(f.walPages) > 0) {
					t.Fatalf("%s: %d pages from the WAL", what, len(f.walPages))
				}
				if count := queryInt(t, d.conn, "PRAGMA page_count"); int64(f.Pages()) != count {
					t.Fatalf("%s: Pages() = %d, PRAGMA page_count = %d", what, f.Pages(), count)
				}
				want := sqlRows(t, d.conn, true, "SELECT id, * FROM t ORDER BY id")
				compareRows(t, fileRows(t, f, root, math.MinInt64), want)
			}

			add(0, 500)
			for i := 0; i < 3; i++ {
				add(500+i*100, 600+i*100)
			}
			if fileSize(t, d.path) > int64(2*pageSize) {
				t.Fatalf("database file of %d bytes: rows were checkpointed", fileSize(t, d.path))
			}
			check("only in the WAL", true)

			d.exec("PRAGMA wal_checkpoint(TRUNCATE)")
			if n := fileSize(t, d.path+"-wal"); n != 0 {
				t.Fatalf("WAL of %d bytes after checkpoint", n)
			}
			check("checkpointed", false)

			d.exec("UPDATE t SET s = 'changed ' || id WHERE id % 3 = 0")
			d.exec("DELETE FROM t WHERE id BETWEEN 100 AND 250")
			add(1000, 1400)
			d.exec("UPDATE t SET b = NULL WHERE id % 11 = 0")
			check("mix", true)

			d.exec("PRAGMA wal_checkpoint(PASSIVE)") // backfilled, the WAL kept
			check("backfilled", true)
			add(2000, 2100) // the WAL restarts from its beginning
			check("restarted", true)
		})
	}
}

// walHistory is a database whose WAL holds several transactions, with the
// WAL's size and the table's rows after each.
type walHistory struct {
	path     string
	root     uint32
	pageSize int
	walSize  []int64 // after transaction i; 0 is the checkpointed state
	rows     [][]row // likewise
}

func newWALHistory(t *testing.T, pageSize int) *walHistory {
	d := newDB(t, pageSize, true)
	d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB)")
	h := &walHistory{path: d.path, root: d.rootPage("t"), pageSize: pageSize}
	p := prng(99)
	snap := func() {
		h.walSize = append(h.walSize, fileSize(t, d.path+"-wal"))
		h.rows = append(h.rows, sqlRows(t, d.conn, true, "SELECT id, * FROM t ORDER BY id"))
	}
	for i := range 200 {
		d.insert("t", i, p.text(50), nil)
	}
	d.exec("PRAGMA wal_checkpoint(TRUNCATE)")
	snap()
	for tx := 1; tx <= 5; tx++ {
		d.exec("BEGIN")
		for i := range 40 {
			d.insert("t", 1000*tx+i, p.text(p.intn(100)), p.bytes(p.intn(1500)))
		}
		d.exec(fmt.Sprintf("UPDATE t SET s = 'tx %d' WHERE id %% 7 = %d", tx, tx))
		d.exec("COMMIT")
		snap()
	}
	for i := 1; i < len(h.walSize); i++ {
		if h.walSize[i] <= h.walSize[i-1]+int64(2*(pageSize+walFrameHeaderSize)) {
			t.Fatalf("WAL sizes %v: want several frames per transaction", h.walSize)
		}
	}
	return h
}

// frameOffset returns the offset of frame k (0-based) in the WAL.
func (h *walHistory) frameOffset(k int64) int64 {
	return walHeaderSize + k*int64(walFrameHeaderSize+h.pageSize)
}

// frames returns the number of frames after transaction i.
func (h *walHistory) frames(i int) int64 {
	return (h.walSize[i] - walHeaderSize) / int64(walFrameHeaderSize+h.pageSize)
}

// damaged copies the database and WAL, lets damage change the WAL copy,
// and returns the copy's path.
func (h *walHistory) damaged(t *testing.T, damage func(wal []byte) []byte) string {
	t.Helper()
	path := copyFiles(t, h.path)
	wal, err := os.ReadFile(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(wal)) != h.walSize[len(h.walSize)-1] {
		t.Fatalf("WAL of %d bytes, want %d", len(wal), h.walSize[len(h.walSize)-1])
	}
	if err := os.WriteFile(path+"-wal", damage(wal), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// rechecksum rewrites the checksums of a WAL's header and of its frames
// up to the first whose salts differ from the header's, in the byte order
// bigEndian says.
func rechecksum(wal []byte, pageSize int, bigEndian bool) {
	be := binary.BigEndian
	m := uint32(walMagic)
	if bigEndian {
		m |= 1
	}
	be.PutUint32(wal, m)
	s0, s1 := walChecksum(bigEndian, 0, 0, wal[:24])
	be.PutUint32(wal[24:], s0)
	be.PutUint32(wal[28:], s1)
	for off := walHeaderSize; off+walFrameHeaderSize+pageSize <= len(wal); off += walFrameHeaderSize + pageSize {
		if be.Uint64(wal[off+8:]) != be.Uint64(wal[16:]) {
			break
		}
		s0, s1 = walChecksum(bigEndian, s0, s1, wal[off:off+8])
		s0, s1 = walChecksum(bigEndian, s0, s1, wal[off+walFrameHeaderSize:off+walFrameHeaderSize+pageSize])
		be.PutUint32(wal[off+16:], s0)
		be.PutUint32(wal[off+20:], s1)
	}
}

// TestWALDamaged checks that only the frames up to the last valid commit
// frame before any damage are used, against the committed state SQLite
// returned at that point.
func TestWALDamaged(t *testing.T) {
	t.Parallel()
	h := newWALHistory(t, 1024)
	last := len(h.rows) - 1
	frameSize := int64(walFrameHeaderSize + h.pageSize)
	// A frame in the middle of transaction 3.
	mid := (h.frames(2) + h.frames(3)) / 2
	cases := []struct {
		name   string
		damage func(wal []byte) []byte
		want   int // transaction whose rows to expect, or -1 for an error
		err    error
	}{
		{"intact", func(w []byte) []byte { return w }, last, nil},
		{"garbage appended", func(w []byte) []byte {
			p := prng(5)
			return append(w, p.bytes(3*int(frameSize)+77)...)
		}, last, nil},
		{"stale frame appended", func(w []byte) []byte {
			// A copy of the first frame: right salts, wrong checksum chain.
			return append(w, w[walHeaderSize:walHeaderSize+frameSize]...)
		}, last, nil},
		{"torn last frame", func(w []byte) []byte { return w[:len(w)-100] }, last - 1, nil},
		{"last frame's header only", func(w []byte) []byte {
			return w[:h.frameOffset(h.frames(last)-1)+walFrameHeaderSize]
		}, last - 1, nil},
		{"cut after a commit", func(w []byte) []byte { return w[:h.walSize[2]] }, 2, nil},
		{"page byte flipped in a middle frame", func(w []byte) []byte {
			w[h.frameOffset(mid)+walFrameHeaderSize+123] ^= 0x40
			return w
		}, 2, nil},
		{"checksum of a middle frame", func(w []byte) []byte {
			w[h.frameOffset(mid)+20] ^= 1
			return w
		}, 2, nil},
		{"first frame of a transaction", func(w []byte) []byte {
			w[h.frameOffset(h.frames(3))+walFrameHeaderSize] ^= 1
			return w
		}, 3, nil},
		{"commit frame", func(w []byte) []byte {
			w[h.frameOffset(h.frames(4)-1)+walFrameHeaderSize+7] ^= 1
			return w
		}, 3, nil},
		{"salt of a middle frame", func(w []byte) []byte {
			w[h.frameOffset(mid)+8] ^= 1
			return w
		}, 2, nil},
		{"page number 0", func(w []byte) []byte {
			binary.BigEndian.PutUint32(w[h.frameOffset(mid):], 0)
			rechecksum(w, h.pageSize, false)
			return w
		}, 2, nil},
		{"header salts differ from the frames'", func(w []byte) []byte {
			w[16] ^= 1
			rechecksum(w, h.pageSize, false)
			return w
		}, 0, nil},
		{"header checksum", func(w []byte) []byte {
			w[25] ^= 1
			return w
		}, 0, nil},
		{"bad magic", func(w []byte) []byte {
			w[0] = 0
			return w
		}, 0, nil},
		{"new salts everywhere", func(w []byte) []byte {
			for off := walHeaderSize; off < len(w); off += int(frameSize) {
				w[off+11] ^= 0x55
			}
			w[19] ^= 0x55
			rechecksum(w, h.pageSize, false)
			return w
		}, last, nil},
		{"big-endian checksums", func(w []byte) []byte {
			rechecksum(w, h.pageSize, true)
			return w
		}, last, nil},
		{"big-endian checksums, damaged", func(w []byte) []byte {
			rechecksum(w, h.pageSize, true)
			w[h.frameOffset(mid)+walFrameHeaderSize+5] ^= 1
			return w
		}, 2, nil},
		{"empty", func(w []byte) []byte { return nil }, 0, nil},
		{"header only", func(w []byte) []byte { return w[:walHeaderSize] }, 0, nil},
		{"shorter than a header", func(w []byte) []byte { return w[:20] }, 0, nil},
		{"unknown version", func(w []byte) []byte {
			binary.BigEndian.PutUint32(w[4:], walVersion+1)
			rechecksum(w, h.pageSize, false)
			return w
		}, -1, ErrUnsupported},
		{"page size differs from the database's", func(w []byte) []byte {
			binary.BigEndian.PutUint32(w[8:], 2048)
			rechecksum(w, 2048, false)
			return w
		}, -1, ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := h.damaged(t, c.damage)
			f, err := Open(path)
			if c.want < 0 {
				if !errors.Is(err, c.err) {
					t.Fatalf("Open: %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			compareRows(t, fileRows(t, f, h.root, math.MinInt64), h.rows[c.want])
		})
	}
}

// TestWALChanged checks that readWAL notices a WAL restarted while it was
// being read, by simulating it: the header differs on the second look.
func TestWALChanged(t *testing.T) {
	t.Parallel()
	h := newWALHistory(t, 512)
	path := copyFiles(t, h.path)
	wal, err := os.ReadFile(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readWAL(path + "-wal")
	if err != nil || string(got) != string(wal) {
		t.Fatalf("readWAL: %d bytes, %v", len(got), err)
	}
	if got, err := readWAL(path + "-missing"); got != nil || err != nil {
		t.Fatalf("missing WAL: %v, %v", got, err)
	}
	// readWAL compares the header it copied with a second read; check
	// that comparison through a file whose header changes between them.
	fh, err := os.CreateTemp(t.TempDir(), "wal")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	fh.Write(wal)
	copied := append([]byte(nil), wal...)
	fh.WriteAt([]byte{1, 2, 3, 4}, 16) // a restart writes new salts
	if walHeaderChanged(fh, copied) != true {
		t.Fatal("changed header not noticed")
	}
	fh.WriteAt(wal[16:20], 16)
	if walHeaderChanged(fh, copied) != false {
		t.Fatal("unchanged header reported as changed")
	}
	fh.Truncate(0) // a TRUNCATE checkpoint
	if walHeaderChanged(fh, copied) != true {
		t.Fatal("truncated WAL not noticed")
	}
}
