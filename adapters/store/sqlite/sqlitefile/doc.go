// Package sqlitefile reads the rows of an SQLite rowid table straight from
// the database file and its write-ahead log, without SQLite.
//
// It exists to rebuild views from the event log quickly: stepping SQLite's
// virtual machine and copying the columns out costs several times more
// per row than walking the table's b-tree leaf pages, which this package
// does from any number of goroutines at once. It implements the parts of
// the file format (https://www.sqlite.org/fileformat2.html) that a scan of
// a rowid table needs: the database header, the WAL, table b-tree pages,
// overflow chains and the record format.
//
// A scan looks like this, inside an SQLite read transaction:
//
//	f, err := sqlitefile.Open(path)
//	...
//	defer f.Close()
//	leaves, err := f.TableLeaves(root, from) // root: sqlite_schema.rootpage
//	...
//	// Any number of goroutines, each over some of the leaves:
//	scratch, err = f.ScanLeaf(leaf, scratch, func(rowid int64, payload []byte) bool {
//		vals, err = sqlitefile.DecodeRecord(payload, vals)
//		...
//		return true
//	})
//
// Any structure the file format does not allow (a page or cell out of
// bounds, a loop, a wrong page type, a record that overruns its payload)
// is reported as an error wrapping ErrCorrupt, or ErrUnsupported for a
// valid file this package does not read, and never makes it panic; a
// caller can fall back to SQL on any error. Damage that leaves the
// structure valid, such as a changed byte inside a value, cannot be
// detected (nor does SQLite detect it). Rowids are checked to increase
// within a leaf (ScanLeaf) and interior keys within and across interior
// pages (TableLeaves); that the last rowid of a leaf is less than the first
// of the next is left to the caller, which sees both.
//
// # Consistency
//
// A File shows one committed state of the database only if the caller
// holds an SQLite read transaction on it from before Open until it is done
// with the File and with every payload it returned: BEGIN, then a SELECT
// stepped at least once, since SQLite takes the read lock lazily.
//
// The state a File shows is the read transaction's or a later one. Open
// uses every transaction committed in the WAL when it copies it, which may
// include commits made after the read transaction began. A caller that
// wants exactly its transaction's rows of an append-only table stops at
// the largest rowid the transaction sees (SELECT max(rowid)) and checks
// that the File reached it.
//
// Open copies the WAL into private memory and uses its frames up to the
// last valid commit frame: a frame is valid if its salts are the WAL
// header's and its checksum, which continues that of every frame before
// it, is right. That is SQLite's own recovery, and it makes the copy end
// at a commit even when a writer is appending frames while Open reads. The
// other pages are read from the database file, which is mapped read-only
// and shared, so they are read as they are at the moment; the reader's lock
// is what keeps them the snapshot's:
//
//   - A checkpoint backfills pages from the WAL into the database file
//     only while it holds WAL_READ_LOCK(0) exclusively, so not at all while
//     the caller's transaction reads the database file alone (it then holds
//     that lock shared), and otherwise never past the transaction's end
//     mark in the WAL. Every frame up to that mark is committed and still in
//     the WAL (it cannot restart while such a reader holds its lock), so it
//     is in Open's copy: any page a checkpoint may write during the scan is
//     one the File takes from the copy, never from the database file.
//   - The WAL restarts (is written again from its start, with new salts)
//     or is truncated only once every frame in it is in the database file,
//     and only while no reader uses the WAL. Frames of either generation
//     then give a consistent state, except a copy made while the start of
//     the WAL was being rewritten: it could end before frames already
//     copied into the database file. So Open reads the WAL header again
//     after copying the WAL, and starts over if it changed.
//   - A checkpoint truncates the database file only after backfilling the
//     whole WAL, to the size of its last commit, which is then the File's
//     size: no page of the view is cut off. Should the file shrink under
//     the mapping anyway, TableLeaves and ScanLeaf report ErrCorrupt
//     instead of crashing on SIGBUS.
//
// A database in rollback-journal mode has no WAL: there the reader's
// SHARED lock keeps writers out of the database file (and SQLite rolls a
// hot journal back before granting it).
//
// A payload that aliases the database file stays the snapshot's only as
// long as the caller's read transaction: copy what must outlive it. A
// payload that aliases the WAL copy is private.
//
// # Locks held by SQLite in the same process
//
// On POSIX systems, closing any descriptor of a file drops every fcntl
// lock the process holds on it, SQLite's included; a WAL-mode connection
// holds a shared lock on the database file to say it is in use, and
// without it another process closing its last connection (the sqlite3
// shell, say) checkpoints the database and deletes its WAL under this
// process's connections. So Open never closes the database file it reads:
// the first Open of a file keeps its descriptor for the life of the
// process and later ones reuse it (dbfile_unix.go). The WAL file is
// opened and closed; SQLite locks the shared-memory file, never the WAL.
//
// # What is not supported
//
//   - Index b-trees, and so WITHOUT ROWID tables and indexes: TableLeaves
//     reports their pages (types 0x02 and 0x0A) as ErrCorrupt.
//   - Databases whose text encoding is UTF-16 (ErrUnsupported).
//   - Column semantics: an INTEGER PRIMARY KEY column is stored as NULL
//     (its value is the rowid), integral values of REAL columns are stored
//     as integers, rows written before ALTER TABLE ADD COLUMN lack the new
//     columns (whose defaults apply). The caller applies these.
//
// The database file is mapped with mmap on Linux, macOS and the BSDs, and
// read into memory whole elsewhere.
package sqlitefile
