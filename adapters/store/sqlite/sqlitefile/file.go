package sqlitefile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"unsafe"
)

// ErrCorrupt reports that the file or its WAL is not what the SQLite file
// format allows: a page out of range, a cell outside its page, a loop in a
// b-tree or an overflow chain, a record whose header overruns it. Errors
// returned by this package wrap it with the details.
var ErrCorrupt = errors.New("sqlitefile: malformed database")

// ErrUnsupported reports a valid file that this package does not read, such
// as a database whose text encoding is UTF-16 or a WAL of an unknown
// version. Errors returned by this package wrap it with the details.
var ErrUnsupported = errors.New("sqlitefile: unsupported database file")

// walRetries counts the times Open copied the WAL again (for tests).
var walRetries atomic.Int64

// errWALChanged reports that the WAL was restarted or truncated while Open
// copied it. Open retries a few times before returning it.
var errWALChanged = errors.New("sqlitefile: WAL was restarted while being read")

const (
	dbHeaderSize = 100
	magic        = "SQLite format 3\x00"
	maxPageSize  = 65536
	// maxPayload bounds the payload size a cell may claim. SQLite's own
	// limit (SQLITE_MAX_LENGTH) is at most 2^31-1 bytes.
	maxPayload = 1<<31 - 1
	// openTries is how many times Open copies a WAL that keeps being
	// restarted under it before giving up.
	openTries = 5
)

// File is a read-only view of an SQLite database file plus its WAL
// (path+"-wal") as of Open: the pages of the last transaction committed
// in the WAL copy Open took, and the others from the database file.
//
// A File is safe for concurrent use by multiple goroutines, except that
// Close must not run concurrently with any other method.
type File struct {
	db       []byte            // the database file: mapped read-only, or read into memory
	unmap    func() error      // releases db; nil if db is ordinary memory
	walPages map[uint32][]byte // latest committed frame of each page, in a private WAL copy

	pageSize int
	usable   int    // page size less the reserved bytes at the end of each page
	npages   uint32 // database size in pages
	avail    uint32 // pages 1..avail may be readable: bounds what a walk allocates
	maxLocal int    // largest payload a table leaf cell keeps wholly on its page (X)
	minLocal int    // smallest local part of a payload that spills (M)

	closeOnce sync.Once
	closeErr  error
}

// Open returns a view of the database at path and its WAL as they are
// now. The database file is mapped into memory read-only where the
// operating system allows it; the WAL, if there is one, is copied into
// private memory and only its frames up to the last valid commit frame are
// used, as SQLite's own recovery would.
//
// The view is consistent only if the caller holds an SQLite read
// transaction on the database from before Open until it is done with the
// File and the payloads it returned; see the package documentation.
func Open(path string) (*File, error) {
	for try := 1; ; try++ {
		f, err := open(path)
		if err == errWALChanged && try < openTries {
			walRetries.Add(1)
			continue
		}
		var pe *fs.PathError
		if err != nil && !errors.As(err, &pe) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return f, err
	}
}

func open(path string) (*File, error) {
	// The WAL is read before the database file is mapped: see doc.go for
	// why that order, with the caller's read lock, gives a consistent view.
	wal, err := readWAL(path + "-wal")
	if err != nil {
		return nil, err
	}
	fh, release, err := openDB(path) // never closed on POSIX systems: see dbFiles
	if err != nil {
		return nil, err
	}
	defer release()
	fi, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	db, unmap, err := mapFile(fh, fi.Size())
	if err != nil {
		return nil, err
	}
	f, err := newFile(db, wal)
	if err != nil {
		if unmap != nil {
			unmap()
		}
		return nil, err
	}
	f.unmap = unmap
	return f, nil
}

// readWAL returns a private copy of the WAL file at path, or nil if there
// is none. It reads the file from the start to the end, then reads the
// header again: if a checkpoint restarted or truncated the WAL meanwhile
// the two differ and it returns errWALChanged, since the frames read may
// then mix two generations of the log. (Frames appended meanwhile are
// harmless: a torn frame fails its checksum.)
func readWAL(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	size := 0
	if fi, err := fh.Stat(); err == nil && int64(int(fi.Size())) == fi.Size() {
		size = int(fi.Size())
	}
	data := make([]byte, 0, size+512)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := fh.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if walHeaderChanged(fh, data) {
		return nil, errWALChanged
	}
	return data, nil
}

// walHeaderChanged reports whether the header of the WAL open as fh
// differs from the start of copied, a copy of the WAL read before.
func walHeaderChanged(fh *os.File, copied []byte) bool {
	var again [walHeaderSize]byte
	n, _ := fh.ReadAt(again[:], 0)
	head := copied[:min(len(copied), walHeaderSize)]
	return n != len(head) || string(again[:n]) != string(head)
}

// newFile parses a database image and a WAL copy (either may be empty).
func newFile(db, wal []byte) (*File, error) {
	w, err := parseWAL(wal)
	if err != nil {
		return nil, err
	}
	var page1 []byte
	if w != nil {
		page1 = w.pages[1]
	}
	if page1 == nil {
		if len(db) < dbHeaderSize {
			return nil, fmt.Errorf("%w: file is %d bytes, too short for a header", ErrCorrupt, len(db))
		}
		page1 = db[:dbHeaderSize]
	}
	hdr := page1[:dbHeaderSize]
	if string(hdr[:16]) != magic {
		return nil, fmt.Errorf("%w: not an SQLite 3 database (bad magic)", ErrCorrupt)
	}
	pageSize := int(binary.BigEndian.Uint16(hdr[16:]))
	if pageSize == 1 {
		pageSize = maxPageSize
	}
	if pageSize < 512 || pageSize > maxPageSize || pageSize&(pageSize-1) != 0 {
		return nil, fmt.Errorf("%w: page size %d", ErrCorrupt, pageSize)
	}
	if hdr[19] > 2 {
		return nil, fmt.Errorf("%w: file format read version %d", ErrUnsupported, hdr[19])
	}
	usable := pageSize - int(hdr[20])
	if usable < 480 {
		return nil, fmt.Errorf("%w: usable page size %d", ErrCorrupt, usable)
	}
	if hdr[21] != 64 || hdr[22] != 32 || hdr[23] != 32 {
		return nil, fmt.Errorf("%w: payload fractions %d/%d/%d", ErrCorrupt, hdr[21], hdr[22], hdr[23])
	}
	// Encoding 0 is left by SQLite in a file whose schema was never
	// written: it holds no text at all.
	if enc := binary.BigEndian.Uint32(hdr[56:]); enc != 1 && enc != 0 {
		return nil, fmt.Errorf("%w: text encoding %d is not UTF-8", ErrUnsupported, enc)
	}
	if w != nil && w.pageSize != pageSize {
		return nil, fmt.Errorf("%w: WAL page size %d, database page size %d", ErrCorrupt, w.pageSize, pageSize)
	}

	f := &File{
		db:       db,
		pageSize: pageSize,
		usable:   usable,
		maxLocal: usable - 35,
		minLocal: (usable-12)*32/255 - 23,
	}
	// The database size, as SQLite's lockBtree works it out: the size in
	// the header if it is valid (nonzero, and written by a version that
	// kept it: change counter equal to version-valid-for), otherwise the
	// size of the file, which in WAL mode is the size after the last
	// commit; a header that claims more than that is corrupt.
	inFile := uint32(min(int64(len(db)/pageSize), 1<<32-1))
	if w != nil && w.commitSize != 0 {
		inFile = w.commitSize
		f.walPages = w.pages
	}
	f.npages = inFile
	if n := binary.BigEndian.Uint32(hdr[28:]); n != 0 && binary.BigEndian.Uint32(hdr[24:]) == binary.BigEndian.Uint32(hdr[92:]) {
		if n > inFile {
			return nil, fmt.Errorf("%w: header says %d pages, the file (with its WAL) has %d", ErrCorrupt, n, inFile)
		}
		f.npages = n
	}
	if f.npages == 0 {
		return nil, fmt.Errorf("%w: database has no pages", ErrCorrupt)
	}
	f.avail = uint32(min(int64(len(db)/pageSize), 1<<32-1))
	for n := range f.walPages {
		f.avail = max(f.avail, n)
	}
	f.avail = min(f.avail, f.npages)
	return f, nil
}

// Close releases the memory mapping. Payloads that alias the File's pages
// must not be used after Close. Close is idempotent.
func (f *File) Close() error {
	f.closeOnce.Do(func() {
		if f.unmap != nil {
			f.closeErr = f.unmap()
		}
		f.db = nil
		f.walPages = nil
		f.npages = 0
		f.avail = 0
	})
	return f.closeErr
}

// PageSize returns the database page size in bytes.
func (f *File) PageSize() int { return f.pageSize }

// Pages returns the size of the database in pages in this view.
func (f *File) Pages() uint32 { return f.npages }

// page returns page n of the view: the WAL copy's frame if it has one,
// otherwise the page in the database file.
func (f *File) page(n uint32) ([]byte, error) {
	if n == 0 || n > f.npages {
		return nil, fmt.Errorf("%w: page %d out of range 1..%d", ErrCorrupt, n, f.npages)
	}
	if f.walPages != nil {
		if p, ok := f.walPages[n]; ok {
			return p, nil
		}
	}
	off := int64(n-1) * int64(f.pageSize)
	end := off + int64(f.pageSize)
	if end > int64(len(f.db)) {
		return nil, fmt.Errorf("%w: page %d is beyond the end of the file (%d bytes) and not in the WAL", ErrCorrupt, n, len(f.db))
	}
	return f.db[off:end:end], nil
}

// catchFault turns a memory fault inside the mapped database file (the
// file was truncated under the mapping, which the caller's read
// transaction should have prevented) into an error instead of a crash.
// Use it as
//
//	defer f.catchFault(debug.SetPanicOnFault(true), &err)
func (f *File) catchFault(old bool, err *error) {
	debug.SetPanicOnFault(old)
	r := recover()
	if r == nil {
		return
	}
	if fault, ok := r.(interface{ Addr() uintptr }); ok && f.unmap != nil && len(f.db) > 0 {
		start := uintptr(unsafe.Pointer(unsafe.SliceData(f.db)))
		if a := fault.Addr(); a >= start && a-start < uintptr(len(f.db)) {
			*err = fmt.Errorf("%w: fault reading byte %d of the mapped file: it shrank while in use", ErrCorrupt, a-start)
			return
		}
	}
	panic(r)
}
