package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// runSMResume measures XEP-0198 resumption (section 5). --sessions
// sessions (accounts reused round-robin, each with its own resource)
// log in and enable stream management with resumption. Then, for
// --duration, --concurrency workers each take their share of the
// sessions in turn: cut the session's TCP connection under TLS, as a
// network failure would (no </stream:stream>, no TLS close_notify),
// connect again, authenticate and send <resume/>. One operation is one
// <resumed/>, its latency from the new TCP connect to <resumed/>; a
// <failed/> is an error and the session is dropped. A resumption under
// way when --duration ends is finished (and counted), so every session
// that was cut is resumed and then closed politely. After each
// resumption the worker sends <r/> and waits for its <a/>, so a session
// that says it resumed but does not work is caught too.
//
// A session is owned by one worker, which does all its reading: there
// is no read loop in this scenario.
func runSMResume(ctx context.Context, c *config, log io.Writer) (*result, error) {
	res := newResult("resumption")
	res.Concurrency = c.concurrency
	cc := c.clientConfig()
	errs := newErrCounter()
	n := c.sessions
	if n == 0 {
		n = c.users
	}
	acct := func(i int) account { return c.account(i % c.users) }
	ss, _ := loginAll(ctx, cc, n, c.concurrency, func(i int) (account, string) {
		return acct(i), fmt.Sprintf("resume-%d", i)
	}, loginSteps{roster: true, presence: true, sync: true, sm: true, resume: true}, errs, log)
	var mu sync.Mutex // guards ss for closeAll at the end; each slot is its worker's
	defer func() { mu.Lock(); closeAll(ss); mu.Unlock() }()
	var idx []int
	for i, s := range ss {
		if s != nil {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		res.takeErrors(errs)
		return res, fmt.Errorf("xmppbench: sm-resume: no session logged in")
	}

	conc := min(c.concurrency, len(idx))
	lats := make([]samples, conc)
	var done, failedN atomic.Int64
	end := time.Now().Add(c.duration)
	runCtx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	stop := startProgress(log, "sm-resume", func() string {
		return fmt.Sprintf("%d resumed, %d errors", done.Load(), errs.count())
	})
	start := time.Now()
	var workers sync.WaitGroup
	for w := range conc {
		workers.Go(func() {
			mine := []int{}
			for k := w; k < len(idx); k += conc {
				mine = append(mine, idx[k])
			}
			for k := 0; len(mine) > 0 && time.Now().Before(end) && runCtx.Err() == nil; k++ {
				j := k % len(mine)
				i := mine[j]
				mu.Lock()
				old := ss[i]
				mu.Unlock()
				old.raw.Close() // the cut: TCP gone, no stream or TLS close
				t0 := time.Now()
				a := acct(i)
				// Not runCtx: a session cut must be resumed even when the
				// measured phase ends meanwhile, or it would wait out the
				// server's resumption timeout.
				s, err := resumeSession(ctx, cc, a.user, a.password, old)
				if err == nil {
					lats[w].add(time.Since(t0))
					err = s.ackRoundTrip(time.Now().Add(c.timeout))
				}
				mu.Lock()
				ss[i] = s // nil when it failed: closed, nothing more to do with it
				mu.Unlock()
				if err != nil {
					errs.add(err)
					failedN.Add(1)
					if s != nil {
						s.conn.Close()
						mu.Lock()
						ss[i] = nil
						mu.Unlock()
					}
					mine = append(mine[:j], mine[j+1:]...)
					continue
				}
				done.Add(1)
			}
		})
	}
	workers.Wait()
	elapsed := time.Since(start)
	stop()

	// End the streams that are left politely: a resumable session cut
	// here would wait out the server's resumption timeout.
	var closers sync.WaitGroup
	mu.Lock()
	live := 0
	for _, s := range ss {
		if s != nil {
			live++
			closers.Go(func() { s.close(min(c.timeout, 2*time.Second)) })
		}
	}
	mu.Unlock()
	closers.Wait()

	all := &samples{}
	for i := range lats {
		all.merge(&lats[i])
	}
	res.measured(done.Load(), elapsed)
	res.Latency = all.summarize()
	res.Figures["sessions_wanted"] = float64(n)
	res.Figures["sessions_resumable"] = float64(len(idx))
	res.Figures["sessions_at_end"] = float64(live)
	res.Figures["resume_failed"] = float64(failedN.Load())
	res.takeErrors(errs)
	return res, nil
}

// ackRoundTrip sends <r/> and reads, answering what needs answering,
// until an <a/> covers it or deadline passes.
func (s *session) ackRoundTrip(deadline time.Time) error {
	if err := s.conn.SetDeadline(deadline); err != nil {
		return failed("resume-ack", err)
	}
	if err := s.requestAck(); err != nil {
		return failed("resume-ack", err)
	}
	for s.sm.unanswered() > 0 {
		e, nonza, err := s.readSM()
		if err != nil {
			return failed("resume-ack", err)
		}
		if !nonza {
			if e.is("error") {
				return failed("resume-ack", fmt.Errorf("stream error: %.200s", e.raw))
			}
			s.answerIQ(e)
		}
	}
	if m := s.sm.checks.badAckMsg.Load(); m != nil {
		return failed("sm-ack", fmt.Errorf("%s", *m))
	}
	return s.conn.SetDeadline(time.Time{})
}
