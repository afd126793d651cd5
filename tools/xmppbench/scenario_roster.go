package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// runRoster has --concurrency sessions of the hub account, each with its
// own resource, fetch the roster back to back for --duration, and checks
// each answer holds at least --items items.
func runRoster(ctx context.Context, c *config, log io.Writer) (*result, error) {
	res := newResult("roster-get")
	res.Concurrency = c.concurrency
	cc := c.clientConfig()
	errs := newErrCounter()
	hub := c.account(c.hub)
	// No initial presence: an unavailable session gets no presence
	// traffic, so every read is the answer to the worker's own request.
	ss, _ := loginAll(ctx, cc, c.concurrency, c.concurrency, func(i int) (account, string) {
		return hub, fmt.Sprintf("roster-%d", i)
	}, loginSteps{}, errs, log)
	defer closeAll(ss)
	for _, s := range ss {
		if s == nil {
			res.takeErrors(errs)
			return res, fmt.Errorf("xmppbench: roster: logging in %s failed", c.bare(c.hub))
		}
	}
	runCtx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	var ops, seq atomic.Int64
	var items atomic.Int64
	lats := make([]samples, len(ss))
	var wg sync.WaitGroup
	stop := startProgress(log, "roster", func() string { return fmt.Sprintf("%d gets", ops.Load()) })
	start := time.Now()
	for i, s := range ss {
		wg.Go(func() {
			for runCtx.Err() == nil {
				n := seq.Add(1)
				if c.count > 0 && n > c.count {
					return
				}
				s.conn.SetDeadline(time.Now().Add(c.timeout))
				t0 := time.Now()
				got, err := s.rosterGet("g" + strconv.FormatInt(n, 10))
				if err != nil {
					errs.add(err)
					return // the stream is in an unknown state
				}
				lats[i].add(time.Since(t0))
				ops.Add(1)
				items.Store(int64(got))
				if got < c.items {
					errs.addKind("short-roster", 1, fmt.Sprintf("roster had %d items, want at least %d", got, c.items))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stop()
	for _, s := range ss {
		s.close(min(c.timeout, 2*time.Second))
	}
	all := &samples{}
	for i := range lats {
		all.merge(&lats[i])
	}
	res.measured(ops.Load(), elapsed)
	res.Latency = all.summarize()
	res.Figures["roster_items"] = float64(items.Load())
	res.takeErrors(errs)
	return res, nil
}
