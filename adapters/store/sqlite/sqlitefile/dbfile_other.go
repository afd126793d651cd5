//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package sqlitefile

import "os"

// openDB opens the database file at path for reading; release closes it.
// Locks here are not POSIX fcntl locks, which closing any descriptor of a
// file would drop (see dbfile_unix.go).
func openDB(path string) (*os.File, func(), error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return fh, func() { fh.Close() }, nil
}
