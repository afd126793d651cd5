package server_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"

	"xmppd/adapters/c2s"
	"xmppd/adapters/server"
	"xmppd/adapters/store/sqlite"
)

// Example shows how `xmppd serve` wires the server: a store, the client
// listeners, and Run until the context ends (xmppd serve: on SIGINT or
// SIGTERM, from signal.NotifyContext). The log then holds the server's
// life: server.started, and server.stopped after a clean shutdown.
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
	srv, err := server.New(server.Config{
		Domain: "localhost",
		Node:   "node1",
		Store:  store,
		C2S: c2s.Config{
			StartTLSAddr:  "127.0.0.1:0", // xmppd serve: ":5222"
			DirectTLSAddr: "127.0.0.1:0", // ":5223"
			TLS:           &tls.Config{Certificates: []tls.Certificate{cert}},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		fmt.Println("run:", err)
		return
	}
	st := srv.Status()
	fmt.Printf("running=%v listeners=%d sessions=%d\n", st.Running, len(srv.Addrs()), st.Sessions)
	stop()
	fmt.Println("run returned:", <-done)

	for e, err := range store.ReadAll(context.Background(), 1) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(e.Position, e.Type, e.Actor)
	}
	// Output:
	// running=true listeners=2 sessions=0
	// run returned: <nil>
	// 1 server.started server:node1
	// 2 server.stopped server:node1
}
