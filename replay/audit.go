package replay

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/events"
)

// Categories returns the names Filter.Categories accepts.
func Categories() []string {
	return []string{"account", "archive", "blocking", "compliance", "offline", "pep", "presence", "roster", "session", "subscription"}
}

// categoryOf returns the category of an event type, or "other".
func categoryOf(typ string) string {
	switch typ {
	case events.TypeSubscriptionChanged, events.TypeSubscriptionIgnored, events.TypePreapprovalSet, events.TypePreapprovalCleared:
		return "subscription"
	case events.TypeRosterItemSet, events.TypeRosterItemRemoved:
		return "roster"
	case events.TypeSessionStarted, events.TypeSessionEnded, events.TypeAuthFailed, events.TypeAuthRefusalsSummarised,
		events.TypeSessionSuspended, events.TypeSessionResumed:
		return "session"
	case events.TypePresenceAvailable, events.TypePresenceUnavailable, events.TypeDirectedPresence:
		return "presence"
	case events.TypeAccountCreated, events.TypeAccountDeleted, events.TypeCredentialsSet,
		events.TypeVCardSet, events.TypePrivateSet, events.TypeAccountErased:
		return "account"
	case events.TypeOfflineQueued, events.TypeOfflineDelivered:
		return "offline"
	case events.TypeBlockingBlocked, events.TypeBlockingUnblocked:
		return "blocking"
	case events.TypePEPNodeConfigured, events.TypePEPPublished, events.TypePEPRetracted, events.TypePEPNodeDeleted:
		return "pep"
	case events.TypeArchiveMessageStored, events.TypeArchiveMessageRetracted, events.TypeArchivePrefsSet:
		return "archive"
	case events.TypeHoldPlaced, events.TypeHoldReleased, events.TypeKeysExpired, events.TypeErasureBegun:
		return "compliance"
	}
	return "other"
}

// Filter selects the events an audit tells.
type Filter struct {
	// Contact, a bare JID, keeps the events about that contact: its roster
	// item and subscription, presence directed to it, stanzas queued from it.
	Contact string
	// Since and Until bound the recorded time, both inclusive; zero is
	// unbounded. They filter (an audit lists every event recorded in the
	// window, whatever order writers' clocks put them in), so the
	// account's whole history is read.
	Since, Until time.Time
	// Categories keeps the events of these categories (see Categories);
	// empty keeps every event.
	Categories []string
}

// Validate reports every problem with f at once.
func (f Filter) Validate() error {
	var bad []string
	for _, c := range f.Categories {
		if !slices.Contains(Categories(), c) {
			bad = append(bad, fmt.Sprintf("unknown category %q (one of %s)", c, strings.Join(Categories(), ", ")))
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		bad = append(bad, "until is before since")
	}
	if len(bad) > 0 {
		return fmt.Errorf("replay: invalid audit filter: %s", strings.Join(bad, "; "))
	}
	return nil
}

// Entry is one event of the story, with everything an auditor asks: when,
// what happened (for subscriptions the Appendix A input and the states
// before and after; for a session's end its cause and stream error
// condition), and who: the actor's full JID, session, client address,
// stanza id and the node that recorded it.
type Entry struct {
	Time     time.Time `json:"time"`
	Position uint64    `json:"position"`
	Stream   string    `json:"stream"`
	Version  uint64    `json:"version"`
	Type     string    `json:"type"`
	Category string    `json:"category"`
	Text     string    `json:"text"`
	Contact  string    `json:"contact,omitempty"`
	Resource string    `json:"resource,omitempty"`
	// Cause is the Appendix A input of a subscription event, or the
	// events.SessionEndCause of session.ended.
	Cause  string `json:"cause,omitempty"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// Condition is the RFC 6120 stream error condition that ended a
	// session, and Detail the words recorded with its end (for sessions
	// ended by an xmppd writing session.ended schema 1, its reason).
	Condition string `json:"condition,omitempty"`
	Detail    string `json:"detail,omitempty"`
	// PEPNode and Item name the XEP-0163 node and item of a pep event.
	PEPNode string `json:"pep_node,omitempty"`
	Item    string `json:"item,omitempty"`

	Actor         string `json:"actor"`
	SessionID     string `json:"session"`
	ClientAddr    string `json:"addr"`
	StanzaID      string `json:"stanza_id"`
	Node          string `json:"node"`
	EventID       string `json:"id"`
	CausationID   string `json:"causation,omitempty"`
	CorrelationID string `json:"correlation,omitempty"`
}

// Audit tells the story of the account bare: every event of its streams
// that f keeps, in log order, one Entry each. It reads only the account's
// own streams, its message archive (XEP-0313, issue 13) included, and
// the events of its domain's compliance stream that concern it (legal
// holds, expired keys).
func Audit(ctx context.Context, store events.Store, bare string, f Filter, progress Progress, emit func(Entry) error) error {
	streams := append(accountStreams(bare), events.ArchiveStream(bare))
	if _, domain, ok := strings.Cut(bare, "@"); ok {
		streams = append(streams, events.ComplianceStream(domain))
	}
	return audit(aboutAccount(merged(ctx, store, streams, Cutoff{}), bare), keysOf(store), f, progress, emit)
}

// AuditServer tells the story of the server of domain: every event of
// server-<domain> that f keeps (starts and stops, administrative actions,
// failed logins and the summaries of refused ones), one Entry each.
func AuditServer(ctx context.Context, store events.Store, domain string, f Filter, progress Progress, emit func(Entry) error) error {
	return audit(merged(ctx, store, []string{events.ServerStream(domain)}, Cutoff{}), keysOf(store), f, progress, emit)
}

// audit emits the Entries of the events of log that f keeps.
func audit(log iter.Seq2[events.Envelope, error], keys events.KeyLookup, f Filter, progress Progress, emit func(Entry) error) error {
	if err := f.Validate(); err != nil {
		return err
	}
	for e, err := range log {
		if err != nil {
			return err
		}
		progress.add(1)
		if (!f.Since.IsZero() && e.Recorded.Before(f.Since)) || (!f.Until.IsZero() && e.Recorded.After(f.Until)) {
			continue
		}
		cat := categoryOf(e.Type)
		if len(f.Categories) > 0 && !slices.Contains(f.Categories, cat) {
			continue
		}
		en, err := entryOf(&e, cat, keys)
		if err != nil {
			return err
		}
		if f.Contact != "" && en.Contact != f.Contact {
			continue
		}
		if err := emit(en); err != nil {
			return err
		}
	}
	return nil
}

// entryOf decodes e into an Entry, opening sealed content with keys.
func entryOf(e *events.Envelope, cat string, keys events.KeyLookup) (Entry, error) {
	en := Entry{Time: e.Recorded.UTC(), Position: e.Position, Stream: e.Stream, Version: e.Version, Type: e.Type,
		Category: cat, Actor: e.Actor, SessionID: e.SessionID, ClientAddr: e.ClientAddr, StanzaID: e.StanzaID,
		Node: e.Node, EventID: e.ID, CausationID: e.CausationID, CorrelationID: e.CorrelationID}
	if !events.DefaultCodec.Known(e.Type) {
		en.Text = "event of unknown type " + e.Type
		return en, nil
	}
	p, err := events.Decode(e)
	if err == nil {
		p, err = events.OpenPersonal(p, keys)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("replay: describe event: %w", err)
	}
	switch p := p.(type) {
	case events.SubscriptionChanged:
		en.Contact, en.Cause, en.Before, en.After = p.Contact, string(p.Cause), string(p.Before), string(p.After)
		en.Text = fmt.Sprintf("%s: %s → %s", inputWords(p.Cause, p.Contact), p.Before, p.After)
	case events.SubscriptionIgnored:
		en.Contact, en.Cause, en.Before, en.After = p.Contact, string(p.Cause), string(p.State), string(p.State)
		en.Text = fmt.Sprintf("%s: ignored, no change in %s (RFC 6121 Appendix A)", inputWords(p.Cause, p.Contact), p.State)
	case events.PreapprovalSet:
		en.Contact, en.Text = p.Contact, "pre-approved a subscription from "+p.Contact+" (RFC 6121 3.4)"
	case events.PreapprovalCleared:
		en.Contact, en.Text = p.Contact, fmt.Sprintf("pre-approval of %s cleared (%s)", p.Contact, p.Reason)
	case events.RosterItemSet:
		en.Contact = p.Contact
		en.Text = fmt.Sprintf("roster item %s set: name %q, groups [%s]", p.Contact, p.Name, strings.Join(p.Groups, ","))
	case events.RosterItemRemoved:
		en.Contact, en.Text = p.Contact, "roster item "+p.Contact+" removed"
	case events.SessionStarted:
		en.Resource = p.Resource
		en.Text = fmt.Sprintf("session started: resource %s from %s (%s, %s)", p.Resource, p.ClientAddr, p.Mechanism, p.TLS)
	case events.SessionEnded:
		en.Resource, en.Cause, en.Condition, en.Detail = p.Resource, string(p.Cause), p.Condition, p.Detail
		en.Text = fmt.Sprintf("session ended: resource %s (%s)", p.Resource, endWords(p))
	case events.SessionSuspended:
		en.Resource, en.Cause, en.Detail = p.Resource, string(p.Cause), p.Detail
		en.Text = fmt.Sprintf("session suspended: resource %s (%s), %d stanzas unacknowledged, resumable for %ds (XEP-0198)",
			p.Resource, endWords(events.SessionEnded{Cause: p.Cause}), p.Unacked, p.ResumeWithinSeconds)
	case events.SessionResumed:
		en.Resource = p.Resource
		en.Text = fmt.Sprintf("session resumed: resource %s from %s (%s, %s), %d stanzas sent again (XEP-0198)",
			p.Resource, p.ClientAddr, p.Mechanism, p.TLS, p.Resent)
	case events.AuthFailed:
		en.Text = fmt.Sprintf("authentication failed: %s from %s (%s%s)", p.Mechanism, p.ClientAddr, p.Condition, throttleWords(p))
	case events.AuthRefusalsSummarised:
		en.Text = refusalsWords(p)
	case events.PresenceAvailable:
		en.Resource = p.Resource
		en.Text = fmt.Sprintf("presence from %s: %s", p.Resource, presenceWords(Resource{Show: p.Show, Status: p.Status, Priority: p.Priority}))
		if gone := events.GoneOf(p); gone != "" {
			en.Text += ", status and stanza " + goneWords(gone)
		}
	case events.PresenceUnavailable:
		en.Resource, en.Text = p.Resource, "presence from "+p.Resource+": unavailable"
	case events.DirectedPresence:
		en.Resource, en.Contact = p.Resource, bareOf(p.To)
		kind := "unavailable"
		if p.Available {
			kind = "available"
		}
		en.Text = fmt.Sprintf("directed %s presence from %s to %s", kind, p.Resource, p.To)
		if gone := events.GoneOf(p); gone != "" {
			en.Text += ", stanza " + goneWords(gone)
		}
	case events.OfflineQueued:
		// Who sent what kind is clear; the stanza is sealed under the
		// queue owner's key and shown by its size, as an archived
		// message is.
		en.Contact = bareOf(p.From)
		en.Text = fmt.Sprintf("%s from %s queued offline (%d bytes)", p.Kind, p.From, len(p.Stanza))
		if gone := events.GoneOf(p); gone != "" {
			en.Text = fmt.Sprintf("%s from %s queued offline: content %s", p.Kind, p.From, goneWords(gone))
		}
	case events.OfflineDelivered:
		en.Resource = p.Resource
		en.Text = fmt.Sprintf("offline stanzas up to version %d delivered to %s", p.Through, p.Resource)
	case events.AccountCreated:
		en.Text = "account created"
	case events.AccountDeleted:
		en.Text = "account deleted: " + p.Reason
	case events.AccountErased:
		en.Text = fmt.Sprintf("account erased: %d keys destroyed, personal content sealed under them is unreadable (GDPR art. 17)", p.Keys)
	case events.CredentialsSet:
		en.Text = fmt.Sprintf("credentials set (%d SCRAM mechanisms)", len(p.Scram))
	case events.BlockingBlocked:
		if len(p.JIDs) == 1 {
			en.Contact = bareOf(p.JIDs[0])
		}
		en.Text = "blocked " + strings.Join(p.JIDs, ", ") + " (XEP-0191 3.3)"
	case events.BlockingUnblocked:
		if len(p.JIDs) == 1 {
			en.Contact = bareOf(p.JIDs[0])
		}
		en.Text = "unblocked " + strings.Join(p.JIDs, ", ") + " (XEP-0191 3.4)"
		if p.All {
			en.Text = "unblocked every JID (XEP-0191 3.5)"
		}
	case events.VCardSet:
		en.Text = fmt.Sprintf("vCard set (%d bytes)", len(p.XML))
		if gone := events.GoneOf(p); gone != "" {
			en.Text = "vCard set: content " + goneWords(gone)
		}
	case events.PrivateSet:
		en.Text = fmt.Sprintf("private XML stored: <%s xmlns='%s'/> (%d bytes)", p.Local, p.Namespace, len(p.XML))
		if gone := events.GoneOf(p); gone != "" {
			en.Text = fmt.Sprintf("private XML stored: <%s xmlns='%s'/>: content %s", p.Local, p.Namespace, goneWords(gone))
		}
	case events.PEPNodeConfigured, events.PEPPublished, events.PEPRetracted, events.PEPNodeDeleted:
		en.PEPNode, en.Item, en.Text = pepWords(p)
	case events.ArchiveMessageStored:
		// The other party and the direction are in clear (the index
		// needs them); the stanza is sealed under the owner's key, and
		// shown by its size, as a vCard is.
		en.Contact = bareOf(p.With)
		what := "message from " + p.With + " archived"
		if p.Direction == events.ArchiveOut {
			what = "message to " + p.With + " archived"
		}
		en.Text = fmt.Sprintf("%s (%d bytes, XEP-0313 id %s)", what, len(p.Content), p.ID)
		if gone := events.GoneOf(p); gone != "" {
			en.Text = fmt.Sprintf("%s: content %s (XEP-0313 id %s)", what, goneWords(gone), p.ID)
		}
	case events.ArchiveMessageRetracted:
		// XEP-0424: the original stays in the log, readable here and in
		// export; only MAM shows it as a tombstone.
		en.Contact = p.By
		en.Text = fmt.Sprintf("message %s retracted by %s (XEP-0424; retraction %s, stanza id %q); its content stays in the log",
			p.ID, p.By, p.Retraction, p.RetractionStanzaID)
	case events.ArchivePrefsSet:
		en.Text = fmt.Sprintf("archive preferences set (XEP-0441): default %s, always %v, never %v", p.Default, p.Always, p.Never)
	default:
		var ok bool
		if en.Text, ok = complianceWords(p); !ok {
			en.Text = e.Type
		}
	}
	return en, nil
}

// endCauseWords says each cause of events.SessionEnded in words.
var endCauseWords = map[events.SessionEndCause]string{
	events.EndClientClosed:      "client closed the stream",
	events.EndConflict:          "replaced by a new session with the same resource",
	events.EndStreamError:       "stream error from the server",
	events.EndConnectionLost:    "connection lost",
	events.EndTimeout:           "timed out, the client sent nothing",
	events.EndShutdown:          "server shutdown",
	events.EndRestart:           "ended at restart, its server process had stopped without ending it",
	events.EndAccountDeleted:    "account deleted",
	events.EndServerClosed:      "closed by server",
	events.EndBindFailed:        "bind not completed in time",
	events.EndResumptionExpired: "suspended and not resumed in time (XEP-0198)",
	events.EndUnknown:           "cause unknown",
}

// endWords says why a session ended: the cause in words, the stream error
// condition when one was sent (or received from the client), and the
// recorded detail unless it only repeats them.
func endWords(p events.SessionEnded) string {
	w, ok := endCauseWords[p.Cause]
	if !ok {
		w = "cause " + string(p.Cause)
	}
	base := w
	if c := p.Condition; c != "" {
		switch p.Cause {
		case events.EndStreamError:
			w = "stream error <" + c + "/> from the server"
		case events.EndClientClosed:
			w += " with stream error <" + c + "/>"
		default:
			w += ", stream error <" + c + "/>"
		}
	}
	if d := p.Detail; d != "" && d != base && d != p.Condition && d != string(p.Cause) && d != strings.ReplaceAll(string(p.Cause), "_", " ") {
		w += ": " + d
	}
	return w
}

// bareOf returns the bare form of an address, or the address itself when
// it is not a JID.
func bareOf(addr string) string {
	j, err := jid.Parse(addr)
	if err != nil {
		return addr
	}
	return j.Bare().String()
}

// throttleWords says what the failed-login throttle did to an attempt,
// after its condition: nothing when it answered at normal speed or when
// the event predates the record (schema 1).
func throttleWords(p events.AuthFailed) string {
	switch p.Throttle {
	case events.ThrottleDelayed:
		return fmt.Sprintf("; throttled: answer delayed %s", time.Duration(p.DelayMillis)*time.Millisecond)
	case events.ThrottleRefused:
		return "; throttled: refused without checking the password"
	}
	return ""
}

// refusalsWords says what a summary of refused logins stands for.
func refusalsWords(p events.AuthRefusalsSummarised) string {
	from := "from " + p.ClientAddr
	if p.ClientAddr == "" {
		from = "from addresses not counted apart (the count of addresses was full)"
	}
	n := fmt.Sprintf("%d further logins", p.Count)
	if p.Count == 1 {
		n = "1 further login"
	}
	return fmt.Sprintf("%s %s refused by the throttle without checking a password, between %s and %s (counted, not recorded one by one)",
		n, from, p.First.UTC().Format(time.RFC3339Nano), p.Last.UTC().Format(time.RFC3339Nano))
}
