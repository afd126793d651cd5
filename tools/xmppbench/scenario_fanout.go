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

// fanoutRound tracks the deliveries of one presence change.
type fanoutRound struct {
	mu      sync.Mutex
	n       int
	sentAt  time.Duration
	arrived int
	last    time.Duration
	done    chan struct{} // closed when every contact has it
}

// arrive records one contact's delivery at now (since the run's base).
func (r *fanoutRound) arrive(now time.Duration, contacts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.arrived++
	r.last = max(r.last, now)
	if r.arrived == contacts {
		close(r.done)
	}
}

// runFanout has the hub account (--hub) change its presence in rounds
// while every other account, subscribed to it both ways (run subscribe
// first), is online. A round ends when every contact has the new
// presence, or after --timeout; the next starts at once. The status text
// carries the round and its send time.
func runFanout(ctx context.Context, c *config, log io.Writer) (*result, error) {
	res := newResult("delivery")
	cc := c.clientConfig()
	errs := newErrCounter()
	contacts := c.users - 1
	idx := func(i int) int { // session i -> account index; session 0 is the hub
		if i == 0 {
			return c.hub
		}
		if i <= c.hub {
			return i - 1
		}
		return i
	}
	// Contacts first, so the hub's own login probes them and its read
	// loop sees every contact's presence: the sign that routing settled.
	ss, _ := loginAll(ctx, cc, contacts, c.concurrency, func(i int) (account, string) {
		return c.account(idx(i + 1)), "fanout"
	}, loginSteps{roster: true, presence: true, sync: true}, errs, log)
	defer closeAll(ss)
	for _, s := range ss {
		if s == nil {
			res.takeErrors(errs)
			return res, fmt.Errorf("xmppbench: fanout: a contact could not log in; the run needs every account")
		}
	}
	hub, err := login(ctx, cc, c.account(c.hub).user, c.account(c.hub).password, "fanout", loginSteps{roster: true})
	if err != nil {
		return res, fmt.Errorf("xmppbench: fanout: hub login: %w", err)
	}
	all := append([]*session{hub}, ss...)
	defer hub.conn.Close()

	hubBare := c.bare(c.hub)
	base := time.Now()
	var current atomic.Pointer[fanoutRound]
	lats := make([]samples, len(ss))
	var readers sync.WaitGroup
	for i, s := range ss {
		readers.Go(func() {
			err := s.readLoop(func(e elem) {
				if !e.is("presence") || !strings.HasPrefix(e.attr("from"), hubBare) {
					return
				}
				now := time.Since(base)
				status, _ := e.childText("status")
				n, sentAt, ok := parseRoundStatus(status)
				r := current.Load()
				if !ok || r == nil || r.n != n {
					return // the hub's initial presence or a late round
				}
				lats[i].add(now - sentAt)
				r.arrive(now, contacts)
			})
			if err != nil {
				errs.add(err)
			}
		})
	}
	var seen atomic.Int64
	readers.Go(func() {
		err := hub.readLoop(func(e elem) {
			if e.is("presence") && e.attr("type") == "" && !strings.HasPrefix(e.attr("from"), hubBare) {
				seen.Add(1)
			}
		})
		if err != nil {
			errs.add(err)
		}
	})
	if err := hub.send("<presence/>"); err != nil {
		return res, fmt.Errorf("xmppbench: fanout: hub presence: %w", err)
	}
	settle := time.Now().Add(c.timeout)
	for seen.Load() < int64(contacts) && time.Now().Before(settle) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	res.Figures["contacts_online_seen_by_hub"] = float64(seen.Load())

	rounds := &samples{}
	var delivered int64
	stop := startProgress(log, "fanout", func() string { return fmt.Sprintf("%d rounds", len(rounds.d)) })
	measureStart := time.Now()
	for n := 1; time.Since(measureStart) < c.duration && ctx.Err() == nil; n++ {
		if c.count > 0 && int64(n) > c.count {
			break
		}
		r := &fanoutRound{n: n, done: make(chan struct{})}
		r.sentAt = time.Since(base)
		current.Store(r)
		status := "round " + strconv.Itoa(n) + " " + strconv.FormatInt(int64(r.sentAt), 10)
		if err := hub.send("<presence><status>" + status + "</status></presence>"); err != nil {
			errs.add(failed("send", err))
			break
		}
		timer := time.NewTimer(c.timeout)
		select {
		case <-r.done:
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
		r.mu.Lock()
		delivered += int64(r.arrived)
		if r.arrived == contacts {
			rounds.add(r.last - r.sentAt)
		} else {
			errs.addKind("missing", int64(contacts-r.arrived),
				fmt.Sprintf("round %d: %d of %d contacts got the presence within --timeout", n, r.arrived, contacts))
		}
		r.mu.Unlock()
	}
	elapsed := time.Since(measureStart)
	stop()
	current.Store(nil)
	shutdownAll(all, min(c.timeout, 2*time.Second))
	readers.Wait()

	perContact := &samples{}
	for i := range lats {
		perContact.merge(&lats[i])
	}
	res.measured(delivered, elapsed)
	res.Latency = perContact.summarize()
	res.MoreLatency = map[string]latencySummary{"round (all contacts)": rounds.summarize()}
	res.Figures["contacts"] = float64(contacts)
	res.Figures["complete_rounds"] = float64(len(rounds.d))
	res.takeErrors(errs)
	return res, nil
}

// parseRoundStatus reads "round N SENTNANOS".
func parseRoundStatus(s string) (int, time.Duration, bool) {
	f := strings.Fields(s)
	if len(f) != 3 || f[0] != "round" {
		return 0, 0, false
	}
	n, err1 := strconv.Atoi(f[1])
	t, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return n, time.Duration(t), true
}
