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
	var items atomic.Int64
	err := runHubWorkers(ctx, c, res, log, "roster", func(s *session, n int64, errs *errCounter) error {
		got, err := s.rosterGet("g" + strconv.FormatInt(n, 10))
		if err != nil {
			return err
		}
		items.Store(int64(got))
		if got < c.items {
			errs.addKind("short-roster", 1, fmt.Sprintf("roster had %d items, want at least %d", got, c.items))
		}
		return nil
	})
	res.Figures["roster_items"] = float64(items.Load())
	return res, err
}

// runHubWorkers logs in --concurrency sessions of the --hub account, each
// with its own resource (what-N), and has each run op back to back for
// --duration (or until --count in all), timing each. An error from op
// ends that worker: its stream is in an unknown state. It fills res's
// count, rate, latency and errors.
//
// The sessions send no initial presence: an unavailable session gets no
// presence traffic, nor messages to the hub's bare JID, so every read
// belongs to the worker's own request.
func runHubWorkers(ctx context.Context, c *config, res *result, log io.Writer, what string,
	op func(s *session, n int64, errs *errCounter) error) error {
	res.Concurrency = c.concurrency
	errs := newErrCounter()
	defer res.takeErrors(errs)
	hub := c.account(c.hub)
	ss, _ := loginAll(ctx, c.clientConfig(), c.concurrency, c.concurrency, func(i int) (account, string) {
		return hub, fmt.Sprintf("%s-%d", what, i)
	}, loginSteps{}, errs, log)
	defer closeAll(ss)
	for _, s := range ss {
		if s == nil {
			return fmt.Errorf("xmppbench: %s: logging in %s failed", what, c.bare(c.hub))
		}
	}
	runCtx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	var ops, seq atomic.Int64
	lats := make([]samples, len(ss))
	var wg sync.WaitGroup
	stop := startProgress(log, what, func() string { return fmt.Sprintf("%d done", ops.Load()) })
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
				if err := op(s, n, errs); err != nil {
					errs.add(err)
					return
				}
				lats[i].add(time.Since(t0))
				ops.Add(1)
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
	return nil
}
