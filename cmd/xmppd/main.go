// Command xmppd is an XMPP server whose every roster change, subscription
// transition and presence change is an event in an append-only log, and
// the tools that read that log: replay, audit, verify and export.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := newApp(os.Stdin, os.Stdout, os.Stderr).run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
