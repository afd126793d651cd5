package sqlitefile

import (
	"encoding/binary"
	"math"
	"os"
	"testing"
)

// fuzzSeeds returns small valid database images (page size 512): a table
// with a two-level b-tree, overflow chains and an index, and a WAL-mode
// database with its WAL.
func fuzzSeeds(f *testing.F) (images [][]byte, walDB, wal []byte) {
	d := newDB(f, 512, false)
	d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB, r REAL)")
	d.exec("CREATE INDEX ts ON t (s)")
	p := prng(11)
	for i := range 24 {
		var b []byte
		if i%8 == 3 {
			b = p.bytes(700 + i*10)
		}
		d.insert("t", int64(i*i)-100, p.text(5+i), b, float64(i)/3)
	}
	img, err := os.ReadFile(d.path)
	if err != nil {
		f.Fatal(err)
	}
	images = append(images, img)

	d = newDB(f, 512, false)
	d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v)")
	d.exec("INSERT INTO t VALUES (-9223372036854775808, NULL), (0, 1), (1, 1.5), (9223372036854775807, x'00ff')")
	if img, err = os.ReadFile(d.path); err != nil {
		f.Fatal(err)
	}
	images = append(images, img)

	d = newDB(f, 512, true)
	d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)")
	d.exec("PRAGMA wal_checkpoint(TRUNCATE)")
	for i := range 3 {
		d.exec("INSERT INTO t VALUES (?, ?)", i, p.text(300))
	}
	if walDB, err = os.ReadFile(d.path); err != nil {
		f.Fatal(err)
	}
	if wal, err = os.ReadFile(d.path + "-wal"); err != nil {
		f.Fatal(err)
	}
	return images, walDB, wal
}

// scanAll reads every page of f as the root of a table b-tree and as a
// leaf, decoding every record, ignoring errors: it must not panic.
func scanAll(f *File) {
	vals := make([]Value, 0, 8)
	var scratch []byte
	fn := func(rowid int64, payload []byte) bool {
		vals, _ = DecodeRecord(payload, vals)
		return true
	}
	for root := uint32(1); root <= min(f.Pages(), 40); root++ {
		for _, from := range []int64{math.MinInt64, 10} {
			leaves, err := f.TableLeaves(root, from)
			if err != nil {
				continue
			}
			for _, leaf := range leaves {
				scratch, _ = f.ScanLeaf(leaf, scratch, fn)
				scratch, _ = f.ScanLeafHeads(leaf, scratch, fn)
			}
		}
		scratch, _ = f.ScanLeaf(root, scratch, fn)
		scratch, _ = f.ScanLeafHeads(root, scratch, fn)
	}
}

// FuzzScan mutates small database files: reading them must never panic.
func FuzzScan(f *testing.F) {
	images, walDB, _ := fuzzSeeds(f)
	for _, img := range append(images, walDB) {
		f.Add(img)
	}
	f.Fuzz(func(t *testing.T, img []byte) {
		file, err := newFile(img, nil)
		if err != nil {
			return
		}
		scanAll(file)
	})
}

// FuzzWAL mutates the WAL of a small database. With fix set, the checksums
// are recomputed first, so that mutated frames are used.
func FuzzWAL(f *testing.F) {
	_, db, wal := fuzzSeeds(f)
	f.Add(wal, false)
	f.Add(wal, true)
	f.Add(wal[:len(wal)-100], false)
	f.Fuzz(func(t *testing.T, wal []byte, fix bool) {
		if fix && len(wal) >= walHeaderSize {
			wal = append([]byte(nil), wal...)
			ps := int(binary.BigEndian.Uint32(wal[8:]))
			if ps >= 512 && ps <= maxPageSize && ps&(ps-1) == 0 {
				rechecksum(wal, ps, wal[3]&1 == 1)
			}
		}
		file, err := newFile(db, wal)
		if err != nil {
			return
		}
		scanAll(file)
	})
}

// FuzzDecodeRecord decodes arbitrary bytes as a record: it must not panic,
// and what it returns must lie in the payload.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(record([]uint64{0, 1, 6, 7, 8, 9, 19, 18}, make([]byte, 1+8+8+3+3)))
	f.Add([]byte{2, 0x81})
	f.Add([]byte{0x81, 0x00, 13})
	f.Fuzz(func(t *testing.T, rec []byte) {
		vals, err := DecodeRecord(rec, nil)
		if err != nil {
			return
		}
		total := 0
		for _, v := range vals {
			total += len(v.Bytes)
			if v.Kind > Blob {
				t.Fatalf("kind %d", v.Kind)
			}
		}
		if total > len(rec) {
			t.Fatalf("%d bytes of values in a record of %d", total, len(rec))
		}
	})
}
