package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure the HTTP handler.
type Options struct {
	// Pprof serves net/http/pprof under /debug/pprof/. Off by default:
	// profiles reveal memory contents and cost CPU while taken.
	Pprof bool
}

// health is /healthz's body.
type health struct {
	Status   string `json:"status"` // "ok" or "unavailable"
	Reason   string `json:"reason,omitempty"`
	Position uint64 `json:"position"` // log position applied by the views
	Sessions int    `json:"sessions"`
}

// Handler serves /metrics, /healthz and, with opts.Pprof, /debug/pprof/.
// Anything else is 404. status answers /healthz; nil: always unavailable.
func (m *Metrics) Handler(status StatusFunc, opts Options) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		h, code := healthOf(status)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(h)
	})
	if opts.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

func healthOf(status StatusFunc) (health, int) {
	if status == nil {
		return health{Status: "unavailable", Reason: "not started"}, http.StatusServiceUnavailable
	}
	st := status()
	h := health{Status: "ok", Position: st.Applied, Sessions: st.Sessions}
	switch {
	case !st.ViewsAlive && st.Running:
		h.Status, h.Reason = "unavailable", "views stopped following the log"
	case !st.Running:
		h.Status, h.Reason = "unavailable", "not serving clients (starting or stopping)"
	case st.Store != nil && !st.Store.Writable:
		h.Status, h.Reason = "unavailable", storeReason(st.Store)
	}
	if h.Status != "ok" {
		return h, http.StatusServiceUnavailable
	}
	return h, http.StatusOK
}

// storeReason is /healthz's reason while the store refuses writes.
func storeReason(sh *StoreHealth) string {
	return fmt.Sprintf("store refuses writes since %s: %s", sh.Since.UTC().Format(time.RFC3339), sh.Reason)
}

// Server is the HTTP listener of Handler.
type Server struct {
	ln   net.Listener
	http *http.Server
	done chan error
}

// Listen binds addr and serves h on it until Shutdown.
func Listen(addr string, h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	s := &Server{
		ln: ln,
		http: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 5 * time.Second,
			IdleTimeout:       60 * time.Second,
		},
		done: make(chan error, 1),
	}
	go func() {
		err := s.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return s, nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops accepting, lets requests in flight finish until ctx is
// done (then closes them) and returns once the listener has stopped.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("metrics: shutdown: %w", err), s.http.Close())
	}
	return errors.Join(err, <-s.done)
}
