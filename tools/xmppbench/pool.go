package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// loginAll logs in n sessions with conc connectors at a time. who names
// the account and resource of session i. It returns the sessions (nil
// where the login failed, counted in errs) and the login latencies.
func loginAll(ctx context.Context, cc *clientConfig, n, conc int, who func(i int) (account, string),
	steps loginSteps, errs *errCounter, log io.Writer) ([]*session, *samples) {
	out := make([]*session, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	lats := make([]samples, min(conc, n))
	var done atomic.Int64
	stop := startProgress(log, "logging in", func() string { return fmt.Sprintf("%d/%d", done.Load(), n) })
	for w := range lats {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				acct, res := who(i)
				t0 := time.Now()
				s, err := login(ctx, cc, acct.user, acct.password, res, steps)
				if err != nil {
					errs.add(err)
					continue
				}
				lats[w].add(time.Since(t0))
				out[i] = s
				done.Add(1)
			}
		})
	}
	wg.Wait()
	stop()
	all := &samples{}
	for i := range lats {
		all.merge(&lats[i])
	}
	return out, all
}

// readLoop hands every top-level element to handle until the stream
// ends, answering the server's IQ requests on the way. The element is
// valid only during the call. Only a close the benchmark started returns
// nil: a server that ends the stream mid-run has failed the session.
func (s *session) readLoop(handle func(e elem)) error {
	for {
		e, err := s.read()
		if err != nil {
			if s.closing.Load() {
				return nil // the end the benchmark asked for
			}
			return failed("read", err)
		}
		if s.answerIQ(e) {
			continue
		}
		if e.is("error") {
			return failed("stream", fmt.Errorf("stream error: %.200s", e.raw))
		}
		handle(e)
	}
}

// shutdownAll ends the streams of sessions whose read loops are running
// and bounds their reads by wait, so every read loop returns: at the
// server's </stream:stream>, or at the deadline. The caller waits for the
// loops, then calls closeAll.
func shutdownAll(ss []*session, wait time.Duration) {
	// The deadline comes first so that a write to a server that stopped
	// reading cannot block the shutdown either.
	deadline := time.Now().Add(wait)
	for _, s := range ss {
		if s != nil {
			s.closing.Store(true)
			s.conn.SetDeadline(deadline)
			s.send("</stream:stream>")
		}
	}
}

// closeAll closes the connections of sessions.
func closeAll(ss []*session) {
	for _, s := range ss {
		if s != nil {
			s.conn.Close()
		}
	}
}
