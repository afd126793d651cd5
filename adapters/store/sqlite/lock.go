package sqlite

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrLocked is the cause of LockServer's error when another process
// already serves the log.
var ErrLocked = errors.New("the log is served by another process")

// Holder is what a serving process writes into the lock file, so that
// the next one can say who holds the log.
type Holder struct {
	PID     int
	Node    string
	Started time.Time
}

// LockedError names the log, its lock file and the process holding it.
type LockedError struct {
	Path, LockPath string
	Holder         Holder // zero when the lock file could not be read
}

func (e *LockedError) Error() string {
	who := "another process"
	if e.Holder.PID > 0 {
		who = fmt.Sprintf("process %d (node %q, serving since %s)", e.Holder.PID, e.Holder.Node, e.Holder.Started.Format(time.RFC3339))
	}
	return fmt.Sprintf("sqlite: %s is already served by %s, which holds %s", e.Path, who, e.LockPath)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// Lock is a held server lock; Release gives it up. The operating system
// releases it too when the process ends, however it ends (SIGKILL
// included), so a crash never leaves a stale lock: the file stays, the
// lock does not.
type Lock struct {
	f *os.File
}

// LockPath is where the server lock of the log at path lives.
func LockPath(path string) string { return path + ".lock" }

// LockServer takes the exclusive server lock of the log at path (the file
// LockPath(path), an advisory whole-file lock), at once or not at all,
// and records h in it. One process may serve a log: a second would take
// the first one's live sessions for a dead process's and end them, and
// each would deliver only to its own clients. Commands that only read
// the log (verify, export, replay, audit) or append beside the server
// (user) do not take it.
func LockServer(path string, h Holder) (*Lock, error) {
	lp := LockPath(path)
	f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open lock file %s: %w", lp, err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			held := &LockedError{Path: path, LockPath: lp}
			if b, rerr := os.ReadFile(lp); rerr == nil {
				held.Holder = parseHolder(string(b))
			}
			return nil, held
		}
		return nil, fmt.Errorf("sqlite: lock %s: %w", lp, err)
	}
	if err := writeHolder(f, h); err != nil {
		f.Close() // closing the only descriptor releases the lock
		return nil, fmt.Errorf("sqlite: write lock file %s: %w", lp, err)
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up, leaving the lock file empty.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0) // best effort: the lock itself goes with the descriptor
	err := l.f.Close()
	l.f = nil
	return err
}

func writeHolder(f *os.File, h Holder) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	s := fmt.Sprintf("pid %d\nnode %s\nstarted %s\n", h.PID, h.Node, h.Started.UTC().Format(time.RFC3339Nano))
	if _, err := f.WriteAt([]byte(s), 0); err != nil {
		return err
	}
	return f.Sync()
}

func parseHolder(s string) Holder {
	var h Holder
	for _, line := range strings.Split(s, "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "pid":
			h.PID, _ = strconv.Atoi(v)
		case "node":
			h.Node = v
		case "started":
			h.Started, _ = time.Parse(time.RFC3339Nano, v)
		}
	}
	return h
}
