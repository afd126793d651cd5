package replay

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// Reading an account's message archive back for eDiscovery (issue 13):
// `xmppd archive export` and `xmppd archive search` both go through
// ArchiveMessages, which reads the archive-<bare> stream in archive order,
// opens each sealed stanza with the key store attached by WithKeys, and
// keeps the messages an ArchiveFilter selects. Nothing is indexed or
// cached: each run opens the content afresh, so content whose key was
// destroyed (erasure, retention) is shown as gone, never found by a
// search, by construction.

// ArchiveFilter selects archived messages.
type ArchiveFilter struct {
	// With keeps the messages exchanged with one party (XEP-0313 section
	// 4.1.1): a bare JID keeps every resource of it, a full JID that
	// resource only.
	With string
	// Since and Until bound the archive time, both inclusive; zero is
	// unbounded.
	Since, Until time.Time
}

// Validate reports every problem with f at once.
func (f ArchiveFilter) Validate() error {
	var bad []string
	if f.With != "" {
		if _, err := jid.Parse(f.With); err != nil {
			bad = append(bad, fmt.Sprintf("with %q is not a JID: %v", f.With, err))
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		bad = append(bad, "until is before since")
	}
	if len(bad) > 0 {
		return fmt.Errorf("replay: invalid archive filter: %s", strings.Join(bad, "; "))
	}
	return nil
}

// Content states of an archived message: its stanza was opened, or its
// key is gone and why (events.GoneErased, GoneExpired, GoneMissing).
const ContentOK = "ok"

// ArchivedMessage is one message of an account's archive as read back,
// with where it is in the log, so that a copy of it can be checked
// against the log (position, stream, version and the event's hash).
type ArchivedMessage struct {
	// ID is the XEP-0313 archive id.
	ID       string    `json:"id"`
	Position uint64    `json:"position"`
	Stream   string    `json:"stream"`
	Version  uint64    `json:"version"`
	Hash     string    `json:"hash"`
	Time     time.Time `json:"time"`
	// Direction is events.ArchiveIn or ArchiveOut; With the other party
	// as the archive names it.
	Direction string `json:"direction"`
	With      string `json:"with"`
	// From and To are the stanza's addresses, or, when its content is
	// gone, the owner's bare JID and With in the order Direction gives.
	From string `json:"from"`
	To   string `json:"to"`
	// Stanza is the message as archived ("" when gone).
	Stanza string `json:"stanza"`
	// ContentState is ContentOK or why the content is gone.
	ContentState string `json:"content_state"`

	// What the stanza says, for the formats that show it in parts
	// (all "" when gone): its id, type, <body/>, <subject/>, <thread/>.
	StanzaID string `json:"-"`
	Type     string `json:"-"`
	Body     string `json:"-"`
	Subject  string `json:"-"`
	Thread   string `json:"-"`
}

// ArchiveMessages yields the messages of bare's archive that f keeps, in
// archive order, their content opened with the keys WithKeys attached to
// store (or marked missing without them). progress counts every archived
// message read, kept or not. An archive stanza that does not parse is an
// error naming its position: the log was altered, or written by a broken
// xmppd.
func ArchiveMessages(ctx context.Context, store events.Store, bare string, f ArchiveFilter, progress Progress) iter.Seq2[ArchivedMessage, error] {
	return func(yield func(ArchivedMessage, error) bool) {
		if err := f.Validate(); err != nil {
			yield(ArchivedMessage{}, err)
			return
		}
		var with jid.JID
		if f.With != "" {
			with = jid.MustParse(f.With)
		}
		keys := keysOf(store)
		for e, err := range store.ReadStream(ctx, events.ArchiveStream(bare), 1) {
			if err != nil {
				yield(ArchivedMessage{}, fmt.Errorf("replay: read archive of %s: %w", bare, err))
				return
			}
			if e.Type != events.TypeArchiveMessageStored {
				continue
			}
			progress.add(1)
			if (!f.Since.IsZero() && e.Recorded.Before(f.Since)) || (!f.Until.IsZero() && e.Recorded.After(f.Until)) {
				continue
			}
			m, err := archivedMessage(&e, bare, keys)
			if err != nil {
				yield(ArchivedMessage{}, err)
				return
			}
			if f.With != "" && !sameParty(with, m.With) {
				continue
			}
			if !yield(m, nil) {
				return
			}
		}
	}
}

// sameParty reports whether the archive's other party addr is want: the
// same bare JID when want is bare, the same full JID when it is not
// (XEP-0313 section 4.1.1).
func sameParty(want jid.JID, addr string) bool {
	j, err := jid.Parse(addr)
	if err != nil {
		return false
	}
	if want.Resourcepart() == "" {
		return j.Bare().Equal(want)
	}
	return j.Equal(want)
}

// archivedMessage decodes and opens one archive.message_stored of bare.
func archivedMessage(e *events.Envelope, bare string, keys events.KeyLookup) (ArchivedMessage, error) {
	p, err := events.Decode(e)
	if err == nil {
		p, err = events.OpenPersonal(p, keys)
	}
	if err != nil {
		return ArchivedMessage{}, fmt.Errorf("replay: archive of %s, position %d: %w", bare, e.Position, err)
	}
	a, ok := p.(events.ArchiveMessageStored)
	if !ok {
		return ArchivedMessage{}, fmt.Errorf("replay: archive of %s, position %d: a %s is not an archived message", bare, e.Position, e.Type)
	}
	m := ArchivedMessage{ID: a.ID, Position: e.Position, Stream: e.Stream, Version: e.Version, Hash: e.Hash,
		Time: e.Recorded.UTC(), Direction: a.Direction, With: a.With, ContentState: ContentOK}
	m.From, m.To = a.With, bare
	if a.Direction == events.ArchiveOut {
		m.From, m.To = bare, a.With
	}
	if gone := events.GoneOf(a); gone != "" {
		m.ContentState = gone
		return m, nil
	}
	m.Stanza = a.Content
	el, err := stanza.ParseBytes([]byte(a.Content), stanza.Limits{})
	if err != nil {
		return ArchivedMessage{}, fmt.Errorf("replay: archive of %s, position %d: the archived stanza does not parse: %w", bare, e.Position, err)
	}
	if v := el.Attr("from"); v != "" {
		m.From = v
	}
	if v := el.Attr("to"); v != "" {
		m.To = v
	}
	m.StanzaID, m.Type = el.Attr("id"), el.Attr("type")
	for _, c := range el.Elements() {
		if c.Name.Space != stanza.NSClient {
			continue
		}
		switch c.Name.Local {
		case "body":
			if m.Body == "" {
				m.Body = c.Text()
			}
		case "subject":
			if m.Subject == "" {
				m.Subject = c.Text()
			}
		case "thread":
			m.Thread = c.Text()
		}
	}
	return m, nil
}

// SearchArchive yields the messages of ArchiveMessages whose body holds
// every word of query, by domain.MatchWords, the rule MAM's XEP-0431
// search uses too: content that is gone matches nothing.
func SearchArchive(ctx context.Context, store events.Store, bare string, f ArchiveFilter, query string, progress Progress) iter.Seq2[ArchivedMessage, error] {
	return func(yield func(ArchivedMessage, error) bool) {
		for m, err := range ArchiveMessages(ctx, store, bare, f, progress) {
			if err != nil {
				yield(m, err)
				return
			}
			if m.ContentState == ContentOK && domain.MatchWords(m.Body, query) {
				if !yield(m, nil) {
					return
				}
			}
		}
	}
}
