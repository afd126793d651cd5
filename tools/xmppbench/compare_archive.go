package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"time"
)

// The results the archive phase adds to a server's: chat with archiving
// on, then a fill and queries at an archive size every server reaches
// in time, then (where the server's fill rate allows it within the
// limit) a fill to the large size and queries there.
const (
	keyChatArchived  = "chat-archived"
	keyMAMFill       = "mam-fill"
	keyMAMQuery      = "mam-query"
	keyMAMFillLarge  = "mam-fill-large"
	keyMAMQueryLarge = "mam-query-large"
)

// startupTries is how many times the archive phase starts a server to
// time its start-up.
const startupTries = 3

// runCompareArchive is the comparison's archive phase (issue 13), on a
// fresh server of the same kind with message archiving on (xmppd's
// archive.enabled; mod_mam on its default storage, archiving every
// message, in Prosody and ejabberd). It adds to r:
//   - chat-archived: the chat scenario with every message archived;
//   - mam-fill: z.MAMMessages messages sent to one account (the last,
//     which chat does not use) by all the others, so that account's
//     archive holds them; with the growth of the server's data files
//     per message (measured with the server stopped, so SQLite's WAL is
//     checkpointed) and the server's start-up time, to a first completed
//     login, before and after the fill (for xmppd: rebuilding its views
//     from logs that differ only by the archive events and a few logins);
//   - mam-query: the latency of asking for the last 50 messages of that
//     archive, one query at a time;
//   - mam-fill-large and mam-query-large: the same, the archive filled on
//     to z.MAMMessagesLarge, when the server's mam-fill rate says it can
//     get there within z.MAMFillLimit (otherwise a problem says why not).
func runCompareArchive(ctx context.Context, r *compareServerResult, xmppdBin string, z compareSizes, keep bool, log io.Writer) {
	kind := r.Server
	problem := func(err error) {
		r.Problems = append(r.Problems, "archive: "+err.Error())
		fmt.Fprintf(log, "compare: %s: archive: %v\n", kind, err)
	}
	fmt.Fprintf(log, "compare: %s: archive phase: setting up with archiving on\n", kind)
	s, err := newCompareServer(kind, xmppdBin, "localhost", true)
	if err != nil {
		problem(err)
		return
	}
	if keep {
		defer s.stop()
		r.ArchiveDir = s.dir
	} else {
		defer s.remove()
	}
	users := z.ChatUsers + 1 // the chat pairs, then the archive's owner
	hub := strconv.Itoa(users - 1)
	if err := s.provisionAndStart(ctx, users, log); err != nil {
		problem(err)
		return
	}
	step := func(key string, args ...string) *result {
		if ctx.Err() != nil {
			return nil
		}
		res, err := compareStep(ctx, s, args, log)
		if res != nil {
			r.Results[key] = res
		}
		if err != nil {
			problem(fmt.Errorf("%s: %w", key, err))
		}
		return res
	}
	// restart stops the server, measures its data files, and starts it
	// again, startupTries times: it returns the bytes and the shortest
	// time to the first login (the host is shared: the shortest is the
	// one least disturbed).
	restart := func() (int64, time.Duration, bool) {
		s.stop()
		size, err := s.dataBytes()
		if err != nil {
			problem(err)
			return 0, 0, false
		}
		var best time.Duration
		for i := range startupTries {
			if i > 0 {
				s.stop()
			}
			if err := s.start(ctx); err != nil {
				problem(err)
				return 0, 0, false
			}
			ready, err := s.firstLogin(ctx)
			if err != nil {
				problem(err)
				return 0, 0, false
			}
			if i == 0 || ready < best {
				best = ready
			}
		}
		return size, best, true
	}
	d := z.Duration.String()
	// fillAndQuery sends n more messages to the hub's archive, then
	// queries its last page.
	size, start, ok := int64(0), time.Duration(0), false
	fillAndQuery := func(fillKey, queryKey string, n int) *result {
		fill := step(fillKey, "mam-fill", "--users", strconv.Itoa(users), "--hub", hub, "--count", strconv.Itoa(n),
			"--window", strconv.Itoa(z.ChatWindow), "--duration", z.MAMFillLimit.String(), "--timeout", "60s",
			"--max-time", (z.MAMFillLimit + 3*time.Minute).String())
		if fill == nil {
			return nil
		}
		size0, start0 := size, start
		if size, start, ok = restart(); !ok {
			return nil
		}
		fill.Figures["data_bytes_before"] = float64(size0)
		fill.Figures["data_bytes_after"] = float64(size)
		if fill.Ops > 0 {
			fill.Figures["data_bytes_per_message"] = roundTo(float64(size-size0)/float64(fill.Ops), 1)
		}
		fill.Figures["start_s_before"] = roundTo(start0.Seconds(), 3)
		fill.Figures["start_s_after"] = roundTo(start.Seconds(), 3)
		fmt.Fprintf(log, "compare: %s: %s: %d messages archived, %d bytes of data more; start-up %v before, %v after\n",
			kind, fillKey, fill.Ops, size-size0, start0.Round(time.Millisecond), start.Round(time.Millisecond))
		step(queryKey, "mam-query", "--users", strconv.Itoa(users), "--hub", hub, "--concurrency", "1", "--items", strconv.Itoa(mamPage),
			"--duration", d, "--timeout", "60s")
		return fill
	}

	step(keyChatArchived, "chat", "--users", strconv.Itoa(z.ChatUsers), "--window", strconv.Itoa(z.ChatWindow), "--duration", d)
	if size, start, ok = restart(); !ok {
		return
	}
	fill := fillAndQuery(keyMAMFill, keyMAMQuery, z.MAMMessages)
	more := z.MAMMessagesLarge - z.MAMMessages
	if fill == nil || more <= 0 || ctx.Err() != nil {
		return
	}
	// The rate of the first fill, at a smaller archive, is the best the
	// large one can do: a store whose appends slow as an archive grows
	// (Prosody's file per account, ejabberd's Mnesia bag) does worse.
	if need := time.Duration(float64(more) / max(fill.OpsPerSec, 1) * float64(time.Second)); need > z.MAMFillLimit {
		note := fmt.Sprintf("archive: %s skipped: %d more messages at %.0f msg/s (mam-fill's rate) would take %v, over the %v limit",
			keyMAMFillLarge, more, fill.OpsPerSec, need.Round(time.Second), z.MAMFillLimit)
		r.Notes = append(r.Notes, note)
		fmt.Fprintf(log, "compare: %s: %s\n", kind, note)
		return
	}
	fillAndQuery(keyMAMFillLarge, keyMAMQueryLarge, more)
}

// dataBytes is the size of the server's stored state: every file under
// xmppd's and Prosody's data directories (xmppd: the log, its WAL if one
// is left, keys.db), and ejabberd's Mnesia directory.
func (s *compareServer) dataBytes() (int64, error) {
	dir := filepath.Join(s.dir, "data")
	if s.kind == "ejabberd" {
		dir = filepath.Join(s.dir, "spool")
	}
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		fi, err := e.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("xmppbench: compare: measuring %s: %w", dir, err)
	}
	return n, nil
}

// firstLogin logs in user1 over and over until a login completes (through
// bind and initial presence) and returns the time from the start of the
// server until then. A listening port is not enough: xmppd accepts
// connections while it rebuilds its views and serves them once ready.
func (s *compareServer) firstLogin(ctx context.Context) (time.Duration, error) {
	c := &config{addr: s.addr(), domain: s.domain, mech: "SCRAM-SHA-1", startTLS: true, insecure: true, timeout: 5 * time.Second}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ss, err := login(ctx, c.clientConfig(), "user1", "pass1", "ready", loginSteps{presence: true, sync: true})
		if err == nil {
			ready := time.Since(s.startedAt)
			ss.close(time.Second)
			return ready, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return 0, fmt.Errorf("xmppbench: compare: %s started but user1 could not log in within 2 minutes: %w", s.kind, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
