package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// runSubscribe makes the hub account and every other account subscribe
// to each other, over XMPP only, so it works on any server: every session
// approves any subscription request it gets, the hub asks each contact
// and each contact asks the hub. It then polls the hub's roster until
// every contact shows subscription "both", or --timeout passes. Running
// it again is harmless.
func runSubscribe(ctx context.Context, c *config, log io.Writer) (*result, error) {
	res := newResult("subscription")
	cc := c.clientConfig()
	errs := newErrCounter()
	contacts := c.users - 1
	others := make([]int, 0, contacts)
	for i := range c.users {
		if i != c.hub {
			others = append(others, i)
		}
	}
	ss, _ := loginAll(ctx, cc, c.users, c.concurrency, func(i int) (account, string) {
		return c.account(i), "subscribe"
	}, loginSteps{roster: true, presence: true, sync: true}, errs, log)
	defer closeAll(ss)
	for i, s := range ss {
		if s == nil {
			res.takeErrors(errs)
			return res, fmt.Errorf("xmppbench: subscribe: logging in %s failed", c.bare(i))
		}
	}
	hub := ss[c.hub]
	var both atomic.Int64
	var readers sync.WaitGroup
	for i, s := range ss {
		readers.Go(func() {
			err := s.readLoop(func(e elem) {
				switch {
				case e.is("presence") && e.attr("type") == "subscribe":
					from := bareOf(e.attr("from"))
					s.send("<presence type='subscribed' to='" + escapeXML(from) + "'/>")
				case i == c.hub && e.is("iq") && e.attr("type") == "result" && strings.HasPrefix(e.attr("id"), "chk"):
					n := bytes.Count(e.raw, []byte(`subscription='both'`)) + bytes.Count(e.raw, []byte(`subscription="both"`))
					both.Store(int64(n))
				}
			})
			if err != nil {
				errs.add(err)
			}
		})
	}
	start := time.Now()
	for _, o := range others {
		if err := hub.send("<presence type='subscribe' to='" + escapeXML(c.bare(o)) + "'/>"); err != nil {
			errs.add(failed("send", err))
		}
		if err := ss[o].send("<presence type='subscribe' to='" + escapeXML(c.bare(c.hub)) + "'/>"); err != nil {
			errs.add(failed("send", err))
		}
	}
	stop := startProgress(log, "subscribe", func() string { return fmt.Sprintf("%d/%d mutual", both.Load(), contacts) })
	deadline := time.Now().Add(c.timeout)
	for n := 0; both.Load() < int64(contacts) && time.Now().Before(deadline) && ctx.Err() == nil; n++ {
		hub.send("<iq type='get' id='chk" + strconv.Itoa(n) + "'><query xmlns='" + nsRoster + "'/></iq>")
		time.Sleep(250 * time.Millisecond)
	}
	stop()
	elapsed := time.Since(start)
	shutdownAll(ss, min(c.timeout, 2*time.Second))
	readers.Wait()
	res.measured(both.Load(), elapsed)
	res.Figures["contacts"] = float64(contacts)
	errs.addKind("not-mutual", int64(contacts)-both.Load(),
		fmt.Sprintf("%d of %d contacts not subscribed both ways after --timeout", int64(contacts)-both.Load(), contacts))
	res.takeErrors(errs)
	if both.Load() < int64(contacts) {
		return res, fmt.Errorf("xmppbench: subscribe: only %d of %d contacts subscribed both ways", both.Load(), contacts)
	}
	return res, nil
}

// bareOf strips the resource from a JID.
func bareOf(j string) string {
	if i := strings.IndexByte(j, '/'); i >= 0 {
		return j[:i]
	}
	return j
}
