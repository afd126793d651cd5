//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sqlitefile

import (
	"fmt"
	"os"
	"sync"
	"syscall"
)

// dbFiles holds every database file this process has opened, by device
// and inode, open for as long as the process lives.
//
// On POSIX systems, closing any descriptor of a file drops every fcntl
// lock the process holds on that file, SQLite's included ("How To Corrupt
// An SQLite Database File", 2.2). A WAL-mode connection keeps a shared
// lock on the database file to say it is in use; with it gone, another
// process closing its last connection takes the file for unused,
// checkpoints it and deletes the WAL and shared-memory files under the
// connections still open here. So the descriptor Open reads through is
// never closed; one per database file a process reads is a small price.
var dbFiles struct {
	sync.Mutex
	m map[[2]uint64]*os.File
}

// openDB returns a read-only descriptor of the database file at path,
// the same one for every Open of that file, and a release function that
// does nothing (see dbFiles).
func openDB(path string) (*os.File, func(), error) {
	key, err := fileKey(path)
	if err != nil {
		return nil, nil, err
	}
	dbFiles.Lock()
	defer dbFiles.Unlock()
	if fh := dbFiles.m[key]; fh != nil {
		return fh, func() {}, nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	// The path may name another file by now; the descriptor tells which
	// one it is, and is kept under its own key either way.
	fi, err := fh.Stat()
	if err != nil {
		// Closing would drop the locks this process holds on the file;
		// keeping one stray descriptor is the lesser harm.
		return nil, nil, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, nil, fmt.Errorf("%w: no device and inode for %s", ErrUnsupported, path)
	}
	key = [2]uint64{uint64(st.Dev), uint64(st.Ino)}
	if dbFiles.m == nil {
		dbFiles.m = make(map[[2]uint64]*os.File)
	}
	if old := dbFiles.m[key]; old != nil {
		return old, func() {}, nil // fh stays open, unused (see above)
	}
	dbFiles.m[key] = fh
	return fh, func() {}, nil
}

// fileKey returns the device and inode of the file at path, without
// opening it.
func fileKey(path string) ([2]uint64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return [2]uint64{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return [2]uint64{}, fmt.Errorf("%w: no device and inode for %s", ErrUnsupported, path)
	}
	return [2]uint64{uint64(st.Dev), uint64(st.Ino)}, nil
}
