//go:build !linux

package c2s

import "net"

// ackNow does nothing here: TCP_QUICKACK is Linux's (see quickack_linux.go).
func ackNow(net.Conn) {}
