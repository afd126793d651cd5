package sqlite

import (
	"time"

	"zombiezen.com/go/sqlite"
)

// Checkpointing copies committed pages from the WAL back into the database
// file. SQLite's automatic checkpoint runs inside the COMMIT that crosses
// its threshold, on the writer's critical path; here a goroutine with its
// own connection runs passive checkpoints (which never block the writer or
// readers) soon after commits, so the writer spends its time on appends.
// The writer keeps a high automatic threshold as a backstop in case the
// passive checkpoints cannot keep up.
const (
	checkpointEvery      = 200 * time.Millisecond
	writerAutoCheckpoint = 16384 // pages (64 MiB with 4 KiB pages)
)

// runCheckpointer checkpoints after commits, at most every
// checkpointEvery. kick receives (without blocking the writer) after each
// commit.
func (s *Store) runCheckpointer(conn *sqlite.Conn, kick <-chan struct{}) {
	defer close(s.checkpointerDone)
	defer conn.Close()
	for {
		select {
		case <-s.done:
			return
		case <-kick:
		}
		stmt, err := conn.Prepare("PRAGMA wal_checkpoint(PASSIVE)")
		if err == nil {
			for {
				row, err := stmt.Step()
				if err != nil || !row {
					break
				}
			}
			stmt.Reset()
		}
		// A failed checkpoint is retried at the next commit; the WAL keeps
		// every committed page until then, so nothing is lost.
		select {
		case <-s.done:
			return
		case <-time.After(checkpointEvery):
		}
	}
}
