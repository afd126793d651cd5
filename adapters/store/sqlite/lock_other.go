//go:build !unix

package sqlite

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("would block")

// tryLock is not implemented here: xmppd serves from unix systems, where
// flock(2) is. Elsewhere the server runs without the guard.
func tryLock(*os.File) error { return nil }
