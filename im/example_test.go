package im_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"

	"xmppd/adapters/bus"
	"xmppd/adapters/c2s"
	"xmppd/adapters/store/sqlite"
	"xmppd/events"
	"xmppd/im"
)

// Example shows how `xmppd serve` wires the core and its one transport
// today: a store, the core over it, the client listeners handing their
// sessions to the core; then the lifecycle: listen, Start (views rebuilt,
// leftovers recovered), serve, and at shutdown BeginStop before the
// transport closes its sessions (so each end is recorded and broadcast),
// then Stop. The log then holds the server's life: server.started, and
// server.stopped after a clean shutdown.
func Example() {
	dir, _ := os.MkdirTemp("", "xmppd-example") // xmppd serve: data_dir
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(dir, "xmppd.db")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	cert, _, err := c2s.LoadOrCreateCert(dir, "localhost")
	if err != nil {
		fmt.Println(err)
		return
	}
	follow := func(ctx context.Context, st events.Store, name string, from uint64, apply func(events.Envelope) error) (im.Follower, error) {
		f, err := bus.Follow(ctx, st, name, from, apply) // the views follow the log on watermill
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	core, err := im.New(im.Config{Domain: "localhost", Node: "node1", Store: store, Follow: follow})
	if err != nil {
		fmt.Println(err)
		return
	}
	clients, err := c2s.New(c2s.Config{
		Domain:         "localhost",
		StartTLSAddr:   "127.0.0.1:0", // xmppd serve: ":5222"
		DirectTLSAddr:  "127.0.0.1:0", // ":5223"
		TLS:            &tls.Config{Certificates: []tls.Certificate{cert}},
		ServerFeatures: im.ServerFeatures(),
	}, c2s.Deps{Core: core, Credentials: core, Observer: core})
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx, stop := context.WithCancel(context.Background()) // xmppd serve: signal.NotifyContext
	defer stop()
	if err := clients.Listen(); err != nil {
		fmt.Println(err)
		return
	}
	if err := core.Start(ctx); err != nil {
		fmt.Println("start:", err)
		return
	}
	served := make(chan error, 1)
	go func() { served <- clients.Serve(ctx) }()
	fmt.Printf("running=%v sessions=%d\n", core.Status().Running, clients.Stats().Sessions)

	stop()
	core.BeginStop() // before the transport ends its sessions
	fmt.Println("served:", <-served)
	fmt.Println("stopped:", core.Stop())

	for e, err := range store.ReadAll(context.Background(), 1) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(e.Position, e.Type, e.Actor)
	}
	// Output:
	// running=true sessions=0
	// served: <nil>
	// stopped: <nil>
	// 1 server.started server:node1
	// 2 server.stopped server:node1
}
