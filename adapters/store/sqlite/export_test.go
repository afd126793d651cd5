package sqlite

// SetDirectReadMin makes every read of at least n events take its rows
// straight from the file (rawread.go), so that small test logs exercise
// that path too.
func SetDirectReadMin(s *Store, n uint64) { s.rawMin = n }

// DirectReadFallbacks returns how many long reads the file could not
// serve directly and went on through SQL.
func DirectReadFallbacks(s *Store) int64 { return s.rawFallbacks.Load() }
