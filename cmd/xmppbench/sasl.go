package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
)

// chooseMech picks the mechanism: the one asked for, or with "auto" the
// strongest offered that the client implements.
func chooseMech(want string, offered []string) (string, error) {
	if want != "auto" {
		if !slices.Contains(offered, want) {
			return "", fmt.Errorf("server does not offer %s (offers %v)", want, offered)
		}
		return want, nil
	}
	for _, m := range []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"} {
		if slices.Contains(offered, m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("no supported mechanism among %v", offered)
}

// authenticate runs SASL (RFC 6120 §6) with the mechanism chooseMech
// picks. For SCRAM it checks the server's signature too: a server that
// says success without proving it knows the password fails the login.
func (s *session) authenticate(cfg *clientConfig, feats elem, user, password string) error {
	mech, err := chooseMech(cfg.mech, feats.childTexts("mechanism"))
	if err != nil {
		return failed("auth", err)
	}
	cfg.used.Store(&mech)
	b64 := base64.StdEncoding
	if mech == "PLAIN" {
		if err := s.send("<auth xmlns='" + nsSASL + "' mechanism='PLAIN'>" +
			b64.EncodeToString([]byte("\x00"+user+"\x00"+password)) + "</auth>"); err != nil {
			return failed("auth", err)
		}
		e, err := s.saslStep()
		if err != nil {
			return err
		}
		if !e.is("success") {
			return failed("auth", fmt.Errorf("expected success, got <%s>", e.name()))
		}
		return nil
	}
	h, _ := scramFamily(mech)
	sc, err := newScramClient(h, user, password, cfg.cache)
	if err != nil {
		return failed("auth", err)
	}
	if err := s.send("<auth xmlns='" + nsSASL + "' mechanism='" + mech + "'>" +
		b64.EncodeToString([]byte(sc.first())) + "</auth>"); err != nil {
		return failed("auth", err)
	}
	e, err := s.saslStep()
	if err != nil {
		return err
	}
	if !e.is("challenge") {
		return failed("auth", fmt.Errorf("expected challenge, got <%s>", e.name()))
	}
	serverFirst, err := saslPayload(e)
	if err != nil {
		return err
	}
	final, err := sc.final(serverFirst)
	if err != nil {
		return failed("auth", err)
	}
	if err := s.send("<response xmlns='" + nsSASL + "'>" + b64.EncodeToString([]byte(final)) + "</response>"); err != nil {
		return failed("auth", err)
	}
	if e, err = s.saslStep(); err != nil {
		return err
	}
	serverFinal, err := saslPayload(e)
	if err != nil {
		return err
	}
	if err := sc.verify(serverFinal); err != nil {
		return failed("auth", err)
	}
	if e.is("challenge") {
		// RFC 6120 §6.3.10 lets a server send the final data as a last
		// challenge, answered by an empty response, then success.
		if err := s.send("<response xmlns='" + nsSASL + "'/>"); err != nil {
			return failed("auth", err)
		}
		if e, err = s.saslStep(); err != nil {
			return err
		}
		if !e.is("success") {
			return failed("auth", fmt.Errorf("expected success, got <%s>", e.name()))
		}
	}
	return nil
}

// saslStep reads the server's next SASL element and turns <failure/>
// into an error naming its condition.
func (s *session) saslStep() (elem, error) {
	e, err := s.r.next()
	if err != nil {
		return elem{}, failed("auth", err)
	}
	if e.is("failure") {
		return elem{}, failed("auth", fmt.Errorf("server refused: %.200s", e.raw))
	}
	return e, nil
}

func saslPayload(e elem) (string, error) {
	inner := e.raw
	n, kind := scanTag(inner)
	if kind == tagEmpty {
		return "", nil
	}
	inner = inner[n:]
	if i := bytes.LastIndexByte(inner, '<'); i >= 0 {
		inner = inner[:i]
	}
	dec, err := base64.StdEncoding.DecodeString(string(inner))
	if err != nil {
		return "", failed("auth", fmt.Errorf("decoding SASL data: %w", err))
	}
	return string(dec), nil
}
