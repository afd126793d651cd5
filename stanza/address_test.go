package stanza

import (
	"fmt"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"
)

// ParseAddress gives exactly what jid.Parse gives, the first time and
// from the cache, and keeps no invalid address.
func TestParseAddress(t *testing.T) {
	var addrCache Addresses
	for _, s := range []string{
		"juliet@example.com", "Juliet@Example.COM/Balcony", "example.com", "example.com/r",
		"ju\u0308liet@example.com/r\u00e9sum\u00e9", "user42@localhost/login-7", "[::1]", "a@b/c/d",
	} {
		want, err := jid.Parse(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		for round := range 2 {
			a, err := addrCache.Parse(s)
			if err != nil {
				t.Fatalf("%q round %d: %v", s, round, err)
			}
			if !a.JID.Equal(want) || a.Full != want.String() || a.Bare != want.Bare().String() {
				t.Errorf("%q round %d: got %v %q %q, want %v %q %q", s, round, a.JID, a.Full, a.Bare, want, want.String(), want.Bare().String())
			}
		}
	}
	for _, s := range []string{"", "@example.com", "juliet@", "a@b@c", "juliet@example.com/", strings.Repeat("a", 1024) + "@x"} {
		for round := range 2 {
			if a, err := addrCache.Parse(s); err == nil {
				t.Errorf("%q round %d: accepted as %v", s, round, a.JID)
			}
		}
		if _, ok := addrCache.m.Load(s); ok {
			t.Errorf("%q: an invalid address was cached", s)
		}
	}
}

// The cache starts again once it holds maxAddrCacheBytes, so made-up
// addresses cannot grow it without bound.
func TestParseAddressBounded(t *testing.T) {
	var addrCache Addresses
	for i := range 100_000 {
		if _, err := addrCache.Parse(fmt.Sprintf("user%d@example.com/%s", i, strings.Repeat("r", 200))); err != nil {
			t.Fatal(err)
		}
	}
	if n := addrCache.bytes.Load(); n > maxAddrCacheBytes {
		t.Fatalf("cache holds %d bytes, over %d", n, maxAddrCacheBytes)
	}
	entries := 0
	addrCache.m.Range(func(any, any) bool { entries++; return true })
	if entries > maxAddrCacheBytes/200 {
		t.Fatalf("%d entries for %d bytes", entries, maxAddrCacheBytes)
	}
}

// BenchmarkParseAddress is an address routing parses again and again
// (every stanza's 'to' and 'from'), through the cache and without it.
func BenchmarkParseAddress(b *testing.B) {
	var addrCache Addresses
	const s = "user42@localhost/login-1234"
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := addrCache.Parse(s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jid.Parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			j, err := jid.Parse(s)
			if err != nil {
				b.Fatal(err)
			}
			_ = j.String()
		}
	})
}
