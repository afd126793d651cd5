package main

import (
	"fmt"
	"io"
	"strings"
)

// writeProvision prints, one per line, the shell commands that create the
// run's accounts on a server of kind c.server. Creating accounts is the
// caller's job because each server has its own tool for it, and none
// needs to be reachable over XMPP to be set up.
func writeProvision(w io.Writer, c *config) {
	prosodyctl := "prosodyctl"
	if c.prosodyCfg != "" {
		prosodyctl += " --config " + shellQuote(c.prosodyCfg)
	}
	for i := range c.users {
		a := c.account(i)
		u, p, d := shellQuote(a.user), shellQuote(a.password), shellQuote(c.domain)
		switch c.server {
		case "xmppd":
			fmt.Fprintf(w, "xmppd user add %s --password %s\n", shellQuote(a.user+"@"+c.domain), p)
		case "prosody":
			fmt.Fprintf(w, "%s register %s %s %s\n", prosodyctl, u, d, p)
		case "ejabberd":
			fmt.Fprintf(w, "ejabberdctl register %s %s %s\n", u, d, p)
		}
	}
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._-/:=+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
