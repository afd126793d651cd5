package c2s

import (
	"net"
	"syscall"
)

// ackNow has the kernel acknowledge at once what has been read on c,
// instead of when its delayed-ACK timer fires (40 ms on Linux).
//
// It is called when the TLS handshake completes. Go's TLS server sends its
// session tickets with its own Finished, so after reading the client's
// Finished it has nothing to send until the client's next stream header.
// A client with Nagle's algorithm on (Erlang's default, and Java's) holds
// that header back until its Finished is acknowledged: every STARTTLS or
// direct TLS login stalled 40 ms on the delayed ACK (tsung measured 43 ms
// from handshake to new stream features; OpenSSL servers send their
// tickets after the client's Finished, which carries the ACK).
func ackNow(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	raw.Control(func(fd uintptr) {
		// Setting TCP_QUICKACK sends a pending ACK now; failure only
		// costs the delay.
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
