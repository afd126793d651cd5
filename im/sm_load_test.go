package im_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"xmppd/adapters/c2s"
	"xmppd/events"
	"xmppd/stanza"
)

// bodies counts the bodies of the messages c received.
func (c *client) bodies() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for _, el := range c.arrived {
		if b := el.Child("body", ""); el.Name.Local == "message" && b != nil {
			out[b.Text()]++
		}
	}
	return out
}

// XEP-0198 section 5 under load: 200 resumable sessions receive a steady
// stream of messages; every connection is cut at once, in the middle of
// it, and resumed from a new connection with the count each client had
// read. Every message reaches its client exactly once: none lost (what
// was written but not read is sent again), none twice (what was read is
// not).
func TestSMCutAndResume200UnderLoad_XEP0198_5(t *testing.T) {
	const (
		receivers = 200
		senders   = 4
		perPhase  = 10 // messages to each receiver before the cut, while cut, after resuming
	)
	e := newEnv(t)
	e.tune = func(c *c2s.Config) { c.StanzaRate = -1 }
	for i := range receivers {
		e.addUser(fmt.Sprintf("u%d", i))
	}
	for i := range senders {
		e.addUser(fmt.Sprintf("s%d", i))
	}
	e.start()
	rs := make([]*client, receivers)
	ids := make([]string, receivers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.login(fmt.Sprintf("u%d", i), "phone")
			c.smAck = true
			c.send(`<enable xmlns='urn:xmpp:sm:3' resume='true'/>`)
			id := c.expect(smElement("enabled")).Attr("id")
			mu.Lock()
			rs[i], ids[i] = c, id
			mu.Unlock()
		}()
	}
	ss := make([]*client, senders)
	for i := range senders {
		ss[i] = e.login(fmt.Sprintf("s%d", i), "pc")
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	to := func(i int) string { return fmt.Sprintf("u%d@localhost/phone", i) }
	// phase sends perPhase messages to every receiver, spread over the
	// senders, each message's body naming receiver, phase and number.
	phase := func(p int) {
		var wg sync.WaitGroup
		for s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range perPhase {
					for i := s; i < receivers; i += senders {
						fmt.Fprintf(ss[s].conn, `<message to='%s' type='chat'><body>%d-%d-%d</body></message>`, to(i), i, p, k)
					}
				}
			}()
		}
		wg.Wait()
	}
	load := make(chan struct{})
	go func() {
		defer close(load)
		phase(0)
	}()
	// Cut every receiver while phase 0 is under way.
	time.Sleep(20 * time.Millisecond)
	for _, c := range rs {
		c.conn.Close()
	}
	<-load
	hs := make([]uint32, receivers)
	for i, c := range rs {
		// What the client read before its reader stopped is what it
		// counts.
		c.waitClosed()
		c.mu.Lock()
		hs[i] = c.smIn
		c.mu.Unlock()
	}
	phase(1)
	e.eventually("200 sessions suspended", func() bool {
		n := 0
		for i := range receivers {
			_, ps := e.readStream(events.PresenceStream(fmt.Sprintf("u%d@localhost", i)))
			n += len(ofType[events.SessionSuspended](ps))
		}
		return n == receivers
	})
	resumed := make([]*client, receivers)
	for i := range receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, res := e.resume(fmt.Sprintf("u%d", i), ids[i], hs[i])
			if res.Name.Local != "resumed" {
				t.Errorf("u%d: resume: %s", i, res)
				return
			}
			c.smAck = true
			// The new stream carries on what the old one read.
			old := rs[i].bodies()
			c.mu.Lock()
			for b, n := range old {
				for range n {
					c.arrived = append(c.arrived, msgWithBody(b))
				}
			}
			c.mu.Unlock()
			mu.Lock()
			resumed[i] = c
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	phase(2)
	var read, resent, unacked int
	for i := range receivers {
		read += int(hs[i])
		_, ps := e.readStream(events.PresenceStream(fmt.Sprintf("u%d@localhost", i)))
		for _, r := range ofType[events.SessionResumed](ps) {
			resent += r.Resent
		}
		for _, r := range ofType[events.SessionSuspended](ps) {
			unacked += r.Unacked
		}
	}
	t.Logf("before the cut the clients had read %d stanzas; %d were unacknowledged at suspension and %d sent again", read, unacked, resent)
	want := 3 * perPhase
	deadline := time.Now().Add(4 * wait)
	for i, c := range resumed {
		for {
			got := c.bodies()
			if len(got) == want || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		roundTrip(c, "done")
		got := c.bodies()
		if len(got) != want {
			t.Errorf("u%d: %d distinct messages, want %d", i, len(got), want)
		}
		for b, n := range got {
			if n != 1 {
				t.Errorf("u%d: %q delivered %d times", i, b, n)
			}
		}
	}
}

func msgWithBody(body string) *stanza.Element {
	return stanza.New(stanza.NSClient, "message").AddChild(stanza.New(stanza.NSClient, "body").AddText(body))
}
