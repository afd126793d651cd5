package replay

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"

	"xmppd/events"
)

// The compliance record in the audit (issue 13): legal holds placed and
// released and the keys retention destroyed, from the domain's compliance
// stream. An account's story shows those about the account; the
// compliance story (AuditCompliance) shows them all.

// AuditCompliance tells the story of domain's compliance stream: every
// hold and expiry (and whatever else the organisation did with the
// archive that the stream records), one Entry each.
func AuditCompliance(ctx context.Context, store events.Store, domain string, f Filter, progress Progress, emit func(Entry) error) error {
	return audit(merged(ctx, store, []string{events.ComplianceStream(domain)}, Cutoff{}), keysOf(store), f, progress, emit)
}

// complianceAccount is the account a compliance event concerns, "" if
// it names none.
func complianceAccount(p events.Payload) string {
	switch p := p.(type) {
	case events.HoldPlaced:
		return p.Account
	case events.HoldReleased:
		return p.Account
	case events.KeysExpired:
		return p.Account
	case events.ErasureBegun:
		return p.Account
	}
	return ""
}

// aboutAccount keeps, of log, the events of the streams named for bare
// and those of the compliance stream that concern bare.
func aboutAccount(log iter.Seq2[events.Envelope, error], bare string) iter.Seq2[events.Envelope, error] {
	return func(yield func(events.Envelope, error) bool) {
		for e, err := range log {
			if err == nil && strings.HasPrefix(e.Stream, events.CompliancePrefix) {
				p, derr := events.Decode(&e)
				if derr != nil {
					err = derr
				} else if complianceAccount(p) != bare {
					continue
				}
			}
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
}

// complianceWords says what a compliance event records; ok is false for
// a payload that is not one.
func complianceWords(p events.Payload) (text string, ok bool) {
	switch p := p.(type) {
	case events.HoldPlaced:
		return fmt.Sprintf("legal hold placed on %s: case %s (%s)", p.Account, p.Case, p.Reason), true
	case events.HoldReleased:
		t := fmt.Sprintf("legal hold released on %s: case %s", p.Account, p.Case)
		if p.Reason != "" {
			t += " (" + p.Reason + ")"
		}
		return t, true
	case events.KeysExpired:
		return fmt.Sprintf("retention expired %d keys of %s (periods %s, ended by %s; retention %s): content sealed under them reads as expired",
			len(p.Periods), p.Account, strings.Join(p.Periods, ", "), p.Before.UTC().Format(time.RFC3339), p.Retention), true
	case events.ErasureBegun:
		return fmt.Sprintf("erasure of %s begun: its keys are being destroyed (GDPR art. 17)", p.Account), true
	}
	return "", false
}
