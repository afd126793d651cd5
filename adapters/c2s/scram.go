package c2s

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"hash"
	"strconv"
	"strings"

	"xmppd/domain"
	"xmppd/events"
)

// scram is the server side of SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802,
// RFC 7677) checked against the stored StoredKey and ServerKey, so no
// password or salted password is ever needed.
type scram struct {
	c    *conn
	mech string
	h    func() hash.Hash

	state           int // 0: expect client-first; 1: expect client-final
	user            string
	gs2Header       string
	clientFirstBare string
	serverFirst     string
	nonce           string
	keys            events.ScramKeys
	found           bool
}

func newScram(c *conn, mech string) *scram {
	return &scram{c: c, mech: mech, h: domain.ScramHash(mech)}
}

func (s *scram) username() string { return s.user }

func (s *scram) step(msg []byte) ([]byte, bool, *saslError) {
	if s.state == 0 {
		s.state = 1
		out, err := s.clientFirst(string(msg))
		return out, false, err
	}
	out, err := s.clientFinal(string(msg))
	return out, err == nil, err
}

// clientFirst parses gs2-header client-first-message-bare (RFC 5802
// section 7) and answers server-first-message.
func (s *scram) clientFirst(msg string) ([]byte, *saslError) {
	malformed := func(why string) ([]byte, *saslError) {
		return nil, failSASL("malformed-request", s.user, errors.New(why))
	}
	// gs2-cbind-flag: we offer no -PLUS, so only 'n' (client has no channel
	// binding) or 'y' (client could, but believes we cannot) are valid.
	if len(msg) < 2 || (msg[0] != 'n' && msg[0] != 'y') || msg[1] != ',' {
		return malformed("gs2 flag")
	}
	rest := msg[2:]
	authzField, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return malformed("gs2 header")
	}
	var authzid string
	if authzField != "" {
		if !strings.HasPrefix(authzField, "a=") {
			return malformed("gs2 authzid")
		}
		var err error
		if authzid, err = decodeSaslname(authzField[2:]); err != nil {
			return malformed("authzid")
		}
	}
	s.gs2Header = msg[:len(msg)-len(bare)]
	s.clientFirstBare = bare

	attrs := strings.Split(bare, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		// This also refuses a leading m= (mandatory extension): RFC 5802
		// section 5.1 says to fail when it is not understood.
		return malformed("client-first attributes")
	}
	rawUser, err := decodeSaslname(attrs[0][2:])
	if err != nil {
		return malformed("username encoding")
	}
	cnonce := attrs[1][2:]
	if cnonce == "" || !printable(cnonce) {
		return malformed("nonce")
	}
	user, err := s.c.normalizeUser(rawUser)
	if err != nil {
		return nil, failSASL("not-authorized", rawUser, err)
	}
	s.user = user
	if serr := s.c.checkAuthzid(authzid, user); serr != nil {
		return nil, serr
	}
	if serr := s.c.throttleGate(user, false); serr != nil {
		return nil, serr
	}
	s.keys, s.found, err = s.c.srv.scramKeys(s.c.ctx, user, s.mech)
	if err != nil {
		return nil, failSASL("temporary-auth-failure", user, err)
	}
	snonce := make([]byte, 18)
	rand.Read(snonce)
	s.nonce = cnonce + base64.RawStdEncoding.EncodeToString(snonce)
	// An unknown account gets made-up salt and iterations (stable per
	// name), so the challenge does not reveal whether it exists.
	s.serverFirst = "r=" + s.nonce + ",s=" + base64.StdEncoding.EncodeToString(s.keys.Salt) + ",i=" + strconv.Itoa(s.keys.Iterations)
	return []byte(s.serverFirst), nil
}

// clientFinal checks channel-binding, nonce and proof (RFC 5802 section
// 3) and returns server-final-message with the server signature.
func (s *scram) clientFinal(msg string) ([]byte, *saslError) {
	malformed := func(why string) ([]byte, *saslError) {
		return nil, failSASL("malformed-request", s.user, errors.New(why))
	}
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return malformed("no proof")
	}
	withoutProof, proofB64 := msg[:i], msg[i+3:]
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") {
		return malformed("client-final attributes")
	}
	cb, err := base64.StdEncoding.DecodeString(attrs[0][2:])
	if err != nil || string(cb) != s.gs2Header {
		// Without channel binding, c= is exactly the gs2 header sent
		// first; anything else is a downgrade or a confused client.
		return nil, failSASL("not-authorized", s.user, errors.New("channel binding mismatch"))
	}
	if attrs[1][2:] != s.nonce {
		return nil, failSASL("not-authorized", s.user, errors.New("nonce mismatch"))
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != s.h().Size() {
		return malformed("proof encoding")
	}
	authMessage := []byte(s.clientFirstBare + "," + s.serverFirst + "," + withoutProof)
	clientSignature := domain.HMAC(s.h, s.keys.StoredKey, authMessage)
	clientKey := make([]byte, len(proof))
	for k := range proof {
		clientKey[k] = proof[k] ^ clientSignature[k]
	}
	h := s.h()
	h.Write(clientKey)
	if subtle.ConstantTimeCompare(h.Sum(nil), s.keys.StoredKey) != 1 || !s.found {
		return nil, failSASL("not-authorized", s.user, errors.New("invalid proof"))
	}
	serverSignature := domain.HMAC(s.h, s.keys.ServerKey, authMessage)
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSignature)), nil
}

// decodeSaslname undoes RFC 5802's escaping of ',' and '='.
func decodeSaslname(s string) (string, error) {
	if !strings.Contains(s, "=") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", errors.New("bad saslname escape")
		}
		i += 2
	}
	return b.String(), nil
}

// printable is RFC 5802's nonce alphabet: %x21-7E except ','.
func printable(s string) bool {
	return bytes.IndexFunc([]byte(s), func(r rune) bool { return r < 0x21 || r > 0x7e || r == ',' }) < 0
}
