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

// chatUser is one side of a chat pair. Its counters and samples are
// written only by its own reader goroutine (received) or sender goroutine
// (sent), and read after both have stopped.
type chatUser struct {
	s        *session
	inflight chan struct{} // a token per message sent and not yet delivered
	sent     int64
	got      int64 // delivered to this user
	inWindow int64 // of which delivered during the measured phase
	lat      samples
	bad      int64 // messages whose body was not ours
	bounced  int64 // own messages returned as errors
}

// runChat logs in --users accounts, pairs them (0 with 1, 2 with 3, ...)
// and has each user send chat messages to its partner's bare JID, with
// at most --window undelivered at a time and, with --rate, paced to a
// total offered rate. The body carries the send time, so the receiver
// measures end-to-end latency on the same clock.
func runChat(ctx context.Context, c *config, log io.Writer) (*result, error) {
	res := newResult("message")
	cc := c.clientConfig()
	errs := newErrCounter()
	ss, _ := loginAll(ctx, cc, c.users, c.concurrency, func(i int) (account, string) {
		return c.account(i), "chat"
	}, loginSteps{roster: true, presence: true, sync: true}, errs, log)
	defer closeAll(ss)
	for i, s := range ss {
		if s == nil {
			res.takeErrors(errs)
			return res, fmt.Errorf("xmppbench: chat: logging in %s failed; the run needs every account", c.bare(i))
		}
	}
	users := make([]*chatUser, len(ss))
	for i, s := range ss {
		users[i] = &chatUser{s: s, inflight: make(chan struct{}, c.window)}
	}

	base := time.Now()
	var readers sync.WaitGroup
	var delivered, bouncedAll atomic.Int64
	for i, u := range users {
		sender := users[i^1] // messages arriving here come from the partner
		readers.Go(func() {
			err := u.s.readLoop(func(e elem) {
				if !e.is("message") {
					return
				}
				if e.attr("type") == "error" {
					// Our own message, bounced: it frees our window.
					u.bounced++
					bouncedAll.Add(1)
					select {
					case <-u.inflight:
					default:
					}
					return
				}
				now := time.Since(base)
				body, _ := e.childText("body")
				sentAt, err := parseStamp(body)
				if err != nil {
					u.bad++
					return
				}
				u.lat.add(now - sentAt)
				u.got++
				if now < c.duration {
					u.inWindow++
				}
				delivered.Add(1)
				select {
				case <-sender.inflight:
				default: // a duplicate delivery holds no token
				}
			})
			if err != nil {
				errs.add(err)
			}
		})
	}

	senders := make([]chatSender, len(users))
	for i, u := range users {
		senders[i] = chatSender{u.s, u.inflight, escapeXML(c.bare(i ^ 1)), &u.sent}
	}
	runChatSenders(ctx, c, base, senders, log, "chat", func() string {
		return fmt.Sprintf("%d delivered, %d errors", delivered.Load(), errs.count())
	}, errs)

	// Drain: give messages in flight up to --timeout to arrive.
	var sent int64
	for _, u := range users {
		sent += u.sent
	}
	drainUntil := time.Now().Add(c.timeout)
	for delivered.Load()+bouncedAll.Load() < sent && time.Now().Before(drainUntil) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	shutdownAll(ss, min(c.timeout, 2*time.Second))
	readers.Wait()

	var got, inWindow, bad, bounced int64
	all := &samples{}
	for _, u := range users {
		got += u.got
		inWindow += u.inWindow
		bad += u.bad
		bounced += u.bounced
		all.merge(&u.lat)
	}
	res.measured(inWindow, c.duration)
	res.Latency = all.summarize()
	res.Figures["sent"] = float64(sent)
	res.Figures["delivered"] = float64(got)
	res.Figures["window"] = float64(c.window)
	if c.rate > 0 {
		res.Figures["offered_rate"] = c.rate
	}
	errs.addKind("bounced", bounced, fmt.Sprintf("%d messages returned as errors", bounced))
	lost := sent - got - bounced
	errs.addKind("lost", lost, fmt.Sprintf("%d of %d messages neither delivered nor bounced within --timeout after the run", lost, sent))
	errs.addKind("foreign-body", bad, "")
	res.takeErrors(errs)
	return res, nil
}

// chatSender is one sender of a chat scenario: its session, its in-flight
// tokens, the escaped JID it writes to, and where its count goes.
type chatSender struct {
	s        *session
	inflight chan struct{}
	to       string
	sent     *int64
}

// runChatSenders is a chat scenario's measured phase: every sender sends
// (chatSend) until --duration from base or --count, paced to --rate in
// all, while the progress line shows status.
func runChatSenders(ctx context.Context, c *config, base time.Time, senders []chatSender, log io.Writer, what string, status func() string, errs *errCounter) {
	runCtx, cancel := context.WithDeadline(ctx, base.Add(c.duration))
	defer cancel()
	var interval time.Duration
	if c.rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(len(senders)) / c.rate)
	}
	var budget atomic.Int64
	budget.Store(c.count)
	var wg sync.WaitGroup
	stop := startProgress(log, what, status)
	for _, sd := range senders {
		wg.Go(func() {
			*sd.sent = chatSend(runCtx, sd.s, sd.inflight, sd.to, base, interval, c.count > 0, &budget, errs)
		})
	}
	wg.Wait()
	stop()
}

// chatSend sends chat messages from s to the JID to until ctx ends, one
// inflight token each, and returns how many. With limited set it also
// stops when budget (shared by all senders) runs out. With stream
// management on, each counts and every smRequestEvery-th asks for an ack.
func chatSend(ctx context.Context, s *session, inflight chan struct{}, to string, base time.Time, interval time.Duration,
	limited bool, budget *atomic.Int64, errs *errCounter) int64 {
	var sent int64
	prefix := "<message type='chat' to='" + to + "'><body>"
	next := time.Now()
	var timer *time.Timer
	for {
		select {
		case inflight <- struct{}{}:
		case <-ctx.Done():
			return sent
		}
		if limited && budget.Add(-1) < 0 {
			return sent
		}
		if interval > 0 {
			next = next.Add(interval)
			if wait := time.Until(next); wait > 0 {
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				select {
				case <-timer.C:
				case <-ctx.Done():
					return sent
				}
			} else if wait < -time.Second {
				next = time.Now() // fell far behind: do not burst to catch up
			}
		}
		stamp := strconv.FormatInt(int64(time.Since(base)), 10)
		if err := s.sendStanza(prefix + stamp + "</body></message>"); err != nil {
			errs.add(failed("send", err))
			return sent
		}
		sent++
	}
}
