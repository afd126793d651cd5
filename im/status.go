package im

// Status is the server's state at one instant, for health checks and
// metrics.
type Status struct {
	// Running: Start has finished and shutdown has not begun.
	Running bool
	// ViewsAlive: the views' consumer follows the log. When it stops (an
	// event it cannot apply) every command would wait in vain.
	ViewsAlive bool
	// Applied is the log position the views have applied.
	Applied uint64
	// QueuedCommands is how many commands wait on account actors.
	QueuedCommands int
}

// Status reports the server's state. It is safe from any goroutine, at
// any time (before Run it reports not running), and cheap enough to call
// on every scrape: it takes the actors' lock once.
func (s *Core) Status() Status {
	st := Status{
		Applied:        s.views.Position(),
		QueuedCommands: s.actors.queued(),
	}
	select {
	case <-s.ready:
		// Start set s.consumer before closing ready.
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
