package im_test

import (
	"context"
	"errors"
	"net"

	"xmppd/adapters/c2s"
	"xmppd/im"
)

// server is the core with a c2s transport, wired as cmd/xmppd wires them
// (runServer there): the tests of this package drive the core through
// real client connections.
type server struct {
	*im.Core
	clients *c2s.Server
}

func newServer(cfg im.Config, cc c2s.Config) (*server, error) {
	if cfg.Follow == nil {
		cfg.Follow = im.FollowBus
	}
	core, err := im.New(cfg)
	if err != nil {
		return nil, err
	}
	if cc.Domain == "" {
		cc.Domain = cfg.Domain
	}
	cc.ServerFeatures = append(cc.ServerFeatures, im.ServerFeatures()...)
	deps := c2s.Deps{Core: core, Credentials: core, Observer: core, Logger: cfg.Logger}
	if core.RegistrationAllowed() {
		deps.Registrar = core
	}
	clients, err := c2s.New(cc, deps)
	if err != nil {
		return nil, err
	}
	return &server{Core: core, clients: clients}, nil
}

// Run is cmd/xmppd's lifecycle: listen, start the core, serve until ctx
// is done, tell the core, stop serving (each session's end recorded and
// broadcast), stop the core.
func (s *server) Run(ctx context.Context) error {
	if err := s.clients.Listen(); err != nil {
		return err
	}
	if err := s.Core.Start(ctx); err != nil {
		return err
	}
	serveCtx, stopServe := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServe()
	served := make(chan error, 1)
	go func() { served <- s.clients.Serve(serveCtx) }()
	var err error
	select {
	case <-ctx.Done():
		s.BeginStop()
		stopServe()
		err = <-served
	case err = <-served:
		s.BeginStop()
	case <-s.Failed():
		s.BeginStop()
		stopServe()
		err = errors.Join(s.Err(), <-served)
	}
	return errors.Join(err, s.Core.Stop())
}

func (s *server) StartTLSAddr() net.Addr { return s.clients.StartTLSAddr() }

func (s *server) Addrs() []net.Addr {
	var out []net.Addr
	for _, a := range []net.Addr{s.clients.StartTLSAddr(), s.clients.DirectTLSAddr()} {
		if a != nil {
			out = append(out, a)
		}
	}
	return out
}

// status is the core's status and the transport's session count, as
// /healthz shows them.
type status struct {
	im.Status
	Sessions int
}

func (s *server) Status() status {
	return status{Status: s.Core.Status(), Sessions: s.clients.Stats().Sessions}
}
