package c2s

import (
	"errors"

	"golang.org/x/text/secure/precis"

	"xmppd/domain"
)

// plain is SASL PLAIN (RFC 4616), offered only under TLS.
type plain struct {
	c    *conn
	user string
}

func (p *plain) username() string { return p.user }

func (p *plain) step(msg []byte) ([]byte, bool, *saslError) {
	var parts [3][]byte
	n := 0
	start := 0
	for i, b := range msg {
		if b == 0 {
			if n == 2 {
				return nil, false, failSASL("malformed-request", "", nil)
			}
			parts[n] = msg[start:i]
			n++
			start = i + 1
		}
	}
	if n != 2 {
		return nil, false, failSASL("malformed-request", "", nil)
	}
	parts[2] = msg[start:]
	user, err := p.c.normalizeUser(string(parts[1]))
	if err != nil {
		return nil, false, failSASL("not-authorized", string(parts[1]), err)
	}
	p.user = user
	if serr := p.c.checkAuthzid(string(parts[0]), user); serr != nil {
		return nil, false, serr
	}
	if serr := p.c.throttleGate(user, false); serr != nil {
		return nil, false, serr
	}
	password, err := precis.OpaqueString.String(string(parts[2]))
	if err != nil {
		return nil, false, failSASL("not-authorized", user, errors.New("password not OpaqueString"))
	}
	// Any stored mechanism can check a password; prefer SHA-256.
	keys, found, err := p.c.srv.scramKeys(p.c.ctx, user, domain.ScramSHA256)
	if err == nil && !found {
		if k, ok, err1 := p.c.srv.scramKeys(p.c.ctx, user, domain.ScramSHA1); ok || err1 != nil {
			keys, found, err = k, ok, err1
		}
	}
	if err != nil {
		return nil, false, failSASL("temporary-auth-failure", user, err)
	}
	// Unknown accounts are checked against made-up keys, so the time taken
	// does not tell whether the account exists.
	if !domain.CheckPassword(keys, password) || !found {
		return nil, false, failSASL("not-authorized", user, nil)
	}
	return nil, true, nil
}
