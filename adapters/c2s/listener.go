package c2s

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Listen binds the configured addresses; Serve calls it if needed. Call it
// first to learn the addresses (e.g. port 0 in tests).
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listeners != nil {
		return nil
	}
	var ls []net.Listener
	listen := func(addr string) (net.Listener, error) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return nil, fmt.Errorf("c2s: listen %s: %w", addr, err)
		}
		ls = append(ls, l)
		return l, nil
	}
	if s.cfg.StartTLSAddr != "" {
		l, err := listen(s.cfg.StartTLSAddr)
		if err != nil {
			return err
		}
		s.startAddr = l.Addr()
	}
	if s.cfg.DirectTLSAddr != "" {
		l, err := listen(s.cfg.DirectTLSAddr)
		if err != nil {
			return err
		}
		s.directAddr = l.Addr()
	}
	s.listeners = ls
	return nil
}

// StartTLSAddr is the bound STARTTLS address, or nil.
func (s *Server) StartTLSAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startAddr
}

// DirectTLSAddr is the bound direct TLS address, or nil.
func (s *Server) DirectTLSAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.directAddr
}

// Serve accepts connections until ctx is cancelled or Shutdown or Close
// is called. On ctx's cancellation it shuts down gracefully, allowing
// ShutdownGrace for it.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	ls := s.listeners
	start := s.startAddr
	s.mu.Unlock()
	var accepting sync.WaitGroup
	for _, l := range ls {
		accepting.Add(1)
		go func() {
			defer accepting.Done()
			s.accept(l, l.Addr() != start)
		}()
	}
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
		defer cancel()
		s.Shutdown(sctx)
	case <-s.stopped:
	}
	accepting.Wait()
	return nil
}

// ShutdownGrace is how long Serve lets sessions end when its context is
// cancelled.
const ShutdownGrace = 10 * time.Second

func (s *Server) accept(l net.Listener, direct bool) {
	for {
		raw, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isShuttingDown() {
				return
			}
			// Out of descriptors and the like: wait rather than spin.
			s.log.Warn("c2s: accept", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if tc, ok := raw.(*net.TCPConn); ok && s.cfg.SendBuffer > 0 {
			// Bounds what the kernel holds for a client that stopped
			// reading: counted as written, but lost if the process dies.
			tc.SetWriteBuffer(s.cfg.SendBuffer)
		}
		c := newConn(s, s.baseCtx, raw, direct)
		s.mu.Lock()
		if s.shutting {
			s.mu.Unlock()
			raw.Close()
			return
		}
		s.conns[c] = nil
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
		}()
	}
}
