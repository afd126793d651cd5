package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"xmppd/adapters/c2s"
	"xmppd/adapters/server"
)

// version is the software version recorded in server.started events; the
// build may override it with -ldflags "-X main.version=...".
var version = "dev"

func (a *app) serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the XMPP server",
		Long: `serve runs the XMPP server: client connections on the STARTTLS and direct
TLS ports, every roster, subscription, session and presence change recorded
in the event log. SIGINT or SIGTERM stops it cleanly: every contact is told
its peers went offline, and the log records it.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context())
		},
	}
}

func (a *app) serve(ctx context.Context) error {
	c, err := a.cfg.load()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if f := a.cfg.ConfigFile(); f != "" {
		log.Info("configuration", "file", f)
	}
	cert, err := a.certificate(c, log)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, c, false)
	if err != nil {
		return err
	}
	defer store.Close()
	srv, err := server.New(server.Config{
		Domain: c.Domain,
		Node:   c.Node,
		Store:  store,
		C2S: c2s.Config{
			StartTLSAddr:   c.C2S.StartTLSAddr,
			DirectTLSAddr:  c.C2S.DirectTLSAddr,
			TLS:            &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
			MaxStanzaBytes: c.C2S.MaxStanzaBytes,
		},
		Logger:  log,
		Version: version,
	})
	if err != nil {
		return usageError{err}
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	go func() {
		<-srv.Ready()
		log.Info("xmppd ready", "domain", c.Domain, "starttls", srv.StartTLSAddr(), "tls", srv.DirectTLSAddr(), "store", storeName(c))
	}()
	return srv.Run(ctx)
}

// certificate loads the configured certificate, or the self-signed one
// kept in the data directory (made on first start, with a warning).
func (a *app) certificate(c *Config, log *slog.Logger) (tls.Certificate, error) {
	if c.TLS.Cert != "" {
		cert, err := tls.LoadX509KeyPair(c.TLS.Cert, c.TLS.Key)
		if err != nil {
			return cert, usagef("tls: %v", err)
		}
		return cert, nil
	}
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return tls.Certificate{}, fmt.Errorf("create data directory: %w", err)
	}
	cert, created, err := c2s.LoadOrCreateCert(c.DataDir, c.Domain)
	if err != nil {
		return cert, err
	}
	if created {
		log.Warn("made a self-signed certificate; clients will not trust it until you configure tls.cert and tls.key", "dir", c.DataDir, "domain", c.Domain)
	}
	return cert, nil
}

func storeName(c *Config) string {
	if c.Store.Kind == "esdb" {
		return c.Store.URL
	}
	return c.Store.Path
}
