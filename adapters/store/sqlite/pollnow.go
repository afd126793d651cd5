package sqlite

// PollNow wakes every subscription to look for new commits at once, as
// if the poller had just seen one, rather than at its next tick
// (Config.PollInterval). A reader that learned from Head that another
// process committed calls it so as not to wait for the tick; a wake-up
// that finds nothing costs each subscription one query.
func (s *Store) PollNow() {
	s.recent.outside.Add(1)
	s.commits.broadcast()
}
