package main_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	sqlitestore "xmppd/adapters/store/sqlite"
	"xmppd/events"
	"xmppd/events/storetest"
)

// fullDiskSize is the size of the file system fullDiskDir mounts: room
// for a fresh server's log, certificate and a few hundred events.
const fullDiskSize = "4m"

// fullDiskDir mounts a small tmpfs (fullDiskSize) on a fresh directory
// under t.TempDir() and returns it; it is unmounted when the test ends
// (after any server started later in the test has been stopped: cleanups
// run last-in first-out). The test is skipped, saying why, when not root
// or when the mount is refused (a container without CAP_SYS_ADMIN).
//
// A real file system of its own is what makes "disk full" real: the
// writes of the server under test get ENOSPC from the kernel, which
// SQLite reports as SQLITE_FULL ("database or disk is full"), and no other
// test or process on the machine is starved.
func fullDiskDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("full-disk test: needs root to mount a small tmpfs (run as root, or in a container with CAP_SYS_ADMIN)")
	}
	dir := filepath.Join(t.TempDir(), "small-disk")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+fullDiskSize+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("full-disk test: cannot mount a tmpfs on %s (no CAP_SYS_ADMIN?): %v: %s", dir, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			// Something still holds a file open there (a child not yet
			// reaped): detach it now, the kernel frees it when released.
			t.Logf("umount %s: %v: %s; detaching it (umount -l)", dir, err, strings.TrimSpace(string(out)))
			exec.Command("umount", "-l", dir).Run()
		}
	})
	return dir
}

// fillDisk fills the file system of dir (a fullDiskDir) so that the next
// write transaction of any SQLite database in dir fails with SQLITE_FULL,
// and returns release, which frees the space again (it may be called more
// than once; the filler is also gone when the tmpfs is unmounted).
//
// Filling the free space is not enough on its own. In WAL mode a commit
// appends frames to the -wal file, and once a checkpoint has copied the
// whole WAL into the database, the next writer starts the WAL again from
// its beginning, overwriting frames in blocks the file already holds:
// such commits need no new space and succeed on a full disk (and SQLite
// keeps the WAL's size unless journal_size_limit says otherwise). So
// before filling, fillDisk runs PRAGMA wal_checkpoint(TRUNCATE) on each
// database in dir from a connection of its own (SQLite's locks make this
// safe beside a running server, as `xmppd user add` is): every committed
// frame is copied into the database file while there is still room for it
// to grow, and the WAL is cut to zero bytes. With the WAL empty and no
// free block, the next commit's first frame needs a new block and fails.
// A commit that slips in between the checkpoint and the filling would
// give the WAL blocks again, so fillDisk checks that every WAL is still
// empty once the disk is full, and otherwise frees the space and tries
// again.
func fillDisk(t *testing.T, dir string) (release func()) {
	t.Helper()
	filler := filepath.Join(dir, "filler")
	release = func() {
		if err := os.Remove(filler); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("free the disk: %v", err)
		}
	}
	for attempt := 1; attempt <= 5; attempt++ {
		wals, err := filepath.Glob(filepath.Join(dir, "*-wal"))
		if err != nil {
			t.Fatal(err)
		}
		for _, wal := range wals {
			truncateWAL(t, strings.TrimSuffix(wal, "-wal"))
		}
		fillFile(t, filler)
		if busy := nonEmpty(t, wals); busy == "" {
			var st syscall.Statfs_t
			if err := syscall.Statfs(dir, &st); err != nil {
				t.Fatal(err)
			}
			if st.Bavail != 0 {
				t.Fatalf("fill %s: %d blocks still free", dir, st.Bavail)
			}
			return release
		} else {
			t.Logf("fill %s: attempt %d: %s was written to meanwhile; again", dir, attempt, busy)
		}
		release()
	}
	t.Fatalf("fill %s: the WAL never stayed empty long enough to fill the disk behind it", dir)
	return nil
}

// truncateWAL checkpoints the database at path into its file and cuts its
// WAL to zero bytes, waiting (busy timeout) for the server's transactions.
// A checkpoint that finds another one running (the store's own, passive)
// answers busy at once rather than wait: it is tried again for a while.
func truncateWAL(t *testing.T, path string) {
	t.Helper()
	conn, err := sqlite.OpenConn(path, sqlite.OpenReadWrite)
	if err != nil {
		t.Fatalf("open %s to checkpoint it: %v", path, err)
	}
	defer conn.Close()
	conn.SetBusyTimeout(5 * time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		busy := -1
		err = sqlitex.ExecuteTransient(conn, "PRAGMA wal_checkpoint(TRUNCATE)", &sqlitex.ExecOptions{
			ResultFunc: func(s *sqlite.Stmt) error { busy = s.ColumnInt(0); return nil },
		})
		if err == nil && busy == 0 {
			return
		}
		if err != nil && sqlite.ErrCode(err).ToPrimary() != sqlite.ResultBusy || time.Now().After(deadline) {
			t.Fatalf("checkpoint %s (TRUNCATE): busy=%d: %v", path, busy, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fillFile writes zeros to path until the file system has no block left.
func fillFile(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatalf("fill: %v", err)
	}
	defer f.Close()
	zeros := make([]byte, 64<<10)
	for {
		_, err := f.Write(zeros)
		if errors.Is(err, syscall.ENOSPC) {
			return
		}
		if err != nil {
			t.Fatalf("fill: %v", err)
		}
	}
}

// nonEmpty returns the first of wals that holds any byte, or "".
func nonEmpty(t *testing.T, wals []string) string {
	t.Helper()
	for _, wal := range wals {
		fi, err := os.Stat(wal)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != 0 {
			return wal
		}
	}
	return ""
}

// TestFillDiskMakesAppendsFail proves the harness: on a filled tmpfs an
// append to a WAL-mode SQLite store that has committed (and checkpointed)
// before fails with SQLITE_FULL and commits nothing, and once the space is
// released the same store appends again and loses nothing.
func TestFillDiskMakesAppendsFail(t *testing.T) {
	dir := fullDiskDir(t)
	ctx := context.Background()
	s, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(dir, "log.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Enough appends that the WAL holds blocks a restarted WAL would
	// reuse, were it not truncated.
	for i := range 50 {
		if _, err := s.Append(ctx, "account-a@localhost", events.Any, storetest.Envelopes(t, 4, storetest.FullMeta())...); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	// Let the store's checkpointer copy the whole WAL into the database:
	// the next commit would then restart the WAL in blocks it already
	// holds, and succeed on a full disk, were fillDisk not to truncate it.
	time.Sleep(400 * time.Millisecond)
	release := fillDisk(t, dir)
	_, err = s.Append(ctx, "account-a@localhost", events.Any, storetest.Envelopes(t, 1, storetest.FullMeta())...)
	if err == nil {
		t.Fatal("append on a full disk succeeded")
	}
	if code := sqlite.ErrCode(err).ToPrimary(); code != sqlite.ResultFull {
		t.Fatalf("append on a full disk: %v (code %v), want SQLITE_FULL", err, code)
	}
	if !strings.Contains(err.Error(), "database or disk is full") {
		t.Errorf("append on a full disk: %q does not say the disk is full", err)
	}
	release()
	if _, err := s.Append(ctx, "account-a@localhost", events.Any, storetest.Envelopes(t, 1, storetest.FullMeta())...); err != nil {
		t.Fatalf("append after freeing the disk: %v", err)
	}
	n := 0
	for _, err := range s.ReadStream(ctx, "account-a@localhost", 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 201 {
		t.Fatalf("stream holds %d events, want 201 (200 before the full disk, 1 after)", n)
	}
}

// stanzaError returns the type and condition of an error stanza's
// <error/> child (RFC 6120 8.3.2), or "" and "" when it has none.
func stanzaError(n xmlNode) (typ, condition string) {
	for _, c := range n.Nodes {
		if c.XMLName.Local != "error" {
			continue
		}
		for _, cond := range c.Nodes {
			if cond.XMLName.Space == "urn:ietf:params:xml:ns:xmpp-stanzas" && cond.XMLName.Local != "text" {
				return c.attr("type"), cond.XMLName.Local
			}
		}
		return c.attr("type"), ""
	}
	return "", ""
}

// TestServeFullDisk runs `xmppd serve` with its data directory on a small
// tmpfs and a client logged in, fills the disk, and checks what each side
// sees: the client's roster set (a write) is refused with a wait/
// internal-server-error stanza error (RFC 6120 8.3.3.5: the server could
// not process the stanza; retry later) and its stream stays up; /healthz
// turns 503 saying since when and why; the failed commit is counted and
// xmppd_store_writable drops to 0. Once the disk is freed, with no client
// writing, the store's probe finds the room and /healthz is 200 again by
// itself, and the same roster set then succeeds.
func TestServeFullDisk(t *testing.T) {
	data := fullDiskDir(t)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw", "--data-dir", data)
	srv := startServe(t, dir, "XMPPD_DATA_DIR="+data)
	healthz := "http://" + srv.metrics + "/healthz"

	c := dialXMPP(t, srv.directTLS)
	c.login("alice", "alice-pw", "full-disk")
	c.send(`<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`)
	c.await("iq", "r0")
	if code, body := httpGet(t, healthz); code != 200 {
		t.Fatalf("/healthz before the disk filled: %d %s", code, body)
	}
	m := scrape(t, srv.metrics)
	if m["xmppd_store_writable"] != 1 || m["xmppd_store_write_failures_total"] != 0 {
		t.Fatalf("before the disk filled: writable %v, failures %v", m["xmppd_store_writable"], m["xmppd_store_write_failures_total"])
	}

	filled := time.Now().UTC().Truncate(time.Second)
	release := fillDisk(t, data)
	defer release()
	const set = `<iq type='set' id='%s'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' name='Bob'/></query></iq>`
	c.send(fmt.Sprintf(set, "rs1"))
	n := c.await("iq", "rs1")
	if typ, cond := stanzaError(n); n.attr("type") != "error" || typ != "wait" || cond != "internal-server-error" {
		t.Fatalf("roster set on a full disk: type %q, error %q/%q; want error wait/internal-server-error", n.attr("type"), typ, cond)
	}
	t.Logf("roster set on a full disk: <iq type='error'> with <error type='wait'><internal-server-error/>")

	code, body := httpGet(t, healthz)
	var h struct{ Status, Reason string }
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("/healthz body %q: %v", body, err)
	}
	const prefix = "store refuses writes since "
	if code != 503 || h.Status != "unavailable" || !strings.HasPrefix(h.Reason, prefix) || !strings.HasSuffix(h.Reason, ": database or disk is full") {
		t.Fatalf("/healthz on a full disk: %d %s", code, body)
	}
	stamp, _, _ := strings.Cut(strings.TrimPrefix(h.Reason, prefix), ": ")
	since, err := time.Parse(time.RFC3339, stamp)
	if err != nil || since.Before(filled) || since.After(time.Now()) {
		t.Errorf("/healthz reason %q: since %v (%v), want from %v on", h.Reason, since, err, filled)
	}
	t.Logf("/healthz on a full disk: %d %s", code, strings.TrimSpace(body))
	m = scrape(t, srv.metrics)
	if m["xmppd_store_write_failures_total"] < 1 || m["xmppd_store_writable"] != 0 || m["xmppd_up"] != 0 {
		t.Errorf("on a full disk: failures %v, writable %v, up %v; want >= 1, 0, 0",
			m["xmppd_store_write_failures_total"], m["xmppd_store_writable"], m["xmppd_up"])
	}

	// The stream is still up: a read is answered.
	c.send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	if n := c.await("iq", "r1"); n.attr("type") != "result" {
		t.Errorf("roster get on a full disk: %+v", n)
	}

	freed := time.Now()
	release()
	eventually(t, "/healthz to be 200 again after the disk was freed", func() bool {
		code, _ := httpGet(t, healthz)
		return code == 200
	})
	t.Logf("/healthz 200 again %v after the disk was freed, no client writing", time.Since(freed).Round(10*time.Millisecond))
	if m := scrape(t, srv.metrics); m["xmppd_store_writable"] != 1 || m["xmppd_up"] != 1 {
		t.Errorf("after recovery: writable %v, up %v", m["xmppd_store_writable"], m["xmppd_up"])
	}
	c.send(fmt.Sprintf(set, "rs2"))
	if n := c.await("iq", "rs2"); n.attr("type") != "result" {
		t.Fatalf("roster set after the disk was freed: %+v", n)
	}
	c.send(`<iq type='get' id='r2'><query xmlns='jabber:iq:roster'/></iq>`)
	if n := c.await("iq", "r2"); len(n.Nodes) != 1 || len(n.Nodes[0].Nodes) != 1 || n.Nodes[0].Nodes[0].attr("jid") != "bob@localhost" {
		t.Errorf("roster after the disk was freed: %+v, want bob alone", n)
	}
}
