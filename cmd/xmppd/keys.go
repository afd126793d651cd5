package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"xmppd/adapters/keystore"
	"xmppd/events"
	"xmppd/im"
	"xmppd/replay"
)

// The embedded key store is the one retention expires keys in.
var _ im.KeyExpirer = (*keystore.Store)(nil)

// openKeys opens the key store that seals personal content (issue 13,
// keys.path). readOnly (replay, audit) never creates the file: without
// it, sealed content reads as "(missing)".
func openKeys(c *Config, readOnly bool) (*keystore.Store, error) {
	if !readOnly {
		if err := os.MkdirAll(filepath.Dir(c.Keys.Path), 0o750); err != nil {
			return nil, fmt.Errorf("create key store directory: %w", err)
		}
	}
	period, err := events.ParseKeyPeriod(c.Keys.Period)
	if err != nil {
		return nil, usagef("keys.period: %v", err)
	}
	k, err := keystore.Open(c.Keys.Path, readOnly)
	if err != nil {
		return nil, fmt.Errorf("open key store %s: %w", c.Keys.Path, err)
	}
	k.SetPeriod(period)
	return k, nil
}

// withKeyedStore is withStore for the readers that show personal content
// (replay, audit): the store comes with the key store attached, opened
// read-only, so sealed content is shown, or marked erased or expired.
func (a *app) withKeyedStore(ctx context.Context, fn func(*Config, events.Store) error) error {
	return a.withStore(ctx, true, func(c *Config, s events.Store) error {
		k, err := openKeys(c, true)
		if err != nil {
			return err
		}
		defer k.Close()
		return fn(c, replay.WithKeys(s, k))
	})
}

// userErase is `xmppd user erase JID`. It holds the server lock for its
// whole run: a running server caches keys and would go on sealing with a
// destroyed account's, so erasure refuses while one runs (the lock's
// error names its process) rather than racing it.
func (a *app) userErase(cmd *cobra.Command, arg string) error {
	c, err := a.cfg.load()
	if err != nil {
		return err
	}
	j, err := accountJID(c, arg)
	if err != nil {
		return err
	}
	lock, err := lockLog(c)
	if err != nil {
		return fmt.Errorf("erase %s: %w", j, err)
	}
	if lock != nil {
		defer lock.Release()
	}
	s, err := openStore(cmd.Context(), c, false)
	if err != nil {
		return err
	}
	defer s.Close()
	keys, err := openKeys(c, false)
	if err != nil {
		return err
	}
	defer keys.Close()
	periods, err := (im.Accounts{Store: s}).Erase(cmd.Context(), j, keys, adminMeta(c))
	if err != nil {
		return accountError(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "erased %s: %d keys destroyed, account deleted\n", j, len(periods))
	return nil
}
