package replay

import (
	"fmt"
	"strconv"
	"time"

	"xmppd/events"
)

// Cutoff is the moment a replay stops at: a log position, an instant, or
// (the zero value) the head of the log.
//
// "As of instant T" means every event recorded at or before T. Recorded
// times come from the writer's clock while the log's order is position
// order, so, as projections.RebuildUntil does, the first event of the
// account recorded after T ends the replay: a replayed state is always
// one the server actually had, never a mix of a later event without an
// earlier one.
type Cutoff struct {
	Position uint64    // 0: no position bound
	Time     time.Time // zero: no time bound
}

// ParseCutoff reads a cutoff as given on the command line: a bare integer
// is a log position, anything else an RFC 3339 time (fractions allowed).
func ParseCutoff(s string) (Cutoff, error) {
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return Cutoff{Position: n}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Cutoff{}, fmt.Errorf("replay: %q is neither a log position nor an RFC 3339 time (2026-11-20T10:02:11Z)", s)
	}
	return Cutoff{Time: t}, nil
}

// Includes reports whether e happened at or before c.
func (c Cutoff) Includes(e *events.Envelope) bool {
	if c.Position != 0 && e.Position > c.Position {
		return false
	}
	if !c.Time.IsZero() && e.Recorded.After(c.Time) {
		return false
	}
	return true
}

// IsZero reports whether c is the head of the log.
func (c Cutoff) IsZero() bool { return c.Position == 0 && c.Time.IsZero() }

// String renders c as ParseCutoff reads it.
func (c Cutoff) String() string {
	switch {
	case c.Position != 0:
		return strconv.FormatUint(c.Position, 10)
	case !c.Time.IsZero():
		return c.Time.UTC().Format(time.RFC3339Nano)
	}
	return "head"
}
