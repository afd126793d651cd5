//go:build unix

package sqlite

import (
	"errors"
	"os"
	"syscall"
)

var errWouldBlock = syscall.EWOULDBLOCK

// tryLock takes flock(2)'s exclusive lock on f without waiting. The lock
// belongs to the open file description: it is released when f is closed
// or the process ends, and a second open of the file in this process
// conflicts with it like another process's would.
func tryLock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
