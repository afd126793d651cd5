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

// smChatResources are the two resources every account of chat-sm binds.
var smChatResources = [2]string{"sm-a", "sm-b"}

// smChatter is one session of chat-sm: resource r of account a. Its
// sender goroutine writes sent; its reader goroutine writes the rest.
// Both are read after the two have stopped.
type smChatter struct {
	s        *session
	acct, r  int
	bare     string
	inflight chan struct{} // a token per message sent and not yet delivered to its addressee

	sent             int64
	direct, inWindow int64 // messages addressed to this resource
	sentCC, recvCC   int64 // carbons: <sent/> (our other resource sent), <received/> (our other resource got)
	ccInWindow       int64
	lat, ccLat       samples
	bad, bounced     int64
	forged           int64
}

// runChatSM is chat with XEP-0198 and XEP-0280 on: every account binds two
// resources, each enabling stream management with resumption and carbons
// after its initial presence. Pairs of accounts chat (0 with 1, 2 with 3,
// ...), resource sm-a to the partner's sm-a and sm-b to sm-b, each to a
// full JID with at most --window undelivered. XEP-0280 section 6 then
// makes three deliveries of every message: to the addressed resource, a
// <received/> carbon to the addressee's other resource and a <sent/>
// carbon to the sender's other resource. Clients answer the server's
// <r/> and ask for an ack every smRequestEvery stanzas.
//
// ops are direct deliveries in the measured phase; carbons are counted
// apart (figures carbons, carbons_per_s); latency is the direct
// delivery's, the carbons' is in more_latency. Every session's three
// counts are checked against what the sessions that feed it sent.
func runChatSM(ctx context.Context, c *config, log io.Writer) (*result, error) {
	res := newResult("message")
	cc := c.clientConfig()
	errs := newErrCounter()
	ss, _ := loginAll(ctx, cc, 2*c.users, c.concurrency, func(i int) (account, string) {
		return c.account(i / 2), smChatResources[i%2]
	}, loginSteps{roster: true, presence: true, sync: true, sm: true, resume: true, carbons: true}, errs, log)
	defer closeAll(ss)
	for i, s := range ss {
		if s == nil {
			res.takeErrors(errs)
			return res, fmt.Errorf("xmppbench: chat-sm: logging in %s/%s failed; the run needs every session", c.bare(i/2), smChatResources[i%2])
		}
	}
	// Session 2a+r is resource r of account a; its addressee is resource r
	// of the partner a^1, its other resource 2a+(1-r).
	users := make([]*smChatter, len(ss))
	for i, s := range ss {
		users[i] = &smChatter{s: s, acct: i / 2, r: i % 2, bare: c.bare(i / 2), inflight: make(chan struct{}, c.window)}
	}
	addressee := func(i int) int { return i ^ 2 } // same resource, partner account
	other := func(i int) int { return i ^ 1 }     // same account, other resource

	base := time.Now()
	var readers sync.WaitGroup
	var direct, carbons, bouncedAll atomic.Int64
	for i, u := range users {
		from := users[addressee(i)] // direct messages here come from the partner's same resource
		readers.Go(func() {
			err := u.s.readLoop(func(e elem) {
				if !e.is("message") {
					return
				}
				if e.attr("type") == "error" {
					u.bounced++
					bouncedAll.Add(1)
					select {
					case <-u.inflight:
					default:
					}
					return
				}
				now := time.Since(base)
				kind := classifyCarbon(e, u.bare)
				if kind == carbonForged {
					u.forged++
					return
				}
				body, _ := e.childText("body")
				sentAt, err := strconv.ParseInt(strings.TrimSpace(body), 10, 64)
				if err != nil {
					u.bad++
					return
				}
				if kind != deliveredDirect {
					if kind == carbonSent {
						u.sentCC++
					} else {
						u.recvCC++
					}
					u.ccLat.add(now - time.Duration(sentAt))
					if now < c.duration {
						u.ccInWindow++
					}
					carbons.Add(1)
					return
				}
				u.lat.add(now - time.Duration(sentAt))
				u.direct++
				if now < c.duration {
					u.inWindow++
				}
				direct.Add(1)
				select {
				case <-from.inflight:
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
		senders[i] = chatSender{u.s, u.inflight, escapeXML(users[addressee(i)].s.jid), &u.sent}
	}
	runChatSenders(ctx, c, base, senders, log, "chat-sm", func() string {
		return fmt.Sprintf("%d delivered, %d carbons, %d errors", direct.Load(), carbons.Load(), errs.count())
	}, errs)

	// Drain: every message makes one direct delivery and two carbons.
	var sent int64
	for _, u := range users {
		sent += u.sent
	}
	drainUntil := time.Now().Add(c.timeout)
	for direct.Load()+carbons.Load()+bouncedAll.Load() < 3*sent && time.Now().Before(drainUntil) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	// A last ack round trip on every session, so that each <r/> has had
	// its chance to be answered before the counts are checked.
	for _, u := range users {
		if err := u.s.requestAck(); err != nil {
			errs.add(failed("send", err))
		}
	}
	ackUntil := time.Now().Add(min(c.timeout, 5*time.Second))
	for smUnanswered(users) > 0 && time.Now().Before(ackUntil) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	shutdownAll(ss, min(c.timeout, 2*time.Second))
	readers.Wait()

	var inWindow, ccInWindow, got, ccGot, bad, bounced, forged int64
	var lostDirect, lostCC, extra int64
	all, ccAll := &samples{}, &samples{}
	var requests, answered, tooHigh, serverRs int64
	var unanswered int
	var ackSample string
	for i, u := range users {
		inWindow += u.inWindow
		ccInWindow += u.ccInWindow
		got += u.direct
		ccGot += u.sentCC + u.recvCC
		bad += u.bad
		bounced += u.bounced
		forged += u.forged
		all.merge(&u.lat)
		ccAll.merge(&u.ccLat)
		// What this resource should have had: the direct messages its
		// addressee-partner sent (less what bounced back to that sender),
		// a <sent/> copy of what its other resource sent, a <received/>
		// copy of what the partner's other resource sent to it.
		from, sib, sibFrom := users[addressee(i)], users[other(i)], users[addressee(other(i))]
		for _, n := range [...]struct {
			want, got int64
			lost      *int64
		}{
			{from.sent - from.bounced, u.direct, &lostDirect},
			{sib.sent - sib.bounced, u.sentCC, &lostCC},
			{sibFrom.sent - sibFrom.bounced, u.recvCC, &lostCC},
		} {
			*n.lost += max(0, n.want-n.got)
			extra += max(0, n.got-n.want)
		}
		ck := &u.s.sm.checks
		requests += ck.requests.Load()
		answered += ck.answered.Load()
		tooHigh += ck.tooHigh.Load()
		serverRs += ck.serverRs.Load()
		unanswered += u.s.sm.unanswered()
		if m := ck.badAckMsg.Load(); m != nil && ackSample == "" {
			ackSample = *m
		}
	}
	res.measured(inWindow, c.duration)
	res.Latency = all.summarize()
	res.MoreLatency = map[string]latencySummary{"carbon": ccAll.summarize()}
	res.Figures["sessions"] = float64(len(users))
	res.Figures["sent"] = float64(sent)
	res.Figures["delivered"] = float64(got)
	res.Figures["carbons"] = float64(ccGot)
	res.Figures["carbons_in_window"] = float64(ccInWindow)
	res.Figures["carbons_per_s"] = roundTo(float64(ccInWindow)/c.duration.Seconds(), 1)
	res.Figures["window"] = float64(c.window)
	res.Figures["sm_requests"] = float64(requests)
	res.Figures["sm_requests_answered"] = float64(answered)
	res.Figures["sm_server_requests_answered"] = float64(serverRs)
	if c.rate > 0 {
		res.Figures["offered_rate"] = c.rate
	}
	errs.addKind("bounced", bounced, fmt.Sprintf("%d messages returned as errors", bounced))
	errs.addKind("lost", lostDirect, fmt.Sprintf("%d of %d messages not delivered to the addressed resource within --timeout after the run", lostDirect, sent))
	errs.addKind("lost-carbon", lostCC, fmt.Sprintf("%d of %d carbons missing within --timeout after the run", lostCC, 2*sent))
	errs.addKind("duplicate", extra, fmt.Sprintf("%d deliveries or carbons more than were sent", extra))
	errs.addKind("forged-carbon", forged, "carbons not from the account's bare JID")
	errs.addKind("foreign-body", bad, "")
	errs.addKind("sm-ack", tooHigh, ackSample)
	errs.addKind("sm-unanswered", int64(unanswered), fmt.Sprintf("%d of %d <r/> never covered by an <a h/>", unanswered, requests))
	res.takeErrors(errs)
	return res, nil
}

// smUnanswered is how many of the clients' <r/> are not yet answered.
func smUnanswered(users []*smChatter) int {
	n := 0
	for _, u := range users {
		n += u.s.sm.unanswered()
	}
	return n
}
