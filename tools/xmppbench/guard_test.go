package main

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestCheckTargetLoopbackOnly(t *testing.T) {
	cases := []struct {
		addr        string
		allowRemote bool
		ok          bool
	}{
		{"127.0.0.1:5222", false, true},
		{"127.8.9.10:5222", false, true},
		{"[::1]:5222", false, true},
		{"localhost:5222", false, true},
		{"[::ffff:127.0.0.1]:5222", false, true},
		{"10.0.0.1:5222", false, false},
		{"192.168.1.10:5222", false, false},
		{"172.16.0.1:5222", false, false},
		{"8.8.8.8:5222", false, false},
		{"[2001:db8::1]:5222", false, false},
		{"[::ffff:10.0.0.1]:5222", false, false},
		{"0.0.0.0:5222", false, false},
		{"example.org:5222", false, false},
		{"localhost.example.org:5222", false, false},
		{"127.0.0.1", false, false}, // no port
		{"10.0.0.1:5222", true, true},
		{"example.org:5222", true, true},
	}
	for _, tc := range cases {
		err := checkTarget(tc.addr, tc.allowRemote)
		if (err == nil) != tc.ok {
			t.Errorf("checkTarget(%q, allowRemote=%v) = %v, want ok=%v", tc.addr, tc.allowRemote, err, tc.ok)
		}
	}
}

// The dialer enforces the guard on the address actually connected to,
// whatever a name resolved to. The hook runs before connect, so the
// refused dial sends nothing.
func TestDialerRefusesNonLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := newDialer(false)
	conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dialing loopback: %v", err)
	}
	conn.Close()
	_, err = d.DialContext(ctx, "tcp", "192.0.2.1:5222") // TEST-NET-1, never reached
	if err == nil || !strings.Contains(err.Error(), "non-loopback") {
		t.Fatalf("dialing 192.0.2.1: err = %v, want a refusal by the guard", err)
	}
	if newDialer(true).Control != nil {
		t.Fatal("--allow-remote should lift the dial guard")
	}
}
