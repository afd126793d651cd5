package domain

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"hash"
	"io"

	"xmppd/events"
)

// SCRAM mechanism names (RFC 5802, RFC 7677).
const (
	ScramSHA1   = "SCRAM-SHA-1"
	ScramSHA256 = "SCRAM-SHA-256"
)

// MinScramIterations is the least iteration count xmppd stores (RFC 7677
// section 4 recommends at least 4096 for SCRAM-SHA-256).
const MinScramIterations = 4096

// ScramHash returns the hash function of a SCRAM mechanism, or nil.
func ScramHash(mech string) func() hash.Hash {
	switch mech {
	case ScramSHA1:
		return sha1.New
	case ScramSHA256:
		return sha256.New
	}
	return nil
}

// NewCredentials derives the stored SCRAM keys of password for both
// mechanisms, each with its own random salt from rnd. The password itself
// is not kept anywhere.
func NewCredentials(password string, iterations int, rnd io.Reader) (events.CredentialsSet, error) {
	if iterations < MinScramIterations {
		return events.CredentialsSet{}, fmt.Errorf("domain: %d SCRAM iterations is fewer than %d", iterations, MinScramIterations)
	}
	var set events.CredentialsSet
	for _, mech := range []string{ScramSHA256, ScramSHA1} {
		salt := make([]byte, 16)
		if _, err := io.ReadFull(rnd, salt); err != nil {
			return events.CredentialsSet{}, fmt.Errorf("domain: salt: %w", err)
		}
		k, err := DeriveScramKeys(mech, password, salt, iterations)
		if err != nil {
			return events.CredentialsSet{}, err
		}
		set.Scram = append(set.Scram, k)
	}
	return set, nil
}

// DeriveScramKeys computes RFC 5802 section 3's StoredKey and ServerKey:
//
//	SaltedPassword := Hi(Normalize(password), salt, i)
//	ClientKey      := HMAC(SaltedPassword, "Client Key")
//	StoredKey      := H(ClientKey)
//	ServerKey      := HMAC(SaltedPassword, "Server Key")
//
// The password is taken as given: callers apply the PRECIS OpaqueString
// profile (RFC 8265) before, as SASLprep's successor.
func DeriveScramKeys(mech, password string, salt []byte, iterations int) (events.ScramKeys, error) {
	h := ScramHash(mech)
	if h == nil {
		return events.ScramKeys{}, fmt.Errorf("domain: unknown SCRAM mechanism %q", mech)
	}
	salted, err := pbkdf2.Key(h, password, salt, iterations, h().Size())
	if err != nil {
		return events.ScramKeys{}, fmt.Errorf("domain: %s: %w", mech, err)
	}
	clientKey := HMAC(h, salted, []byte("Client Key"))
	stored := h()
	stored.Write(clientKey)
	return events.ScramKeys{
		Mechanism:  mech,
		Salt:       salt,
		Iterations: iterations,
		StoredKey:  stored.Sum(nil),
		ServerKey:  HMAC(h, salted, []byte("Server Key")),
	}, nil
}

// HMAC returns HMAC(key, msg) with hash h.
func HMAC(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}

// CheckPassword reports whether password matches the stored keys k, in
// time independent of where they differ. Used for SASL PLAIN.
func CheckPassword(k events.ScramKeys, password string) bool {
	got, err := DeriveScramKeys(k.Mechanism, password, k.Salt, k.Iterations)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got.StoredKey, k.StoredKey) == 1
}

// FindScram returns the keys of mech in set.
func FindScram(set events.CredentialsSet, mech string) (events.ScramKeys, bool) {
	for _, k := range set.Scram {
		if k.Mechanism == mech {
			return k, true
		}
	}
	return events.ScramKeys{}, false
}
