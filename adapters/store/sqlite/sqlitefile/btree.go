package sqlitefile

import (
	"encoding/binary"
	"fmt"
	"runtime/debug"
)

const (
	pageInteriorTable = 0x05
	pageLeafTable     = 0x0d
	// maxDepth bounds the height of a b-tree. SQLite itself never builds
	// one deeper than 20.
	maxDepth = 40
)

// btreePage is the parsed header of a table b-tree page.
type btreePage struct {
	data    []byte // the page cut to its usable size
	typ     byte
	ncells  int
	ptrs    int    // offset of the cell pointer array
	content int    // start of the cell content area
	right   uint32 // right-most child (interior pages only)
}

// btreePage reads page n and checks its b-tree page header: the type is
// one of want, the cell pointer array and the cell content area lie in the
// usable part of the page, in that order.
func (f *File) btreePage(n uint32, wantInterior, wantLeaf bool) (btreePage, error) {
	p, err := f.page(n)
	if err != nil {
		return btreePage{}, err
	}
	p = p[:f.usable]
	off := 0
	if n == 1 {
		off = dbHeaderSize
	}
	b := btreePage{data: p, typ: p[off]}
	hlen := 8
	switch {
	case b.typ == pageLeafTable && wantLeaf:
	case b.typ == pageInteriorTable && wantInterior:
		hlen = 12
		b.right = binary.BigEndian.Uint32(p[off+8:])
	default:
		return btreePage{}, fmt.Errorf("%w: page %d: page type 0x%02x is not a table b-tree %s", ErrCorrupt, n, b.typ, pageKinds(wantInterior, wantLeaf))
	}
	b.ncells = int(binary.BigEndian.Uint16(p[off+3:]))
	b.content = int(binary.BigEndian.Uint16(p[off+5:]))
	if b.content == 0 {
		b.content = maxPageSize
	}
	b.ptrs = off + hlen
	if b.ptrs+2*b.ncells > b.content || b.content > len(p) {
		return btreePage{}, fmt.Errorf("%w: page %d: %d cells and cell content at %d do not fit in %d bytes", ErrCorrupt, n, b.ncells, b.content, len(p))
	}
	return b, nil
}

func pageKinds(interior, leaf bool) string {
	switch {
	case interior && leaf:
		return "page"
	case interior:
		return "interior page"
	}
	return "leaf page"
}

// cell returns the offset of cell i, checked to lie in the content area.
func (b *btreePage) cell(n uint32, i int) (int, error) {
	c := int(binary.BigEndian.Uint16(b.data[b.ptrs+2*i:]))
	if c < b.content || c >= len(b.data) {
		return 0, fmt.Errorf("%w: page %d: cell %d at offset %d is outside the cell content area %d..%d", ErrCorrupt, n, i, c, b.content, len(b.data))
	}
	return c, nil
}

// TableLeaves returns the leaf pages of the table b-tree rooted at page
// root, in rowid order.
//
// It leaves out the subtrees that an interior cell's key shows to hold
// only rowids less than from (the key of an interior table cell is at
// least the largest rowid in its left subtree). The first leaves returned
// may still hold rowids less than from, notably after deletes; the caller
// skips those rows. If from is greater than every rowid, the last leaf may
// be returned.
//
// TableLeaves reads the interior pages and the first leaf, and checks the
// tree's structure as it goes: page types (interior table pages above the
// depth of the first leaf), cell bounds, interior keys increasing and
// within their parent's range, no page reached twice, depth at most 40. It
// reports any violation as ErrCorrupt. The other leaves are not read: the
// pages at the first leaf's depth are returned as leaves, and ScanLeaf
// checks that each is a table leaf page and that its rowids increase. A
// caller that needs rowids in order across leaves checks that each leaf's
// first rowid is greater than the previous leaf's last.
func (f *File) TableLeaves(root uint32, from int64) ([]uint32, error) {
	return f.tableLeaves(root, from)
}

func (f *File) tableLeaves(root uint32, from int64) (_ []uint32, err error) {
	defer f.catchFault(debug.SetPanicOnFault(true), &err)
	w := treeWalk{
		f:         f,
		from:      from,
		seen:      make([]uint64, f.avail/64+1),
		leafDepth: -1,
	}
	if err := w.walk(root, 1, bounds{hi: 1<<63 - 1}); err != nil {
		return nil, err
	}
	return w.leaves, nil
}

// visit marks page n as part of the tree, which it must be only once. It
// reports a page that cannot be read.
func (w *treeWalk) visit(n uint32) error {
	if _, err := w.f.page(n); err != nil {
		return err
	}
	// Readable, so 1 <= n <= avail.
	if w.seen[n/64]&(1<<(n%64)) != 0 {
		return fmt.Errorf("%w: page %d: reached twice in the b-tree", ErrCorrupt, n)
	}
	w.seen[n/64] |= 1 << (n % 64)
	return nil
}

// bounds is the range of rowids (lo, hi] a subtree may hold. Without loSet
// there is no lower bound.
type bounds struct {
	lo    int64
	loSet bool
	hi    int64
}

type treeWalk struct {
	f         *File
	from      int64
	seen      []uint64 // pages visited, a bit each
	leafDepth int
	leaves    []uint32
}

func (w *treeWalk) walk(n uint32, depth int, r bounds) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: page %d: b-tree deeper than %d", ErrCorrupt, n, maxDepth)
	}
	if depth == w.leafDepth {
		// All leaves are at the depth of the first: this is one. Its page
		// is not read here, so that the scan, maybe in parallel, takes the
		// cost of bringing it into memory; ScanLeaf checks its type.
		if err := w.visit(n); err != nil {
			return err
		}
		w.leaves = append(w.leaves, n)
		return nil
	}
	// Above the leaves' depth only interior pages; until the first leaf
	// is found, either.
	b, err := w.f.btreePage(n, true, w.leafDepth < 0)
	if err != nil {
		return err
	}
	if err := w.visit(n); err != nil {
		return err
	}
	if b.typ == pageLeafTable {
		w.leafDepth = depth
		w.leaves = append(w.leaves, n)
		return nil
	}
	for i := 0; i < b.ncells; i++ {
		c, err := b.cell(n, i)
		if err != nil {
			return err
		}
		if c+4 >= len(b.data) {
			return fmt.Errorf("%w: page %d: cell %d overruns the page", ErrCorrupt, n, i)
		}
		child := binary.BigEndian.Uint32(b.data[c:])
		k, m := uvarint(b.data[c+4:])
		if m == 0 {
			return fmt.Errorf("%w: page %d: cell %d: key overruns the page", ErrCorrupt, n, i)
		}
		key := int64(k)
		if r.loSet && key <= r.lo || key > r.hi {
			return fmt.Errorf("%w: page %d: cell %d: key %d out of order", ErrCorrupt, n, i, key)
		}
		if key >= w.from {
			if err := w.walk(child, depth+1, bounds{lo: r.lo, loSet: r.loSet, hi: key}); err != nil {
				return err
			}
		}
		r.lo, r.loSet = key, true
	}
	return w.walk(b.right, depth+1, r)
}

// ScanLeaf calls fn for each cell of the table leaf page numbered page, in
// order, with its rowid and its whole record payload, until fn returns
// false. It reports ErrCorrupt if the page is not a table leaf page, a cell
// lies outside the page, rowids do not increase, or an overflow chain is
// out of range or of the wrong length.
//
// A payload that fits on the page aliases the File's memory, valid until
// Close (see the package documentation for how long its bytes stay the
// snapshot's). A payload that spills to overflow pages is assembled into
// scratch, grown as needed, and is valid only during that call of fn.
// ScanLeaf returns scratch, possibly grown, for reuse.
func (f *File) ScanLeaf(page uint32, scratch []byte, fn func(rowid int64, payload []byte) bool) ([]byte, error) {
	return f.scanLeaf(page, scratch, true, fn)
}

// ScanLeafHeads is ScanLeaf for a caller that reads only the start of
// most payloads (the first columns of a record): it loads ahead only the
// cache line where each cell starts, not the whole page, which for rows
// of a kilobyte is a sixth of the memory traffic. A caller that reads
// whole payloads is faster with ScanLeaf.
func (f *File) ScanLeafHeads(page uint32, scratch []byte, fn func(rowid int64, payload []byte) bool) ([]byte, error) {
	return f.scanLeaf(page, scratch, false, fn)
}

func (f *File) scanLeaf(page uint32, scratch []byte, whole bool, fn func(rowid int64, payload []byte) bool) (_ []byte, err error) {
	defer f.catchFault(debug.SetPanicOnFault(true), &err)
	b, err := f.btreePage(page, false, true)
	if err != nil {
		return scratch, err
	}
	p := b.data
	u := len(p)
	// Load every cache line of the cell content area up front: these loads
	// do not depend on each other, so the processor overlaps their cache
	// misses, which otherwise come one or two at a time as each row is
	// decoded and read, and dominate the scan of a table larger than the
	// cache. (On the events benchmark: about 30% faster for a caller that
	// reads whole payloads, at some cost to parallel scans that read only
	// the first columns.)
	var touch byte
	if whole {
		for c := b.content; c < u; c += 64 {
			touch += p[c]
		}
	} else {
		for i := 0; i < b.ncells; i++ {
			if c := int(p[b.ptrs+2*i])<<8 | int(p[b.ptrs+2*i+1]); c < u {
				touch += p[c]
			}
		}
	}
	if touch == 1 && b.ncells == 0 {
		return scratch, nil // no cells anyway: uses touch so the loads stay
	}
	var prev int64
	for i := 0; i < b.ncells; i++ {
		c := int(p[b.ptrs+2*i])<<8 | int(p[b.ptrs+2*i+1])
		if c < b.content || c >= u {
			_, err := b.cell(page, i)
			return scratch, err
		}
		var size uint64
		if x := p[c]; x < 0x80 {
			size = uint64(x)
			c++
		} else {
			v, m := uvarint(p[c:])
			if m == 0 {
				return scratch, fmt.Errorf("%w: page %d: cell %d: payload size overruns the page", ErrCorrupt, page, i)
			}
			size = v
			c += m
		}
		if c >= u {
			return scratch, fmt.Errorf("%w: page %d: cell %d: rowid overruns the page", ErrCorrupt, page, i)
		}
		var rowid int64
		if x := p[c]; x < 0x80 {
			rowid = int64(x)
			c++
		} else {
			v, m := uvarint(p[c:])
			if m == 0 {
				return scratch, fmt.Errorf("%w: page %d: cell %d: rowid overruns the page", ErrCorrupt, page, i)
			}
			rowid = int64(v)
			c += m
		}
		if i > 0 && rowid <= prev {
			return scratch, fmt.Errorf("%w: page %d: cell %d: rowid %d after %d", ErrCorrupt, page, i, rowid, prev)
		}
		prev = rowid
		if size <= uint64(f.maxLocal) {
			end := c + int(size)
			if end > u {
				return scratch, fmt.Errorf("%w: page %d: cell %d: payload of %d bytes overruns the page", ErrCorrupt, page, i, size)
			}
			if !fn(rowid, p[c:end:end]) {
				return scratch, nil
			}
			continue
		}
		payload, err := f.overflow(page, i, p[c:], size, scratch)
		if err != nil {
			return scratch, err
		}
		scratch = payload[:0]
		if !fn(rowid, payload) {
			return scratch, nil
		}
	}
	return scratch, nil
}

// overflow assembles a payload of size bytes that spills from cell i of
// page: rest is the page from the cell's local payload on.
func (f *File) overflow(page uint32, i int, rest []byte, size uint64, scratch []byte) ([]byte, error) {
	if size > maxPayload {
		return nil, fmt.Errorf("%w: page %d: cell %d: payload of %d bytes", ErrCorrupt, page, i, size)
	}
	// The local part, as the file format defines it.
	local := f.minLocal + int((size-uint64(f.minLocal))%uint64(f.usable-4))
	if local > f.maxLocal {
		local = f.minLocal
	}
	if local+4 > len(rest) {
		return nil, fmt.Errorf("%w: page %d: cell %d: payload of %d bytes overruns the page", ErrCorrupt, page, i, size)
	}
	per := f.usable - 4
	total := int(size)
	count := (total - local + per - 1) / per
	if count > int(f.avail) {
		return nil, fmt.Errorf("%w: page %d: cell %d: payload of %d bytes needs more overflow pages than the file has", ErrCorrupt, page, i, size)
	}
	if cap(scratch) < total {
		scratch = make([]byte, total, total+total/4)
	}
	scratch = scratch[:total]
	n := copy(scratch, rest[:local])
	next := binary.BigEndian.Uint32(rest[local:])
	for k := 0; k < count; k++ {
		if next == 0 {
			return nil, fmt.Errorf("%w: page %d: cell %d: overflow chain ends after %d of %d pages", ErrCorrupt, page, i, k, count)
		}
		op, err := f.page(next)
		if err != nil {
			return nil, fmt.Errorf("overflow of page %d cell %d: %w", page, i, err)
		}
		n += copy(scratch[n:], op[4:f.usable])
		next = binary.BigEndian.Uint32(op)
	}
	if next != 0 {
		return nil, fmt.Errorf("%w: page %d: cell %d: overflow chain longer than %d pages", ErrCorrupt, page, i, count)
	}
	return scratch, nil
}
