package main

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/text/secure/precis"
	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/im"
)

// userAddMany creates one account per line of standard input ("JID
// password"; blank lines and lines starting with # are skipped), as
// `user add` would one at a time, but in one process: a test or a
// migration creating hundreds of accounts would otherwise pay a process
// start and a store open for each. Every line is checked before anything
// is written; an account that already exists stops the run at that line,
// and the accounts created before it stay (each is its own commit).
func (a *app) userAddMany(cmd *cobra.Command, c *Config, s events.Store) error {
	type entry struct {
		jid      jid.JID
		password string
		line     int
	}
	var list []entry
	var errs []error
	seen := map[string]int{}
	sc := bufio.NewScanner(a.stdin)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		addr, pw, ok := strings.Cut(line, " ")
		if !ok {
			addr, pw, ok = strings.Cut(line, "\t")
		}
		pw = strings.TrimSpace(pw)
		if !ok || pw == "" {
			errs = append(errs, fmt.Errorf("line %d: want \"JID password\"", n))
			continue
		}
		j, err := accountJID(c, addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
			continue
		}
		if pw, err = precis.OpaqueString.String(pw); err != nil {
			errs = append(errs, fmt.Errorf("line %d: the password is not allowed: %v", n, err))
			continue
		}
		if first, dup := seen[j.String()]; dup {
			errs = append(errs, fmt.Errorf("line %d: %s already given on line %d", n, j, first))
			continue
		}
		seen[j.String()] = n
		list = append(list, entry{j, pw, n})
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("user: read standard input: %w", err)
	}
	if len(errs) > 0 {
		return usageError{fmt.Errorf("--stdin: nothing created:\n  %s", strings.ReplaceAll(errors.Join(errs...).Error(), "\n", "\n  "))}
	}
	if len(list) == 0 {
		return usagef("--stdin: no accounts on standard input")
	}
	meta := adminMeta(c)
	for _, e := range list {
		creds, err := domain.NewCredentials(e.password, c.Auth.ScramIterations, rand.Reader)
		if err != nil {
			return err
		}
		if err := (im.Accounts{Store: s}).Create(cmd.Context(), e.jid, creds, meta); err != nil {
			return fmt.Errorf("line %d: %w", e.line, accountError(err))
		}
		fmt.Fprintf(cmd.OutOrStdout(), "created %s\n", e.jid)
	}
	return nil
}
