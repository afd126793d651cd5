package sqlitefile

import (
	"fmt"
	"io"
	"os"
)

// readFile reads the first size bytes of fh into private memory: the
// fallback for systems without mmap (and a reference for tests).
func readFile(fh *os.File, size int64) ([]byte, error) {
	if size != int64(int(size)) {
		return nil, fmt.Errorf("%w: file of %d bytes is too large to read", ErrUnsupported, size)
	}
	data := make([]byte, size)
	n, err := fh.ReadAt(data, 0)
	if err == io.EOF {
		err = nil
	}
	return data[:n], err
}
