//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package sqlitefile

import "os"

// mapFile reads the first size bytes of fh into memory, where the
// operating system offers no mmap through package syscall.
func mapFile(fh *os.File, size int64) ([]byte, func() error, error) {
	data, err := readFile(fh, size)
	return data, nil, err
}
