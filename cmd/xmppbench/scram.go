package main

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
)

// scramHash names one SCRAM family: the SASL mechanism name and its hash.
type scramHash struct {
	mech string
	new  func() hash.Hash
}

// scramFamily returns the hash family of a SCRAM mechanism name: the
// two that RFC 5802 (SHA-1) and RFC 7677 (SHA-256) define.
func scramFamily(mech string) (scramHash, bool) {
	switch mech {
	case "SCRAM-SHA-1":
		return scramHash{mech: mech, new: sha1.New}, true
	case "SCRAM-SHA-256":
		return scramHash{mech: mech, new: sha256.New}, true
	}
	return scramHash{}, false
}

// errServerSignature means the server did not prove it knows the
// password: the exchange must be treated as failed even if the server
// said success.
var errServerSignature = errors.New("server signature mismatch")

// saltCache remembers SaltedPassword per (mechanism, user, salt,
// iterations). A real client stores it after the first login; doing the
// same keeps the benchmark from measuring its own PBKDF2 (thousands of
// HMACs per login) instead of the server. Safe for concurrent use.
type saltCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newSaltCache() *saltCache { return &saltCache{m: make(map[string][]byte)} }

func (c *saltCache) get(key string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok
}

func (c *saltCache) put(key string, v []byte) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = v
}

// scramClient is the client side of one SCRAM exchange (RFC 5802 without
// channel binding: gs2 header "n,,"). Usernames are not SASLprep'd: the
// benchmark's account names are ASCII, which SASLprep leaves unchanged.
type scramClient struct {
	h        scramHash
	user     string
	password string
	nonce    string
	cache    *saltCache

	clientFirstBare string
	serverSig       []byte
}

func newScramClient(h scramHash, user, password string, cache *saltCache) (*scramClient, error) {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("xmppbench: making SCRAM nonce: %w", err)
	}
	return &scramClient{h: h, user: user, password: password,
		nonce: base64.RawStdEncoding.EncodeToString(b[:]), cache: cache}, nil
}

// first returns the client-first-message.
func (s *scramClient) first() string {
	s.clientFirstBare = "n=" + scramEscape(s.user) + ",r=" + s.nonce
	return "n,," + s.clientFirstBare
}

// final checks the server-first-message and returns the
// client-final-message carrying the proof.
func (s *scramClient) final(serverFirst string) (string, error) {
	attrs := scramAttrs(serverFirst)
	if _, ok := attrs['m']; ok {
		return "", errors.New("xmppbench: SCRAM: server requires an unsupported extension")
	}
	nonce, saltB64, iterS := attrs['r'], attrs['s'], attrs['i']
	if !strings.HasPrefix(nonce, s.nonce) || len(nonce) == len(s.nonce) {
		return "", errors.New("xmppbench: SCRAM: server nonce does not extend ours")
	}
	salt, err := base64.StdEncoding.DecodeString(saltB64)
	if err != nil {
		return "", fmt.Errorf("xmppbench: SCRAM: decoding salt: %w", err)
	}
	iter, err := strconv.Atoi(iterS)
	if err != nil || iter < 1 {
		return "", fmt.Errorf("xmppbench: SCRAM: bad iteration count %q", iterS)
	}
	key := s.h.mech + "\x00" + s.user + "\x00" + s.password + "\x00" + saltB64 + "\x00" + iterS
	salted, ok := s.cache.get(key)
	if !ok {
		salted, err = pbkdf2.Key(s.h.new, s.password, salt, iter, s.h.new().Size())
		if err != nil {
			return "", fmt.Errorf("xmppbench: SCRAM: deriving key: %w", err)
		}
		s.cache.put(key, salted)
	}
	withoutProof := "c=biws,r=" + nonce // biws = base64("n,,")
	authMsg := s.clientFirstBare + "," + serverFirst + "," + withoutProof

	clientKey := s.hmac(salted, "Client Key")
	storedKey := s.h.new()
	storedKey.Write(clientKey)
	clientSig := s.hmac(storedKey.Sum(nil), authMsg)
	proof := make([]byte, len(clientKey))
	for i := range clientKey {
		proof[i] = clientKey[i] ^ clientSig[i]
	}
	s.serverSig = s.hmac(s.hmac(salted, "Server Key"), authMsg)
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
}

// verify checks the server-final-message.
func (s *scramClient) verify(serverFinal string) error {
	attrs := scramAttrs(serverFinal)
	if e, ok := attrs['e']; ok {
		return fmt.Errorf("xmppbench: SCRAM: server error %q", e)
	}
	got, err := base64.StdEncoding.DecodeString(attrs['v'])
	if err != nil || s.serverSig == nil || subtle.ConstantTimeCompare(got, s.serverSig) != 1 {
		return fmt.Errorf("xmppbench: SCRAM: %w", errServerSignature)
	}
	return nil
}

func (s *scramClient) hmac(key []byte, msg string) []byte {
	m := hmac.New(s.h.new, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// scramAttrs splits "a=1,b=2" into its attributes; a value may itself
// contain '=' (base64 padding), so only the first one splits.
func scramAttrs(msg string) map[byte]string {
	out := make(map[byte]string, 4)
	for part := range strings.SplitSeq(msg, ",") {
		if len(part) >= 2 && part[1] == '=' {
			out[part[0]] = part[2:]
		}
	}
	return out
}

// scramEscape encodes ',' and '=' in a username as RFC 5802 §5.1 asks.
func scramEscape(s string) string {
	if !strings.ContainsAny(s, ",=") {
		return s
	}
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}
