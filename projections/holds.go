package projections

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"xmppd/events"
)

// The legal holds (issue 13): which accounts are held, by which cases,
// folded from each domain's compliance stream. The server asks it before
// retention destroys an account's keys; `xmppd user erase` and `xmppd
// hold` read the stream into one of their own (ReadHolds).

// Hold is one legal hold in force.
type Hold struct {
	Account string
	Case    string
	Reason  string
	// Since is when it was placed, and By who placed it (the event's
	// actor; empty in views folded from a rebuild, which reads no
	// provenance).
	Since time.Time
	By    string
}

// Holds is the legal holds of one or more domains. Safe for concurrent
// use: Apply takes the write lock, readers the read lock.
type Holds struct {
	mu sync.RWMutex
	// byAccount holds each held account's holds, by case.
	byAccount map[string]map[string]Hold
	// erasing is, by account, the log position of its latest
	// erasure.begun: a hold placed on it is refused unless the account
	// was created again after that (im/holds.go).
	erasing map[string]uint64
	// version is, by domain, the version of the compliance stream
	// folded: the expected version of an append that must know no hold
	// came in between (im/retention.go).
	version map[string]uint64
}

// NewHolds returns an empty view of holds.
func NewHolds() *Holds {
	return &Holds{byAccount: map[string]map[string]Hold{}, erasing: map[string]uint64{}, version: map[string]uint64{}}
}

// Apply folds an event of domain's compliance stream, decoded into p
// (nil: an event no view reads, which still advances the version).
func (h *Holds) Apply(domain string, e *events.Envelope, p events.Payload) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.version[domain] = max(h.version[domain], e.Version)
	switch p := p.(type) {
	case events.HoldPlaced:
		cases := h.byAccount[p.Account]
		if cases == nil {
			cases = map[string]Hold{}
			h.byAccount[p.Account] = cases
		}
		cases[p.Case] = Hold{Account: p.Account, Case: p.Case, Reason: p.Reason, Since: e.Recorded.UTC(), By: e.Actor}
	case events.ErasureBegun:
		h.erasing[p.Account] = e.Position
	case events.HoldReleased:
		delete(h.byAccount[p.Account], p.Case)
		if len(h.byAccount[p.Account]) == 0 {
			delete(h.byAccount, p.Account)
		}
	}
}

// ErasureBegun returns the log position of the latest erasure begun of
// account, 0 if none.
func (h *Holds) ErasureBegun(account string) uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.erasing[account]
}

// On returns the holds on account, by case.
func (h *Holds) On(account string) []Hold {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return sortHolds(h.byAccount[account])
}

// OnAt returns the holds on account and the version of domain's
// compliance stream they are as of, read together.
func (h *Holds) OnAt(domain, account string) ([]Hold, uint64) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return sortHolds(h.byAccount[account]), h.version[domain]
}

// All returns every hold in force, by account and case.
func (h *Holds) All() []Hold {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []Hold
	for _, cases := range h.byAccount {
		out = append(out, sortHolds(cases)...)
	}
	slices.SortFunc(out, func(a, b Hold) int {
		return strings.Compare(a.Account+"\x00"+a.Case, b.Account+"\x00"+b.Case)
	})
	return out
}

// Version is the version of domain's compliance stream folded.
func (h *Holds) Version(domain string) uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.version[domain]
}

func sortHolds(cases map[string]Hold) []Hold {
	out := make([]Hold, 0, len(cases))
	for _, c := range cases {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Hold) int { return strings.Compare(a.Case, b.Case) })
	return out
}

// Cases names the cases of holds, for a message: "2026-041, 2026-077".
func Cases(holds []Hold) string {
	names := make([]string, len(holds))
	for i, h := range holds {
		names[i] = h.Case
	}
	return strings.Join(names, ", ")
}

// ReadHolds folds domain's compliance stream from store, as it is now:
// what a command-line process knows of the holds without rebuilding
// every view.
func ReadHolds(ctx context.Context, store events.Store, domain string) (*Holds, error) {
	h := NewHolds()
	for e, err := range store.ReadStream(ctx, events.ComplianceStream(domain), 1) {
		if err != nil {
			return nil, fmt.Errorf("projections: read holds of %s: %w", domain, err)
		}
		var p events.Payload
		if folded("compliance", e.Type) {
			if p, err = events.Decode(&e); err != nil {
				return nil, fmt.Errorf("projections: read holds of %s: %w", domain, err)
			}
		}
		h.Apply(domain, &e, p)
	}
	return h, nil
}
