package c2s

import (
	"errors"
	"fmt"
	"os"
	"time"

	"xmppd/events"
)

// throttleGate asks the throttle how to answer this attempt by user ("",
// with refuseOnly, before the name is known). Refused is answered at once
// with <temporary-auth-failure/> (RFC 6120 section 6.5.12: "try again
// later") and the password is not checked. Delayed waits here, before the
// password is checked, on this connection's goroutine only: no lock is
// held and no other connection waits, and the negotiation deadline and
// shutdown still end the wait. What was decided is kept in c.throttled
// for the failed login's record.
func (c *conn) throttleGate(user string, refuseOnly bool) *saslError {
	v := c.srv.throttle.Check(c.ip, user)
	switch v.Decision {
	case events.ThrottleRefused:
		c.throttled = v
		c.srv.tmetrics.AuthThrottled(string(events.ThrottleRefused))
		c.srv.log.Debug("c2s: login refused by the throttle", "addr", c.addr, "user", truncate(user, 64), "reason", v.Reason)
		return failSASL("temporary-auth-failure", user, errors.New("throttled: "+v.Reason))
	case events.ThrottleDelayed:
		if v.Release != nil {
			defer v.Release()
		}
		if refuseOnly {
			// Delays are decided once the name is known: one wait per
			// attempt.
			return nil
		}
		c.throttled = v
		c.srv.tmetrics.AuthThrottled(string(events.ThrottleDelayed))
		c.srv.log.Debug("c2s: login delayed by the throttle", "addr", c.addr, "user", truncate(user, 64), "delay", v.Delay)
		if err := c.throttleWait(v.Delay); err != nil {
			return failSASL("aborted", user, fatalError{err})
		}
	}
	return nil
}

// throttleWait sleeps for d, but not past the negotiation deadline (then
// the stream ends with <connection-timeout/>) nor into a shutdown.
func (c *conn) throttleWait(d time.Duration) error {
	left := c.deadline.Sub(c.srv.now())
	cut := d > left
	if cut {
		d = max(left, 0)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.srv.stopped:
		return quietError{errors.New("c2s: throttle delay: server shutting down")}
	}
	if cut {
		return fmt.Errorf("c2s: throttle delay of %s passes the negotiation deadline: %w", d, os.ErrDeadlineExceeded)
	}
	return nil
}
