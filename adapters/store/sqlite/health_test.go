package sqlite_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	zs "zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/adapters/store/sqlite"
	"xmppd/events"
	"xmppd/events/storetest"
)

// failureCounter is an Observer that counts failed write transactions.
type failureCounter struct{ failed atomic.Int64 }

func (*failureCounter) Appended(time.Duration)       {}
func (*failureCounter) Committed(int, time.Duration) {}
func (o *failureCounter) CommitFailed()              { o.failed.Add(1) }

var _ sqlite.FailureObserver = (*failureCounter)(nil)

// smallDisk mounts a 4 MiB tmpfs under t.TempDir() (root only; skipped
// otherwise) and unmounts it when the test ends. cmd/xmppd's
// diskfull_test.go explains the harness at length.
func smallDisk(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("full-disk test: needs root to mount a small tmpfs")
	}
	dir := filepath.Join(t.TempDir(), "small-disk")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("full-disk test: cannot mount a tmpfs (no CAP_SYS_ADMIN?): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if err := exec.Command("umount", dir).Run(); err != nil {
			exec.Command("umount", "-l", dir).Run()
		}
	})
	return dir
}

// fillBehindWAL cuts db's WAL to zero bytes (a TRUNCATE checkpoint from a
// connection of its own) and then fills the file system, so that the
// store's next commit needs a block there is none of. It returns release.
func fillBehindWAL(t *testing.T, db string) (release func()) {
	t.Helper()
	conn, err := zs.OpenConn(db, zs.OpenReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetBusyTimeout(5 * time.Second)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		busy := -1
		err := sqlitex.ExecuteTransient(conn, "PRAGMA wal_checkpoint(TRUNCATE)", &sqlitex.ExecOptions{
			ResultFunc: func(s *zs.Stmt) error { busy = s.ColumnInt(0); return nil },
		})
		if err == nil && busy == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("truncate the WAL: busy=%d: %v", busy, err)
		}
	}
	conn.Close()
	filler := filepath.Join(filepath.Dir(db), "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 64<<10)
	for {
		if _, err := f.Write(zeros); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	if fi, err := os.Stat(db + "-wal"); err == nil && fi.Size() != 0 {
		t.Fatalf("the WAL grew to %d bytes while the disk was filled", fi.Size())
	}
	return func() { os.Remove(filler) }
}

// TestWriteHealthFollowsTheDisk: a commit that fails for want of space
// turns the store's write health off with SQLite's reason and is counted
// once; the writer's probes (not counted) find the space again by
// themselves once it is freed, with no append, and add nothing to the log.
func TestWriteHealthFollowsTheDisk(t *testing.T) {
	dir := smallDisk(t)
	ctx := context.Background()
	opened := time.Now()
	s := openTemp(t, sqlite.Config{Path: filepath.Join(dir, "xmppd.db")})
	defer s.Close()
	obs := &failureCounter{}
	s.Observe(obs)
	append1 := func() error {
		_, err := s.Append(ctx, "account-a@localhost", events.Any, storetest.Envelopes(t, 1, storetest.FullMeta())...)
		return err
	}

	if ok, reason, since := s.WriteHealth(); !ok || reason != "" || since.Before(opened) {
		t.Fatalf("fresh store: WriteHealth() = %v, %q, %v; want ok since Open", ok, reason, since)
	}
	for range 20 {
		if err := append1(); err != nil {
			t.Fatal(err)
		}
	}
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Let the idle writer index the tail of the log first: a failed flush
	// of the index is a failed write as well, and would be counted too.
	time.Sleep(300 * time.Millisecond)
	filled := time.Now()
	release := fillBehindWAL(t, s.Path())
	defer release()
	err = append1()
	if zs.ErrCode(err).ToPrimary() != zs.ResultFull {
		t.Fatalf("append on a full disk: %v, want SQLITE_FULL", err)
	}
	ok, reason, since := s.WriteHealth()
	if ok || reason != "database or disk is full" || since.Before(filled) {
		t.Fatalf("after a failed commit: WriteHealth() = %v, %q, %v; want not ok, disk full, since %v", ok, reason, since, filled)
	}
	if n := obs.failed.Load(); n != 1 {
		t.Errorf("failures counted: %d, want 1", n)
	}

	// Two probes' time: they fail too, and are not counted as commits.
	time.Sleep(2*time.Second + 200*time.Millisecond)
	if ok, _, since2 := s.WriteHealth(); ok || !since2.Equal(since) {
		t.Fatalf("disk still full: WriteHealth() ok=%v since %v, want not ok since %v", ok, since2, since)
	}
	if n := obs.failed.Load(); n != 1 {
		t.Errorf("failures counted with probes failing: %d, want 1 (probes are not commits)", n)
	}

	released := time.Now()
	release()
	deadline := time.Now().Add(3 * time.Second)
	for {
		ok, reason, since := s.WriteHealth()
		if ok {
			if reason != "" || since.Before(released) {
				t.Errorf("recovered: reason %q, since %v (released at %v)", reason, since, released)
			}
			t.Logf("healthy again %v after the disk was freed, with no append", since.Sub(released).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still unhealthy 3s after the disk was freed: %q", reason)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got, err := s.Head(ctx); err != nil || got != head {
		t.Fatalf("head after the probes: %d, %v; want %d: a probe must add nothing to the log", got, err, head)
	}
	if err := append1(); err != nil {
		t.Fatalf("append after recovery: %v", err)
	}
	var evs []events.Envelope
	for e, err := range s.ReadStream(ctx, "account-a@localhost", 0) {
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	if len(evs) != 21 {
		t.Fatalf("stream holds %d events, want 21", len(evs))
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Prev != evs[i-1].Hash {
			t.Fatalf("event %d: prev %s, want %s: the chain broke across the failure", i+1, evs[i].Prev, evs[i-1].Hash)
		}
	}
}
