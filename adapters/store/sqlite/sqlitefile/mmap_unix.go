//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sqlitefile

import (
	"fmt"
	"os"
	"syscall"
)

// mapFile maps the first size bytes of fh read-only. The mapping is shared,
// so it shows the file's current contents, not a copy: see doc.go for why
// the pages read through it are the snapshot's.
func mapFile(fh *os.File, size int64) ([]byte, func() error, error) {
	if size == 0 {
		return nil, nil, nil
	}
	if size != int64(int(size)) {
		return nil, nil, fmt.Errorf("%w: file of %d bytes is too large to map", ErrUnsupported, size)
	}
	data, err := syscall.Mmap(int(fh.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap: %w", err)
	}
	return data, func() error { return syscall.Munmap(data) }, nil
}
