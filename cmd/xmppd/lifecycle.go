package main

import (
	"context"
	"errors"

	"xmppd/adapters/bus"
	"xmppd/adapters/c2s"
	"xmppd/events"
	"xmppd/im"
)

// transport is what the lifecycle needs of a transport: c2s today,
// WebSocket and server-to-server later.
type transport interface {
	Listen() error
	Serve(ctx context.Context) error
}

// runServer is the server's lifecycle: the transports listen (Listen may
// have been called before, for tests on port 0), the core starts (views
// rebuilt, the log followed, a previous process's leftovers recovered),
// then the transports serve until ctx is done, a transport stops, or the
// core fails (its views stopped following the log). At shutdown the core
// is told first, so that each session the transports end is recorded and
// its unavailable presence broadcast (RFC 6121 4.5.2) before the streams
// are closed with <system-shutdown/> (RFC 6120 4.9.3.19); then the core
// stops (server.stopped recorded). ready is called once clients are
// served.
func runServer(ctx context.Context, core *im.Core, t transport, ready func()) error {
	if err := t.Listen(); err != nil {
		return err
	}
	if err := core.Start(ctx); err != nil {
		return err
	}
	// Serving outlives ctx by the shutdown: the transport's Serve returns
	// once every session's end was handed to the core.
	serveCtx, stopServe := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServe()
	served := make(chan error, 1)
	go func() { served <- t.Serve(serveCtx) }()
	ready()
	var serveErr error
	select {
	case <-ctx.Done():
		core.BeginStop()
		stopServe()
		serveErr = <-served
	case serveErr = <-served:
		core.BeginStop()
	case <-core.Failed():
		// Every command would wait for the views in vain: stop serving
		// and say why.
		core.BeginStop()
		stopServe()
		serveErr = errors.Join(core.Err(), <-served)
	}
	return errors.Join(serveErr, core.Stop())
}

// newC2S makes the client transport over core, with the core's
// disco#info features added to the server's.
func newC2S(cfg c2s.Config, core *im.Core, deps c2s.Deps) (*c2s.Server, error) {
	cfg.ServerFeatures = append(cfg.ServerFeatures[:len(cfg.ServerFeatures):len(cfg.ServerFeatures)], im.ServerFeatures()...)
	deps.Core, deps.Credentials, deps.Observer = core, core, core
	if core.RegistrationAllowed() {
		deps.Registrar = core
	}
	return c2s.New(cfg, deps)
}

// followLog is how the core follows the log: on the watermill bus
// (adapters/bus), fed from the store.
func followLog(ctx context.Context, store events.Store, name string, from uint64, apply func(events.Envelope) error) (im.Follower, error) {
	f, err := bus.Follow(ctx, store, name, from, apply)
	if err != nil {
		return nil, err
	}
	return f, nil
}
