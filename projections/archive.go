package projections

import (
	"context"
	"errors"
	"strings"
	"time"

	"xmppd/domain"
	"xmppd/events"
)

// The archive index: per account, where each archived message is in the
// log, in archive order, and what a XEP-0313 query filters on. It holds
// no message content: a query reads the stanzas of the page it returns
// back from the log (im/mam.go), so an archive of a million messages costs
// the index its positions and ids, not its XML. Like every view it is
// folded from the log and rebuilt with the others at start-up.

// ArchiveEntry is one archived message as the index knows it.
type ArchiveEntry struct {
	ID string
	// Version is the archive.message_stored event's version in the
	// account's archive stream, Position its place in the log.
	Version  uint64
	Position uint64
	// With is the other party as the stanza names it (a full JID for a
	// received message, usually).
	With string
	// Unix nanoseconds of the event's Recorded time: the time the
	// message was archived.
	nanos int64
	Out   bool
}

// Time is when the message was archived.
func (e ArchiveEntry) Time() time.Time { return time.Unix(0, e.nanos).UTC() }

// archiveIndex is one account's archive index. Guarded by its
// accountState's mu.
type archiveIndex struct {
	entries []ArchiveEntry
	byID    map[string]int
	// with interns the other parties' addresses: a conversation's
	// thousands of entries share one string.
	with map[string]string
	// retracted holds the entries retracted by their sender (XEP-0424),
	// by archive id (which, unlike an index, survives entries being
	// dropped): few, so kept beside the entries rather than in each.
	retracted map[string]ArchiveRetraction
	// prefs are the account's XEP-0441 preferences; nil: none set.
	prefs *domain.ArchivePrefs

	// lazy: the index's entries and retractions are not loaded: a
	// rebuild skipped the stream's archived messages (archive_lazy.go),
	// and the first reader loads them from the stream. Folding them
	// waits until then too: the load reads them from the log.
	lazy bool
	// seen is the version of the archive stream last folded, skipped
	// or not: a load is complete once it read that far.
	seen uint64
	// since is the log position of the account's last erasure: what the
	// stream holds at or before it is not the index's (0: none).
	since uint64
}

// foldArchive applies an event of s's archive stream, decoded into p.
// Called with s.mu held for writing.
func (s *accountState) foldArchive(e *events.Envelope, p events.Payload) {
	a := &s.archive
	a.seen = max(a.seen, e.Version)
	switch p.(type) {
	case archiveSkipped:
		a.lazy = true
		return
	case events.ArchiveMessageStored, events.ArchiveMessageRetracted:
		if a.lazy {
			return // the load reads it from the stream
		}
	}
	a.fold(e, p)
}

// fold applies an event of the archive stream to a, decoded into p.
func (a *archiveIndex) fold(e *events.Envelope, p events.Payload) {
	switch p := p.(type) {
	case events.ArchiveMessageStored:
		a.foldStored(e, p)
	case events.ArchiveMessageRetracted:
		a.foldRetracted(e, p)
	case events.ArchivePrefsSet:
		a.prefs = &domain.ArchivePrefs{Default: p.Default, Always: p.Always, Never: p.Never}
	}
}

// foldStored adds an archived message to the index.
func (a *archiveIndex) foldStored(e *events.Envelope, m events.ArchiveMessageStored) {
	if a.byID == nil {
		a.byID, a.with = make(map[string]int), make(map[string]string)
	}
	if _, dup := a.byID[m.ID]; dup {
		return // XEP-0313 6.2: an id names one item; the first keeps it
	}
	with, ok := a.with[m.With]
	if !ok {
		with = strings.Clone(m.With)
		a.with[with] = with
	}
	a.byID[m.ID] = len(a.entries)
	a.entries = append(a.entries, ArchiveEntry{
		ID: m.ID, Version: e.Version, Position: e.Position, With: with,
		nanos: e.Recorded.UnixNano(), Out: m.Direction == events.ArchiveOut,
	})
}

// ErrArchiveIDUnknown is returned for a query naming an id the archive
// does not hold (XEP-0313 4.1.3 and 4.3.2: item-not-found).
var ErrArchiveIDUnknown = errors.New("projections: no such archive id")

// ArchiveQuery is a XEP-0313 query over one account's archive: the form's
// filters (section 4.1) and the RSM paging (XEP-0059, section 4.3).
type ArchiveQuery struct {
	// With keeps messages to or from this address: a bare JID matches
	// every resource of it, a full JID only itself (4.1.1).
	With string
	// Start and End keep messages archived at or after Start and at or
	// before End (4.1.2); zero: no bound.
	Start, End time.Time
	// AfterID and BeforeID keep messages strictly between them (4.1.3).
	AfterID, BeforeID string
	// IDs keeps only these messages (4.1.3); nil: no such filter.
	IDs []string

	// Max is the page size (RSM <max/>); negative: the server's default.
	Max int
	// After asks for the page after this id (RSM <after/>).
	After string
	// Before asks for the page before this id (RSM <before/>); with
	// HasBefore and an empty Before, the last page (XEP-0059 2.5).
	Before    string
	HasBefore bool

	// NoCount spares counting the result set: Count is left 0 (a
	// full-text search reads the index a page at a time and counts
	// nothing, im/mam_fulltext.go).
	NoCount bool
}

// ArchivePage is a query's answer.
type ArchivePage struct {
	// Items in archive order (XEP-0313 4.2).
	Items []ArchiveEntry
	// Count is how many messages the filters keep (RSM <count/>).
	Count int
	// Complete: the page ends the result set in the direction it was
	// asked for (XEP-0313 4.3.2, <fin complete='true'/>).
	Complete bool
	// Retracted holds, by archive id, the page's items that their
	// sender retracted (XEP-0424); nil when there are none.
	Retracted map[string]ArchiveRetraction
}

// ArchiveMeta is the first and last entries of an archive (XEP-0313
// section 5); ok is false for an empty archive.
func (v *Views) ArchiveMeta(bare string) (first, last ArchiveEntry, ok bool, err error) {
	s := v.lookup(bare)
	if s == nil {
		return first, last, false, nil
	}
	if err := v.loadArchive(context.Background(), s); err != nil {
		return first, last, false, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	es := s.archive.entries
	if len(es) == 0 {
		return first, last, false, nil
	}
	return es[0], es[len(es)-1], true, nil
}

// ArchiveLen is how many messages bare's archive index holds.
func (v *Views) ArchiveLen(bare string) (int, error) {
	s := v.lookup(bare)
	if s == nil {
		return 0, nil
	}
	if err := v.loadArchive(context.Background(), s); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.archive.entries), nil
}

// QueryArchive answers q over bare's archive. pageMax bounds the page
// (and is the page size when q.Max is negative). It reads the index under
// the account's read lock; without a with or time filter it touches only
// the entries it returns, so a query for the last page of a million
// messages costs what a page costs.
func (v *Views) QueryArchive(bare string, q ArchiveQuery, pageMax int) (ArchivePage, error) {
	s := v.lookup(bare)
	if s == nil {
		if q.AfterID != "" || q.BeforeID != "" || len(q.IDs) > 0 || q.After != "" || q.Before != "" {
			return ArchivePage{}, ErrArchiveIDUnknown
		}
		return ArchivePage{Complete: true}, nil
	}
	if err := v.loadArchive(context.Background(), s); err != nil {
		return ArchivePage{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.archive.query(q, pageMax)
}

func (a *archiveIndex) index(id string) (int, error) {
	i, ok := a.byID[id]
	if !ok {
		return 0, ErrArchiveIDUnknown
	}
	return i, nil
}

func (a *archiveIndex) query(q ArchiveQuery, pageMax int) (ArchivePage, error) {
	es := a.entries
	// The range the form's id filters leave.
	lo, hi := 0, len(es)
	if q.AfterID != "" {
		i, err := a.index(q.AfterID)
		if err != nil {
			return ArchivePage{}, err
		}
		lo = i + 1
	}
	if q.BeforeID != "" {
		i, err := a.index(q.BeforeID)
		if err != nil {
			return ArchivePage{}, err
		}
		hi = min(hi, i)
	}
	var only map[int]bool
	if q.IDs != nil {
		only = make(map[int]bool, len(q.IDs))
		for _, id := range q.IDs {
			i, err := a.index(id)
			if err != nil {
				return ArchivePage{}, err
			}
			only[i] = true
		}
	}
	withBare := q.With != "" && !strings.Contains(q.With, "/")
	filtered := q.With != "" || !q.Start.IsZero() || !q.End.IsZero() || only != nil
	start, end := q.Start.UnixNano(), q.End.UnixNano()
	keep := func(i int) bool {
		if only != nil && !only[i] {
			return false
		}
		e := &es[i]
		if q.With != "" {
			w := e.With
			if withBare {
				w, _, _ = strings.Cut(w, "/")
			}
			if w != q.With {
				return false
			}
		}
		// Compared to the microsecond: the precision of the stamps
		// the server hands out (im's stamp), so that a client that
		// asks from or until a result's stamp gets that result.
		t := e.nanos - e.nanos%1000
		if !q.Start.IsZero() && t < start {
			return false
		}
		if !q.End.IsZero() && t > end {
			return false
		}
		return true
	}
	// The page's bounds from RSM, inside the range.
	from, to := lo, hi // candidates [from, to)
	if q.After != "" {
		i, err := a.index(q.After)
		if err != nil {
			return ArchivePage{}, err
		}
		from = max(from, i+1)
	}
	if q.Before != "" {
		i, err := a.index(q.Before)
		if err != nil {
			return ArchivePage{}, err
		}
		to = min(to, i)
	}
	n := q.Max
	if n < 0 || n > pageMax {
		n = pageMax
	}
	var page ArchivePage
	var idx []int
	if q.HasBefore {
		// Backwards from the end of the candidates (XEP-0059 2.5).
		i := to - 1
		for ; i >= from && len(idx) < n; i-- {
			if keep(i) {
				idx = append(idx, i)
			}
		}
		for l, r := 0, len(idx)-1; l < r; l, r = l+1, r-1 {
			idx[l], idx[r] = idx[r], idx[l]
		}
		page.Complete = !anyKept(keep, from, i+1)
	} else {
		i := from
		for ; i < to && len(idx) < n; i++ {
			if keep(i) {
				idx = append(idx, i)
			}
		}
		page.Complete = !anyKept(keep, i, to)
	}
	page.Items = make([]ArchiveEntry, len(idx))
	for k, i := range idx {
		page.Items[k] = es[i]
		if r, ok := a.retracted[es[i].ID]; ok {
			if page.Retracted == nil {
				page.Retracted = make(map[string]ArchiveRetraction)
			}
			page.Retracted[es[i].ID] = r
		}
	}
	// RSM count over the whole result set [lo, hi).
	switch {
	case q.NoCount:
	case !filtered:
		page.Count = max(hi-lo, 0)
	default:
		for i := lo; i < hi; i++ {
			if keep(i) {
				page.Count++
			}
		}
	}
	return page, nil
}

// anyKept reports whether keep holds for some i in [from, to).
func anyKept(keep func(int) bool, from, to int) bool {
	for i := from; i < to; i++ {
		if keep(i) {
			return true
		}
	}
	return false
}
