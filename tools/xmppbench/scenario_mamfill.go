package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// runMAMFill is setup for mam-query: it fills the --hub account's message
// archive with --count messages as fast as the server takes them. Every
// other account of --users sends chat messages to the hub's bare JID,
// --window in flight each; the hub stays online (initial presence) and
// reads them, so they are delivered and archived on the way (XEP-0313
// section 7) rather than stored offline. It speaks only XMPP, so the same
// archive is built the same way on every server: how long that takes is
// its result (messages/s; the latency is each message's, end to end).
func runMAMFill(ctx context.Context, c *config, log io.Writer) (*result, error) {
	res := newResult("message")
	cc := c.clientConfig()
	errs := newErrCounter()
	hub, err := login(ctx, cc, c.account(c.hub).user, c.account(c.hub).password, "mam-fill",
		loginSteps{presence: true, sync: true})
	if err != nil {
		errs.add(err)
		res.takeErrors(errs)
		return res, fmt.Errorf("xmppbench: mam-fill: logging in the hub %s: %w", c.bare(c.hub), err)
	}
	senderIdx := make([]int, 0, c.users-1) // account index of each sender
	for i := range c.users {
		if i != c.hub {
			senderIdx = append(senderIdx, i)
		}
	}
	ss, _ := loginAll(ctx, cc, len(senderIdx), c.concurrency, func(i int) (account, string) {
		return c.account(senderIdx[i]), "mam-fill"
	}, loginSteps{}, errs, log)
	defer closeAll(append(ss, hub))
	bySender := make(map[string]chan struct{}, len(ss)) // bare JID -> in-flight tokens
	senders := make([]chatSender, len(ss))
	sentBy := make([]int64, len(ss))
	for i, s := range ss {
		if s == nil {
			res.takeErrors(errs)
			return res, fmt.Errorf("xmppbench: mam-fill: logging in %s failed; the run needs every account", c.bare(senderIdx[i]))
		}
		tokens := make(chan struct{}, c.window)
		bySender[c.bare(senderIdx[i])] = tokens
		senders[i] = chatSender{s, tokens, escapeXML(c.bare(c.hub)), &sentBy[i]}
	}

	base := time.Now()
	var delivered, bounced, bad atomic.Int64
	var lat samples
	readDone := make(chan error, 1)
	go func() {
		readDone <- hub.readLoop(func(e elem) {
			if !e.is("message") {
				return
			}
			if e.attr("type") == "error" {
				bounced.Add(1) // the hub sends nothing: not ours to free
				return
			}
			now := time.Since(base)
			from, _, _ := strings.Cut(e.attr("from"), "/")
			tokens := bySender[from]
			body, _ := e.childText("body")
			sentAt, err := parseStamp(body)
			if tokens == nil || err != nil {
				bad.Add(1)
				return
			}
			lat.add(now - sentAt)
			delivered.Add(1)
			select {
			case <-tokens:
			default:
			}
		})
	}()
	// The fill is bounded by --count; --duration is only its limit.
	runChatSenders(ctx, c, base, senders, log, "mam-fill", func() string {
		return fmt.Sprintf("%d of %d archived and delivered, %d errors", delivered.Load(), c.count, errs.count())
	}, errs)
	var sent int64
	for _, n := range sentBy {
		sent += n
	}
	drainUntil := time.Now().Add(c.timeout)
	for delivered.Load()+bad.Load() < sent && time.Now().Before(drainUntil) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(base)
	shutdownAll([]*session{hub}, min(c.timeout, 2*time.Second))
	if err := <-readDone; err != nil {
		errs.add(err)
	}
	shutdownAll(ss, min(c.timeout, 2*time.Second))

	res.measured(delivered.Load(), elapsed)
	res.Latency = lat.summarize()
	res.Concurrency = len(ss)
	res.Figures["sent"] = float64(sent)
	res.Figures["delivered"] = float64(delivered.Load())
	res.Figures["window"] = float64(c.window)
	errs.addKind("bounced", bounced.Load(), fmt.Sprintf("%d messages to the hub returned as errors", bounced.Load()))
	lost := sent - delivered.Load() - bounced.Load() - bad.Load()
	errs.addKind("lost", lost, fmt.Sprintf("%d of %d messages neither delivered nor bounced within --timeout after the run", lost, sent))
	errs.addKind("foreign-body", bad.Load(), "")
	if c.count > 0 && sent < c.count {
		errs.addKind("short-fill", c.count-sent, fmt.Sprintf("sent %d of --count %d within --duration", sent, c.count))
	}
	res.takeErrors(errs)
	return res, nil
}

// parseStamp reads the send time a chat body carries: the nanoseconds
// since the run's base time, as chatSend writes them.
func parseStamp(body string) (time.Duration, error) {
	ns, err := strconv.ParseInt(strings.TrimSpace(body), 10, 64)
	return time.Duration(ns), err
}
