package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// runFillRoster adds --items roster items (benchitemN@domain) to the hub
// account with roster sets, --window of them in flight, and reports the
// rate and latency of the sets. Items that exist already are updated in
// place, so running it again is harmless.
func runFillRoster(ctx context.Context, c *config, log io.Writer) (*result, error) {
	res := newResult("roster-set")
	cc := c.clientConfig()
	errs := newErrCounter()
	hub := c.account(c.hub)
	s, err := login(ctx, cc, hub.user, hub.password, "fill-roster", loginSteps{roster: true})
	if err != nil {
		return res, fmt.Errorf("xmppbench: fill-roster: %w", err)
	}
	defer s.conn.Close()
	window := make(chan struct{}, c.window)
	sentAt := make([]atomic.Int64, c.items)
	base := time.Now()
	lat := &samples{}
	var okCount, replies atomic.Int64
	var reader sync.WaitGroup
	reader.Go(func() {
		err := s.readLoop(func(e elem) {
			id := e.attr("id")
			if !e.is("iq") || !strings.HasPrefix(id, "f") {
				return
			}
			n, err := strconv.Atoi(id[1:])
			if err != nil || n < 0 || n >= len(sentAt) {
				return
			}
			if e.attr("type") == "result" {
				lat.add(time.Since(base) - time.Duration(sentAt[n].Load()))
				okCount.Add(1)
			} else {
				errs.addKind("roster-set", 1, fmt.Sprintf("%.300s", e.raw))
			}
			replies.Add(1)
			<-window
		})
		if err != nil {
			errs.add(err)
		}
	})
	stop := startProgress(log, "fill-roster", func() string { return fmt.Sprintf("%d/%d", replies.Load(), c.items) })
	domain := escapeXML(c.domain)
	for i := 0; i < c.items && ctx.Err() == nil; i++ {
		select {
		case window <- struct{}{}:
		case <-ctx.Done():
		case <-time.After(c.timeout):
			errs.addKind("timeout", 1, "no roster set answered within --timeout")
		}
		sentAt[i].Store(int64(time.Since(base)))
		n := strconv.Itoa(i)
		if err := s.send("<iq type='set' id='f" + n + "'><query xmlns='" + nsRoster + "'><item jid='benchitem" + n +
			"@" + domain + "' name='Bench item " + n + "'/></query></iq>"); err != nil {
			errs.add(failed("send", err))
			break
		}
	}
	deadline := time.Now().Add(c.timeout)
	for replies.Load() < int64(c.items) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(base)
	stop()
	shutdownAll([]*session{s}, min(c.timeout, 2*time.Second))
	reader.Wait()
	res.measured(okCount.Load(), elapsed)
	res.Latency = lat.summarize()
	errs.addKind("unanswered", int64(c.items)-replies.Load(), "")
	res.takeErrors(errs)
	return res, nil
}
