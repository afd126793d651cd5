package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// runIdle logs in --sessions sessions (accounts reused round-robin, each
// session with its own resource), holds them open for --duration, and
// reports the server's resident memory before, after login and at the
// end of the hold, per session. Memory is only as precise as VmRSS: run
// enough sessions (thousands) that per-session cost dwarfs allocator
// noise.
func runIdle(ctx context.Context, c *config, log io.Writer) (*result, error) {
	res := newResult("session")
	res.Concurrency = c.concurrency
	cc := c.clientConfig()
	errs := newErrCounter()
	n := c.sessions
	if n == 0 {
		n = c.users
	}
	var before int64
	if c.serverPID > 0 {
		var err error
		if before, err = readRSS(c.serverPID); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	ss, lat := loginAll(ctx, cc, n, c.concurrency, func(i int) (account, string) {
		return c.account(i % c.users), fmt.Sprintf("idle-%d", i)
	}, loginSteps{roster: c.presence, presence: c.presence, sync: true, sm: c.sm, resume: c.sm}, errs, log)
	loginTime := time.Since(start)
	defer closeAll(ss)
	var open []*session
	for _, s := range ss {
		if s != nil {
			open = append(open, s)
		}
	}
	var readers sync.WaitGroup
	for _, s := range open {
		readers.Go(func() {
			if err := s.readLoop(func(elem) {}); err != nil {
				errs.add(err)
			}
		})
	}
	res.measured(int64(len(open)), loginTime)
	res.Latency = lat.summarize()
	res.Figures["sessions_wanted"] = float64(n)
	res.Figures["sessions_open"] = float64(len(open))
	if c.sm {
		res.Figures["sm_resumable"] = 1
	}

	var afterLogin int64
	if c.serverPID > 0 {
		time.Sleep(min(time.Second, c.duration)) // let the server finish what each login queued
		afterLogin, _ = readRSS(c.serverPID)
	}
	stop := startProgress(log, "idle", func() string { return fmt.Sprintf("%d sessions held", len(open)) })
	select {
	case <-time.After(c.duration):
	case <-ctx.Done():
	}
	stop()
	if c.serverPID > 0 {
		end, err := readRSS(c.serverPID)
		if err != nil {
			errs.add(failed("rss", err))
		}
		res.Figures["server_rss_before_bytes"] = float64(before)
		res.Figures["server_rss_after_login_bytes"] = float64(afterLogin)
		res.Figures["server_rss_end_bytes"] = float64(end)
		if len(open) > 0 {
			res.Figures["server_rss_per_session_bytes"] = roundTo(float64(end-before)/float64(len(open)), 0)
		}
	}
	// Sessions still open at the end of the hold survived it.
	shutdownAll(open, min(c.timeout, 2*time.Second))
	readers.Wait()
	res.takeErrors(errs)
	return res, nil
}
