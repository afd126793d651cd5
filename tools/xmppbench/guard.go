package main

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// checkTarget refuses an address whose host is not loopback, unless
// allowRemote is set. A host name other than "localhost" is refused
// outright rather than resolved: resolving it could send a DNS query off
// the machine, and a name can change what it points at between the check
// and the dial. The dialer's control hook (loopbackOnly) checks again the
// address actually connected to, so /etc/hosts tricks cannot escape.
func checkTarget(addr string, allowRemote bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("xmppbench: parsing address %q: %w", addr, err)
	}
	if port == "" {
		return fmt.Errorf("xmppbench: address %q has no port", addr)
	}
	if allowRemote || host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("xmppbench: %q is not loopback (use an IP in 127.0.0.0/8, ::1 or localhost, or --allow-remote)", host)
	}
	if !ip.Unmap().IsLoopback() {
		return fmt.Errorf("xmppbench: %s is not a loopback address (pass --allow-remote to target it)", ip)
	}
	return nil
}

// loopbackOnly is a net.Dialer Control hook that refuses to connect to a
// non-loopback address. It runs on the resolved address, just before the
// connect system call.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("xmppbench: parsing dial address %q: %w", address, err)
	}
	if !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("xmppbench: refusing to connect to non-loopback %s", ap.Addr())
	}
	return nil
}

// newDialer returns the dialer every virtual user connects with.
func newDialer(allowRemote bool) *net.Dialer {
	d := &net.Dialer{}
	if !allowRemote {
		d.Control = loopbackOnly
	}
	return d
}
