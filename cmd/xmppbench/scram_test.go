package main

import (
	"errors"
	"testing"
)

// The exchanges printed in RFC 5802 §5 and RFC 7677 §3 (user "user",
// password "pencil"), with the client nonce forced to the RFC's.
func TestScramClientRFCVectors(t *testing.T) {
	cases := []struct {
		name                                         string
		mech                                         string
		nonce, serverFirst, clientFinal, serverFinal string
	}{
		{
			name:        "RFC 5802 SCRAM-SHA-1",
			mech:        "SCRAM-SHA-1",
			nonce:       "fyko+d2lbbFgONRv9qkxdawL",
			serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
			clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
			serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
		},
		{
			name:        "RFC 7677 SCRAM-SHA-256",
			mech:        "SCRAM-SHA-256",
			nonce:       "rOprNGfwEbeRWgbNEkqO",
			serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
			clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
			serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cache := newSaltCache()
			for round := range 2 { // the second round takes the salted password from the cache
				h, _ := scramFamily(tc.mech)
				s, err := newScramClient(h, "user", "pencil", cache)
				if err != nil {
					t.Fatal(err)
				}
				s.nonce = tc.nonce
				if got, want := s.first(), "n,,n=user,r="+tc.nonce; got != want {
					t.Fatalf("round %d: client-first = %q, want %q", round, got, want)
				}
				got, err := s.final(tc.serverFirst)
				if err != nil {
					t.Fatalf("round %d: final: %v", round, err)
				}
				if got != tc.clientFinal {
					t.Fatalf("round %d: client-final = %q, want %q", round, got, tc.clientFinal)
				}
				if err := s.verify(tc.serverFinal); err != nil {
					t.Fatalf("round %d: verify: %v", round, err)
				}
			}
			if len(cache.m) != 1 {
				t.Fatalf("cache holds %d entries, want 1", len(cache.m))
			}
		})
	}
}

func TestScramClientRejects(t *testing.T) {
	h, _ := scramFamily("SCRAM-SHA-1")
	s, _ := newScramClient(h, "user", "pencil", nil)
	s.nonce = "fyko+d2lbbFgONRv9qkxdawL"
	s.first()
	if _, err := s.final("r=someoneelse,s=QSXCR+Q6sek8bf92,i=4096"); err == nil {
		t.Fatal("accepted a server nonce that does not extend the client's")
	}
	if _, err := s.final("r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096"); err == nil {
		t.Fatal("accepted a server nonce equal to the client's")
	}
	if _, err := s.final("r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=zero"); err == nil {
		t.Fatal("accepted a non-numeric iteration count")
	}
	if _, err := s.final("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"); err != nil {
		t.Fatal(err)
	}
	// A server that does not know the password cannot forge v=.
	err := s.verify("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	if !errors.Is(err, errServerSignature) {
		t.Fatalf("verify of a wrong signature = %v, want errServerSignature", err)
	}
	if err := s.verify("e=invalid-proof"); err == nil {
		t.Fatal("verify accepted a server error")
	}
}

func TestScramEscape(t *testing.T) {
	for in, want := range map[string]string{"user": "user", "a,b": "a=2Cb", "a=b": "a=3Db", "=,": "=3D=2C"} {
		if got := scramEscape(in); got != want {
			t.Errorf("scramEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChooseMech(t *testing.T) {
	cases := []struct {
		want    string
		offered []string
		got     string
		ok      bool
	}{
		{"auto", []string{"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"}, "SCRAM-SHA-256", true},
		{"auto", []string{"PLAIN", "SCRAM-SHA-1"}, "SCRAM-SHA-1", true},
		{"auto", []string{"SCRAM-SHA-1-PLUS", "PLAIN"}, "PLAIN", true},
		{"auto", []string{"DIGEST-MD5"}, "", false},
		{"PLAIN", []string{"PLAIN", "SCRAM-SHA-1"}, "PLAIN", true},
		{"SCRAM-SHA-256", []string{"PLAIN", "SCRAM-SHA-1"}, "", false},
	}
	for _, tc := range cases {
		got, err := chooseMech(tc.want, tc.offered)
		if got != tc.got || (err == nil) != tc.ok {
			t.Errorf("chooseMech(%q, %v) = %q, %v; want %q, ok=%v", tc.want, tc.offered, got, err, tc.got, tc.ok)
		}
	}
}
