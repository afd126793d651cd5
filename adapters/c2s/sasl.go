package c2s

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stream"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/router"
	"xmppd/stanza"
)

// Mechanism names as advertised, strongest first. No -PLUS variants:
// channel binding is not offered, so a client's gs2 flag must be 'n' or
// 'y' (RFC 5802 section 6).
const mechPlain = "PLAIN"

var mechanisms = []string{domain.ScramSHA256, domain.ScramSHA1, mechPlain}

// saslError is a failed exchange: its condition (RFC 6120 section 6.5) is
// sent in <failure/>, and the stream stays open for a retry.
type saslError struct {
	cond string
	user string // as far as known, for the observer and the throttle
	err  error  // why, for logs; never holds key material
}

func (e *saslError) Error() string {
	if e.err != nil {
		return "c2s: sasl: " + e.cond + ": " + e.err.Error()
	}
	return "c2s: sasl: " + e.cond
}

func failSASL(cond, user string, err error) *saslError {
	return &saslError{cond: cond, user: user, err: err}
}

// serverMech is a mechanism's server side in progress. step takes each
// client message and returns the next challenge, or with done the
// additional data of <success/>.
type serverMech interface {
	step(msg []byte) (out []byte, done bool, err *saslError)
	username() string
}

// authenticate runs one SASL exchange that began with <auth/> (RFC 6120
// section 6.4). ok reports success (the stream then restarts). A failed
// exchange is answered with <failure/> and returns (false, nil) so the
// client may retry, until MaxAuthAttempts, which ends the stream.
func (c *conn) authenticate(auth *stanza.Element) (ok bool, err error) {
	name := auth.Attr("mechanism")
	c.throttled = ThrottleVerdict{Decision: events.ThrottleNone}
	out, user, serr := c.exchange(name, auth)
	if serr == nil {
		c.user = user
		c.mech = name
		c.srv.throttle.Record(c.ip, user, true)
		if err := c.write(saslElement("success", out)); err != nil {
			return false, quietError{err}
		}
		// RFC 6120 section 6.4.6: both sides restart the stream; the
		// counting connection stays, its buffered bytes belong to the
		// new stream.
		c.restartDecoder(false)
		return true, nil
	}
	var fatal fatalError
	if errors.As(serr.err, &fatal) {
		return false, fatal.err
	}
	if serr.cond != "temporary-auth-failure" {
		// Every failure counts, not only wrong passwords: each is an
		// event in the log, and malformed or aborted exchanges repeated
		// without end would otherwise fill it unthrottled. The throttle's
		// own refusals are counted by the gate.
		c.srv.throttle.Record(c.ip, serr.user, false)
	}
	c.srv.observer.AuthFailed(c.ctx, router.AuthFailure{Username: truncate(serr.user, 256), Mechanism: truncate(name, 32),
		Addr: c.addr, AddrKey: addrKey(c.ip), Condition: serr.cond, Throttle: c.throttled.Decision, Delay: c.throttled.Delay})
	c.srv.metrics.AuthFailed(mechanismLabel(name))
	c.srv.log.Debug("c2s: authentication failed", "addr", c.addr, "mechanism", name, "condition", serr.cond)
	if err := c.saslFailure(serr.cond); err != nil {
		return false, err
	}
	return false, nil
}

// exchange runs the challenge/response loop of one mechanism.
func (c *conn) exchange(name string, auth *stanza.Element) ([]byte, string, *saslError) {
	if serr := c.throttleGate("", true); serr != nil {
		return nil, "", serr
	}
	var m serverMech
	switch name {
	case domain.ScramSHA256, domain.ScramSHA1:
		m = newScram(c, name)
	case mechPlain:
		m = &plain{c: c}
	default:
		// RFC 6120 section 6.5.6.
		return nil, "", failSASL("invalid-mechanism", "", nil)
	}
	msg, serr := decodeSASL(auth.Text())
	if serr != nil {
		return nil, "", serr
	}
	if msg == nil {
		// No initial response: an empty challenge asks for one (RFC 6120
		// section 6.4.2).
		var err *saslError
		msg, err = c.challenge(nil)
		if err != nil {
			return nil, "", err
		}
	}
	for {
		out, done, err := m.step(msg)
		if err != nil {
			return nil, m.username(), err
		}
		if done {
			return out, m.username(), nil
		}
		msg, err = c.challenge(out)
		if err != nil {
			err.user = m.username()
			return nil, m.username(), err
		}
	}
}

// challenge sends data in <challenge/> and returns the client's answer.
func (c *conn) challenge(data []byte) ([]byte, *saslError) {
	if err := c.write(saslElement("challenge", data)); err != nil {
		return nil, failSASL("aborted", "", fatalError{quietError{err}})
	}
	el, err := c.next()
	if err != nil {
		return nil, failSASL("aborted", "", fatalError{err})
	}
	switch el.Name {
	case nsName(stanza.NSSASL, "response"):
		msg, serr := decodeSASL(el.Text())
		if serr != nil {
			return nil, serr
		}
		if msg == nil {
			msg = []byte{}
		}
		return msg, nil
	case nsName(stanza.NSSASL, "abort"):
		// RFC 6120 section 6.4.4.
		return nil, failSASL("aborted", "", nil)
	}
	return nil, failSASL("aborted", "", fatalError{stream.NotAuthorized})
}

// fatalError carries an error that ends the stream out of the exchange.
type fatalError struct{ err error }

func (e fatalError) Error() string { return e.err.Error() }

// saslFailure answers <failure/> with cond; past MaxAuthAttempts the
// stream ends with <policy-violation/> (RFC 6120 section 6.4.5).
func (c *conn) saslFailure(cond string) error {
	b := []byte(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><` + cond + `/></failure>`)
	if err := c.write(b); err != nil {
		return quietError{err}
	}
	c.authFailures++
	if c.authFailures >= c.srv.cfg.MaxAuthAttempts {
		return withText(stream.PolicyViolation, "too many failed authentication attempts")
	}
	return nil
}

// decodeSASL decodes an element's base64 text: nil for none, empty for
// "=" (RFC 6120 section 6.4.2). Bad base64 is <incorrect-encoding/>
// (section 6.5.2).
func decodeSASL(text string) ([]byte, *saslError) {
	switch text {
	case "":
		return nil, nil
	case "=":
		return []byte{}, nil
	}
	b, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return nil, failSASL("incorrect-encoding", "", err)
	}
	return b, nil
}

func saslElement(local string, data []byte) []byte {
	el := stanza.New(stanza.NSSASL, local)
	switch {
	case data == nil:
	case len(data) == 0:
		el.AddText("=")
	default:
		el.AddText(base64.StdEncoding.EncodeToString(data))
	}
	return el.Bytes()
}

// normalizeUser applies PRECIS UsernameCaseMapped (RFC 8265) through the
// JID rules of RFC 7622, so a username is exactly a localpart.
func (c *conn) normalizeUser(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("empty username")
	}
	j, err := jid.New(raw, c.srv.cfg.Domain, "")
	if err != nil {
		return "", fmt.Errorf("username: %w", err)
	}
	return j.Localpart(), nil
}

// checkAuthzid accepts an empty authorization identity or the user's own
// bare JID; anything else is <invalid-authzid/> (RFC 6120 section 6.5.7).
func (c *conn) checkAuthzid(authzid, user string) *saslError {
	if authzid == "" {
		return nil
	}
	j, err := jid.Parse(authzid)
	if err != nil || j.Localpart() != user || j.Domainpart() != c.srv.cfg.Domain || j.Resourcepart() != "" {
		return failSASL("invalid-authzid", user, nil)
	}
	return nil
}

func nsName(space, local string) xml.Name {
	return xml.Name{Space: space, Local: local}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
