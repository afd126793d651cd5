package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// runLogin measures complete logins: TCP, STARTTLS, SASL, bind, roster
// get and initial presence (a login's latency runs from the dial to the
// roster result, plus writing the presence), by --concurrency connectors looping over the
// accounts for --duration (or --count logins). Each session is closed
// politely in the background, so the connector starts its next login at
// once and the close does not count against login latency.
func runLogin(ctx context.Context, c *config, log io.Writer) (*result, error) {
	res := newResult("login")
	res.Concurrency = c.concurrency
	cc := c.clientConfig()
	errs := newErrCounter()
	var (
		next, okCount atomic.Int64
		workers       sync.WaitGroup
		closers       sync.WaitGroup
	)
	lats := make([]samples, c.concurrency)
	// Each login's steps, for a breakdown of where its time goes.
	steps := make([][len(loginPhaseNames)]samples, c.concurrency)
	end := time.Now().Add(c.duration)
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	closeWait := min(c.timeout, 2*time.Second)
	stop := startProgress(log, "login", func() string {
		return fmt.Sprintf("%d logins, %d errors", okCount.Load(), errs.count())
	})
	start := time.Now()
	for w := range lats {
		workers.Go(func() {
			// The clock, not ctx.Err, decides: a dial can hit the shared
			// deadline a moment before the context notices, and would
			// otherwise spin through instant failures until it does.
			for time.Now().Before(end) && ctx.Err() == nil {
				n := next.Add(1) - 1
				if c.count > 0 && n >= c.count {
					return
				}
				acct := c.account(int(n % int64(c.users)))
				t0 := time.Now()
				var ph loginPhases
				s, err := login(ctx, cc, acct.user, acct.password, fmt.Sprintf("login-%d", n), loginSteps{roster: true, presence: true, phases: &ph})
				if err != nil {
					if time.Now().Before(end) { // a login cut short by the end of the run is no error
						errs.add(err)
					}
					continue
				}
				lats[w].add(time.Since(t0))
				for i, d := range ph.durations() {
					steps[w][i].add(d)
				}
				okCount.Add(1)
				closers.Go(func() { s.close(closeWait) })
			}
		})
	}
	workers.Wait()
	elapsed := time.Since(start)
	stop()
	closers.Wait()
	all := &samples{}
	for i := range lats {
		all.merge(&lats[i])
	}
	res.measured(okCount.Load(), elapsed)
	res.Latency = all.summarize()
	res.MoreLatency = map[string]latencySummary{}
	for i, name := range loginPhaseNames {
		step := &samples{}
		for w := range steps {
			step.merge(&steps[w][i])
		}
		res.MoreLatency[name] = step.summarize()
	}
	res.takeErrors(errs)
	return res, nil
}

// loginPhaseNames name the steps of a login, in order, as reported in
// more_latency: TCP, stream and STARTTLS with the TLS handshake; SASL;
// the stream restart and resource binding; the roster get.
var loginPhaseNames = [...]string{"login step 1 connect+tls", "login step 2 sasl", "login step 3 bind", "login step 4 roster"}

// durations returns how long each step of a complete login took.
func (p *loginPhases) durations() [len(loginPhaseNames)]time.Duration {
	return [...]time.Duration{p.tls.Sub(p.start), p.auth.Sub(p.tls), p.bind.Sub(p.auth), p.roster.Sub(p.bind)}
}
