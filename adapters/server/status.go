package server

// Status is the server's state at one instant, for health checks and
// metrics.
type Status struct {
	// Running: Run listens for clients and shutdown has not begun.
	Running bool
	// ViewsAlive: the views' consumer follows the log. When it stops (an
	// event it cannot apply) every command would wait in vain.
	ViewsAlive bool
	// Applied is the log position the views have applied.
	Applied uint64
	// Sessions is how many client streams are bound.
	Sessions int
	// QueuedStanzas is how many stanzas wait in the sessions' output
	// queues; QueuedCommands how many commands wait on account actors.
	QueuedStanzas  int
	QueuedCommands int
}

// Status reports the server's state. It is safe from any goroutine, at
// any time (before Run it reports not running), and cheap enough to call
// on every scrape: it takes the c2s and actor locks once each.
func (s *Server) Status() Status {
	c := s.c2s.Stats()
	st := Status{
		Applied:        s.views.Position(),
		Sessions:       c.Sessions,
		QueuedStanzas:  c.Queued,
		QueuedCommands: s.actors.queued(),
	}
	select {
	case <-s.ready:
		// Run set s.consumer before closing ready.
		st.ViewsAlive = s.consumer.Err() == nil
		st.Running = !s.stopping.Load()
	default:
	}
	return st
}

// queued counts the commands waiting on every actor (not the running ones).
func (as *actors) queued() int {
	as.mu.Lock()
	defer as.mu.Unlock()
	n := 0
	for _, a := range as.m {
		n += len(a.queue)
	}
	return n
}
