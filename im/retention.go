package im

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"xmppd/events"
)

// Retention (issue 13): the server destroys the keys of the periods an
// account's retention has passed, on a schedule, so that the personal
// content sealed under them (archived messages above all) reads as
// expired in the log and in every copy of it, while every hash chain
// still verifies. A legal hold on the account stops it (projections.Holds).

// DefaultRetentionInterval is how often the server looks for keys to
// expire when RetentionConfig.Interval is zero.
const DefaultRetentionInterval = time.Hour

// RetentionConfig is the retention policy: how long each account's
// personal content is kept after the end of the key period it was sealed
// in. Zero keeps it for ever.
type RetentionConfig struct {
	// Default is the domain's retention (archive.retention).
	Default time.Duration
	// Accounts overrides Default for some accounts, by bare JID; a zero
	// value keeps that account's content for ever.
	Accounts map[string]time.Duration
	// Interval is the time between two sweeps; the first runs at start.
	// Zero: DefaultRetentionInterval.
	Interval time.Duration
}

// For is account's retention (0: for ever).
func (r RetentionConfig) For(account string) time.Duration {
	if d, ok := r.Accounts[account]; ok {
		return d
	}
	return r.Default
}

// shortest is the shortest retention that expires anything (0: none
// does): keys whose period ended before now minus it are the candidates.
func (r RetentionConfig) shortest() time.Duration {
	d := r.Default
	for _, o := range r.Accounts {
		if o > 0 && (d == 0 || o < d) {
			d = o
		}
	}
	return d
}

func (r RetentionConfig) validate() []error {
	var errs []error
	if r.Default < 0 || r.Interval < 0 {
		errs = append(errs, fmt.Errorf("im: config: retention %s and its interval %s must not be negative", r.Default, r.Interval))
	}
	for a, d := range r.Accounts {
		if d < 0 {
			errs = append(errs, fmt.Errorf("im: config: retention of %s is negative (%s)", a, d))
		}
	}
	return errs
}

// KeyExpirer is the key store's ability retention needs
// (adapters/keystore): the keys whose period ended by a time, and their
// destruction. Found on Config.Keys by type assertion.
type KeyExpirer interface {
	Due(before time.Time) (map[string][]string, error)
	DestroyPeriods(account string, periods []string, why string) ([]string, error)
}

// retain runs the retention sweep at once and then every interval until
// ctx ends. A failed sweep is logged and tried again at the next tick.
func (s *Core) retain(ctx context.Context, keys KeyExpirer) {
	every := s.cfg.Retention.Interval
	if every == 0 {
		every = DefaultRetentionInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.sweepRetention(ctx, keys); err != nil && ctx.Err() == nil {
			s.log.Error("im: retention sweep failed; tried again next time", "err", err, "next", every)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepRetention destroys every key whose period ended more than its
// account's retention ago, unless the account is held, recording
// keys.expired for each account first.
func (s *Core) sweepRetention(ctx context.Context, keys KeyExpirer) error {
	r := s.cfg.Retention
	shortest := r.shortest()
	if shortest == 0 {
		return nil
	}
	now := s.now().UTC()
	due, err := keys.Due(now.Add(-shortest))
	if err != nil {
		return err
	}
	var errs []error
	for _, account := range slices.Sorted(maps.Keys(due)) {
		keep := r.For(account)
		if keep == 0 {
			continue
		}
		before := now.Add(-keep)
		var periods []string
		for _, p := range due[account] {
			if end, err := events.PeriodEnd(p); err == nil && !end.After(before) {
				periods = append(periods, p)
			}
		}
		if len(periods) == 0 {
			continue
		}
		if err := s.expire(ctx, keys, account, periods, keep, before); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// expire records keys.expired for account's periods in its domain's
// compliance stream, expecting the version the holds view is at, and
// then destroys the keys. A hold appended meanwhile (`xmppd hold add` in
// another process) makes the append conflict: the views catch up and the
// hold is seen. A held account keeps its keys, and nothing is recorded:
// the hold is in the log already, and a note each sweep would only
// lengthen it.
func (s *Core) expire(ctx context.Context, keys KeyExpirer, account string, periods []string, keep time.Duration, before time.Time) error {
	_, dom, _ := strings.Cut(account, "@")
	stream := events.ComplianceStream(dom)
	for attempt := 1; ; attempt++ {
		holds, version := s.views.Holds.OnAt(dom, account)
		if len(holds) > 0 {
			cases := make([]string, len(holds))
			for i, h := range holds {
				cases[i] = h.Case
			}
			s.log.Info("retention: account under legal hold keeps its keys", "account", account, "periods", len(periods), "cases", strings.Join(cases, ","))
			return nil
		}
		p := events.KeysExpired{Account: account, Periods: periods, Retention: events.FormatDays(keep), Before: before}
		committed, err := s.append(ctx, stream, events.Exactly(version), s.serverMeta(), []events.Payload{p})
		if errors.Is(err, events.ErrConflict) && attempt < maxAttempts {
			if err := s.catchUp(ctx, stream); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("im: retention of %s: %w", account, err)
		}
		if _, err := keys.DestroyPeriods(account, periods, events.GoneExpired); err != nil {
			// Recorded but not destroyed: the next sweep finds the keys
			// due again and destroys them (recording them again).
			return fmt.Errorf("im: retention of %s: %w", account, err)
		}
		s.log.Info("retention: keys expired", "account", account, "periods", len(periods), "retention", p.Retention)
		// The next account's append expects the version this one made.
		return s.consumer.WaitFor(ctx, committed[len(committed)-1].Position)
	}
}
