package domain_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"xmppd/domain"
)

// RFC 7677 section 3 gives a SCRAM-SHA-256 exchange for user "user",
// password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ== and 4096 iterations;
// RFC 5802 section 5 the SCRAM-SHA-1 one (salt QSXCR+Q6sek8bf92). The keys
// below follow from those vectors (cross-checked with Python hashlib).
func TestDeriveScramKeysMatchesRFCVectors(t *testing.T) {
	for _, tc := range []struct {
		mech, salt, stored, server string
	}{
		{domain.ScramSHA1, "4125c247e43ab1e93c6dff76", "e9d94660c39d65c38fbad91c358f14da0eef2bd6", "0fe09258b3ac852ba502cc62ba903eaacdbf7d31"},
		{domain.ScramSHA256, "5b6d99689d12358eeca04b14123bfa81", "301c97126b7bac7a0b27b717b45a76e93c1dfa12576a408ef2e166e41abd5346", "bc3b76f50340675c3661a1642919a58474b0f5ec2d4e13409040d5b13a619d1e"},
	} {
		salt, _ := hex.DecodeString(tc.salt)
		k, err := domain.DeriveScramKeys(tc.mech, "pencil", salt, 4096)
		if err != nil {
			t.Fatal(err)
		}
		if tc.stored != "" && hex.EncodeToString(k.StoredKey) != tc.stored {
			t.Errorf("%s StoredKey = %x, want %s", tc.mech, k.StoredKey, tc.stored)
		}
		if tc.server != "" && hex.EncodeToString(k.ServerKey) != tc.server {
			t.Errorf("%s ServerKey = %x, want %s", tc.mech, k.ServerKey, tc.server)
		}
		if !domain.CheckPassword(k, "pencil") || domain.CheckPassword(k, "pencil ") {
			t.Errorf("%s CheckPassword does not tell the password apart", tc.mech)
		}
	}
}

func TestNewCredentialsUsesFreshSaltsAndRefusesFewIterations(t *testing.T) {
	a, err := domain.NewCredentials("secret", 4096, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Scram) != 2 {
		t.Fatalf("got %d mechanisms, want 2", len(a.Scram))
	}
	if bytes.Equal(a.Scram[0].Salt, a.Scram[1].Salt) {
		t.Error("both mechanisms share one salt")
	}
	b, _ := domain.NewCredentials("secret", 4096, rand.Reader)
	if bytes.Equal(a.Scram[0].StoredKey, b.Scram[0].StoredKey) {
		t.Error("two derivations of one password gave the same StoredKey: salt not random")
	}
	if _, err := domain.NewCredentials("secret", 1000, rand.Reader); err == nil {
		t.Error("1000 iterations accepted")
	}
}
