package sqlitefile

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"testing"
)

// corruptBase is a small valid database to damage: a two-level table with
// some payloads on overflow chains, and an index.
type corruptBase struct {
	img      []byte
	root     uint32
	index    uint32
	leaf     uint32 // a leaf without overflow cells
	ovLeaf   uint32 // a leaf with an overflow cell...
	ovPtr    int    // ...whose first overflow page number is here on ovLeaf
	ovFirst  uint32 // that first overflow page
	ovLast   uint32 // and the last page of that chain
	recCell  int    // offset in leaf of the payload of its first cell
	pageSize int
}

func newCorruptBase(t *testing.T) *corruptBase {
	d := newDB(t, 512, false)
	d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB)")
	d.exec("CREATE INDEX ts ON t (s)")
	d.exec("BEGIN")
	p := prng(3)
	for i := range 300 {
		var b []byte
		if i%50 == 25 {
			b = p.bytes(3000)
		}
		d.insert("t", i, p.text(40), b)
	}
	d.exec("COMMIT")
	img, err := os.ReadFile(d.path)
	if err != nil {
		t.Fatal(err)
	}
	c := &corruptBase{img: img, root: d.rootPage("t"), index: d.rootPage("ts"), pageSize: 512}
	f, err := newFile(img, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rows := fileRows(t, f, c.root, math.MinInt64); len(rows) != 300 {
		t.Fatalf("%d rows", len(rows))
	}
	leaves, err := f.TableLeaves(c.root, math.MinInt64)
	if err != nil {
		t.Fatal(err)
	}
	for _, leaf := range leaves {
		b, err := f.btreePage(leaf, false, true)
		if err != nil {
			t.Fatal(err)
		}
		for i := range b.ncells {
			off, _ := b.cell(leaf, i)
			size, n1 := uvarint(b.data[off:])
			_, n2 := uvarint(b.data[off+n1:])
			if size <= uint64(f.maxLocal) {
				if c.leaf == 0 && i == 0 {
					c.leaf, c.recCell = leaf, off+n1+n2
				}
				continue
			}
			if c.ovLeaf == 0 {
				local := f.minLocal + int((size-uint64(f.minLocal))%uint64(f.usable-4))
				if local > f.maxLocal {
					local = f.minLocal
				}
				c.ovLeaf, c.ovPtr = leaf, off+n1+n2+local
				c.ovFirst = binary.BigEndian.Uint32(b.data[c.ovPtr:])
				for next := c.ovFirst; next != 0; {
					c.ovLast = next
					next = binary.BigEndian.Uint32(img[int(next-1)*512:])
				}
			}
		}
	}
	if c.leaf == 0 || c.ovLeaf == 0 || c.leaf == c.ovLeaf {
		t.Fatalf("no plain leaf or overflow leaf: %+v", c)
	}
	return c
}

// at returns the offset in the image of byte off of page n.
func (c *corruptBase) at(n uint32, off int) int { return int(n-1)*c.pageSize + off }

func put16(b []byte, off int, v uint16) { binary.BigEndian.PutUint16(b[off:], v) }
func put32(b []byte, off int, v uint32) { binary.BigEndian.PutUint32(b[off:], v) }

// TestCorrupt damages a valid database in one place at a time and checks
// that reading the table reports ErrCorrupt (or ErrUnsupported) rather
// than returning rows or panicking.
func TestCorrupt(t *testing.T) {
	t.Parallel()
	c := newCorruptBase(t)
	npages := uint32(len(c.img) / c.pageSize)
	cell0 := func(img []byte, n uint32) int { // offset of cell 0 of interior or leaf page n
		hl := 8
		if img[c.at(n, 0)] == pageInteriorTable {
			hl = 12
		}
		return c.at(n, int(binary.BigEndian.Uint16(img[c.at(n, hl):])))
	}
	swapCells := func(img []byte, n uint32) {
		hl := 8
		if img[c.at(n, 0)] == pageInteriorTable {
			hl = 12
		}
		p := c.at(n, hl)
		img[p], img[p+1], img[p+2], img[p+3] = img[p+2], img[p+3], img[p], img[p+1]
	}
	cases := []struct {
		name   string
		damage func(img []byte)
		root   uint32 // 0: the table's
		want   error
	}{
		{"index b-tree as table", func([]byte) {}, c.index, ErrCorrupt},
		{"root is an index page", func(img []byte) { img[c.at(c.root, 0)] = 0x02 }, 0, ErrCorrupt},
		{"leaf is an index leaf", func(img []byte) { img[c.at(c.leaf, 0)] = 0x0a }, 0, ErrCorrupt},
		{"leaf is a free page", func(img []byte) { img[c.at(c.leaf, 0)] = 0 }, 0, ErrCorrupt},
		{"right child is the root", func(img []byte) { put32(img, c.at(c.root, 8), c.root) }, 0, ErrCorrupt},
		{"child is the root", func(img []byte) { put32(img, cell0(img, c.root), c.root) }, 0, ErrCorrupt},
		{"two children the same", func(img []byte) {
			p := c.at(c.root, 12)
			second := c.at(c.root, int(binary.BigEndian.Uint16(img[p+2:])))
			copy(img[second:second+4], img[cell0(img, c.root):])
		}, 0, ErrCorrupt},
		{"child past the end", func(img []byte) { put32(img, cell0(img, c.root), npages+1) }, 0, ErrCorrupt},
		{"child 0", func(img []byte) { put32(img, c.at(c.root, 8), 0) }, 0, ErrCorrupt},
		{"child is an overflow page", func(img []byte) { put32(img, cell0(img, c.root), c.ovFirst) }, 0, ErrCorrupt},
		{"interior keys out of order", func(img []byte) { swapCells(img, c.root) }, 0, ErrCorrupt},
		{"interior cell count", func(img []byte) { put16(img, c.at(c.root, 3), 1000) }, 0, ErrCorrupt},
		{"interior cell pointer past the page", func(img []byte) { put16(img, c.at(c.root, 12), 600) }, 0, ErrCorrupt},
		{"interior cell pointer into the header", func(img []byte) { put16(img, c.at(c.root, 12), 3) }, 0, ErrCorrupt},
		{"interior cell at the page's end", func(img []byte) { put16(img, c.at(c.root, 12), 510) }, 0, ErrCorrupt},
		{"leaf rowids out of order", func(img []byte) { swapCells(img, c.leaf) }, 0, ErrCorrupt},
		{"leaf cell count", func(img []byte) { put16(img, c.at(c.leaf, 3), 300) }, 0, ErrCorrupt},
		{"leaf cell pointer past the page", func(img []byte) { put16(img, c.at(c.leaf, 8), 512) }, 0, ErrCorrupt},
		{"leaf cell pointer before the content area", func(img []byte) {
			put16(img, c.at(c.leaf, 8), binary.BigEndian.Uint16(img[c.at(c.leaf, 5):])-1)
		}, 0, ErrCorrupt},
		{"cell content area in the pointer array", func(img []byte) { put16(img, c.at(c.leaf, 5), 9) }, 0, ErrCorrupt},
		{"payload overruns the page", func(img []byte) {
			// The cell that ends the page claims 127 bytes more.
			hi := 0
			n := int(binary.BigEndian.Uint16(img[c.at(c.leaf, 3):]))
			for i := range n {
				hi = max(hi, int(binary.BigEndian.Uint16(img[c.at(c.leaf, 8+2*i):])))
			}
			img[c.at(c.leaf, hi)] = 127
		}, 0, ErrCorrupt},
		{"overflow chain missing", func(img []byte) { put32(img, c.at(c.ovLeaf, c.ovPtr), 0) }, 0, ErrCorrupt},
		{"overflow page past the end", func(img []byte) { put32(img, c.at(c.ovLeaf, c.ovPtr), npages+9) }, 0, ErrCorrupt},
		{"overflow chain loops", func(img []byte) { put32(img, c.at(c.ovFirst, 0), c.ovFirst) }, 0, ErrCorrupt},
		{"overflow chain too long", func(img []byte) { put32(img, c.at(c.ovLast, 0), c.ovFirst) }, 0, ErrCorrupt},
		{"overflow chain too short", func(img []byte) { put32(img, c.at(c.ovFirst, 0), 0) }, 0, ErrCorrupt},
		{"record header overruns", func(img []byte) { img[c.at(c.leaf, c.recCell)] = 0x7f }, 0, ErrCorrupt},
		{"record header size 0", func(img []byte) { img[c.at(c.leaf, c.recCell)] = 0 }, 0, ErrCorrupt},
		{"reserved serial type", func(img []byte) { img[c.at(c.leaf, c.recCell+1)] = 10 }, 0, ErrCorrupt},
		{"record body too short", func(img []byte) { img[c.at(c.leaf, c.recCell+2)] = 0x7f }, 0, ErrCorrupt},
		{"bad magic", func(img []byte) { img[0] = 's' }, 0, ErrCorrupt},
		{"page size not a power of two", func(img []byte) { put16(img, 16, 1000) }, 0, ErrCorrupt},
		{"page size 256", func(img []byte) { put16(img, 16, 256) }, 0, ErrCorrupt},
		{"UTF-16le", func(img []byte) { put32(img, 56, 2) }, 0, ErrUnsupported},
		{"UTF-16be", func(img []byte) { put32(img, 56, 3) }, 0, ErrUnsupported},
		{"read version 3", func(img []byte) { img[19] = 3 }, 0, ErrUnsupported},
		{"payload fractions", func(img []byte) { img[21] = 60 }, 0, ErrCorrupt},
		{"too many reserved bytes", func(img []byte) { img[20] = 40 }, 0, ErrCorrupt},
		{"header size past the file", func(img []byte) { put32(img, 28, npages+1) }, 0, ErrCorrupt},
		{"header size excludes the table", func(img []byte) { put32(img, 28, c.root-1) }, 0, ErrCorrupt},
		{"header size 0 and no pages", func(img []byte) {
			put32(img, 28, 0)
			clear(img[c.at(npages/2, 0):])
		}, 0, ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img := append([]byte(nil), c.img...)
			tc.damage(img)
			root := tc.root
			if root == 0 {
				root = c.root
			}
			f, err := newFile(img, nil)
			if err == nil {
				_, err = tryFileRows(f, root, math.MinInt64)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
}

// synthetic returns an image of n pages of 512 bytes: page 1 from a real
// database (an empty schema) and the rest zero, for b-trees built by hand.
func synthetic(t *testing.T, n int) []byte {
	d := newDB(t, 512, false)
	d.exec("PRAGMA user_version = 1") // writes the header
	base, err := os.ReadFile(d.path)
	if err != nil || len(base) != 512 {
		t.Fatalf("%d bytes, %v", len(base), err)
	}
	img := make([]byte, n*512)
	copy(img, base)
	put32(img, 28, uint32(n))
	copy(img[92:96], img[24:28])
	return img
}

// interiorPage writes an interior table page n with the given children
// and keys (one key per child but the right-most).
func interiorPage(img []byte, n uint32, right uint32, children []uint32, keys []int64) {
	p := img[(n-1)*512 : n*512]
	p[0] = pageInteriorTable
	put16(p, 3, uint16(len(children)))
	put32(p, 8, right)
	end := 512
	for i, child := range children {
		end -= 4 + 9
		put32(p, end, child)
		putVarint(p[end+4:], uint64(keys[i]))
		put16(p, 12+2*i, uint16(end))
	}
	put16(p, 5, uint16(end))
}

func leafPage(img []byte, n uint32) {
	p := img[(n-1)*512 : n*512]
	p[0] = pageLeafTable
	put16(p, 5, 512)
}

// putVarint writes v as a 9-byte SQLite varint.
func putVarint(b []byte, v uint64) {
	b[8] = byte(v)
	v >>= 8
	for i := 7; i >= 0; i-- {
		b[i] = byte(v&0x7f) | 0x80
		v >>= 7
	}
}

// TestTreeShape checks the structure TableLeaves enforces on trees built
// by hand: depth, leaves at one depth, keys within their parent's range.
func TestTreeShape(t *testing.T) {
	t.Parallel()
	t.Run("deep chain", func(t *testing.T) {
		for _, depth := range []int{maxDepth, maxDepth + 1} {
			img := synthetic(t, depth+2)
			for n := uint32(2); n < uint32(depth+1); n++ {
				interiorPage(img, n, n+1, nil, nil)
			}
			leafPage(img, uint32(depth+1))
			f, err := newFile(img, nil)
			if err != nil {
				t.Fatal(err)
			}
			leaves, err := f.TableLeaves(2, math.MinInt64)
			if depth <= maxDepth && (err != nil || len(leaves) != 1) {
				t.Fatalf("depth %d: %v, %v", depth, leaves, err)
			}
			if depth > maxDepth && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("depth %d: %v, want ErrCorrupt", depth, err)
			}
		}
	})
	t.Run("leaves at two depths", func(t *testing.T) {
		// A leaf, then an interior page where leaves are: TableLeaves takes
		// it for a leaf without reading it, ScanLeaf finds it is not.
		img := synthetic(t, 6)
		interiorPage(img, 2, 4, []uint32{3}, []int64{10})
		leafPage(img, 3)
		interiorPage(img, 4, 5, nil, nil)
		leafPage(img, 5)
		f, _ := newFile(img, nil)
		if _, err := tryFileRows(f, 2, math.MinInt64); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%v, want ErrCorrupt", err)
		}
		// A deeper leaf first, then a leaf where interior pages are.
		img = synthetic(t, 6)
		interiorPage(img, 2, 3, []uint32{4}, []int64{10})
		leafPage(img, 3)
		interiorPage(img, 4, 5, nil, nil)
		leafPage(img, 5)
		f, _ = newFile(img, nil)
		if _, err := f.TableLeaves(2, math.MinInt64); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%v, want ErrCorrupt", err)
		}
	})
	t.Run("key outside the parent's range", func(t *testing.T) {
		for _, key := range []int64{5, 10, 20, 21} {
			img := synthetic(t, 9)
			interiorPage(img, 2, 4, []uint32{3}, []int64{10})
			interiorPage(img, 3, 5, []uint32{6}, []int64{0})
			interiorPage(img, 4, 7, []uint32{8}, []int64{key})
			for _, n := range []uint32{5, 6, 7, 8} {
				leafPage(img, n)
			}
			f, _ := newFile(img, nil)
			leaves, err := f.TableLeaves(2, math.MinInt64)
			// Keys right of 10 must be greater than 10.
			if key > 10 && (err != nil || len(leaves) != 4) {
				t.Fatalf("key %d: %v, %v", key, leaves, err)
			}
			if key <= 10 && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("key %d: %v, want ErrCorrupt", key, err)
			}
		}
	})
	t.Run("skipping by key", func(t *testing.T) {
		img := synthetic(t, 9)
		interiorPage(img, 2, 4, []uint32{3}, []int64{10})
		interiorPage(img, 3, 5, []uint32{6}, []int64{0})
		interiorPage(img, 4, 7, []uint32{8}, []int64{20})
		for _, n := range []uint32{5, 6, 7, 8} {
			leafPage(img, n)
		}
		f, _ := newFile(img, nil)
		for from, want := range map[int64][]uint32{
			math.MinInt64: {6, 5, 8, 7}, 0: {6, 5, 8, 7}, 1: {5, 8, 7}, 10: {5, 8, 7},
			11: {8, 7}, 20: {8, 7}, 21: {7}, math.MaxInt64: {7},
		} {
			got, err := f.TableLeaves(2, from)
			if err != nil || !equal(got, want) {
				t.Errorf("from %d: %v, %v; want %v", from, got, err, want)
			}
		}
	})
}

func equal(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
