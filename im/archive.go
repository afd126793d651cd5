package im

import (
	"crypto/rand"
	"encoding/base64"
	"sync"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// Archiving (XEP-0313 section 3, 6.1.1): every one-to-one message of type
// normal or chat that a person would read is recorded, before it is
// delivered or stored offline, in the archive stream of its recipient
// and of its sender when the sender is another local account
// (archive.message_stored in archive-<bare>). The recipient's copy is
// stamped with the archive id (XEP-0359 <stanza-id by='recipient'/>,
// XEP-0313 3.5). A message the store does not take is not delivered: the
// sender gets resource-constraint, wait (RFC 6120 8.3.3.18), as for a
// refused offline write, so a person never sees a message the archive
// does not hold (DESIGN.md, the flow of one stanza).

// archivable reports whether the message el, classified as content,
// belongs in the archives (XEP-0313 6.1.1): type normal or chat (a
// missing type is normal, RFC 6121 5.2.2) with a <body/>, or with
// XEP-0334's <store/> hint (4.4, "SHOULD be stored"); never one whose
// sender asked for no storage (XEP-0334 4.1 and 4.2: NoStore) or a
// standalone chat state. Errors and headlines are not archived.
func archivable(el *stanza.Element, content domain.MessageContent) bool {
	switch el.Attr("type") {
	case "", "normal", "chat":
	default:
		return false
	}
	if content != domain.StoreWorthy {
		return false
	}
	for _, c := range el.Elements() {
		if c.Name.Local == "body" && c.Name.Space == stanza.NSClient ||
			c.Name.Local == "store" && c.Name.Space == stanza.NSHints {
			return true
		}
	}
	return false
}

// stampedBy returns el's XEP-0359 <stanza-id/> whose 'by' is by, or nil.
func stampedBy(el *stanza.Element, by string) *stanza.Element {
	for _, c := range el.Elements() {
		if c.Name.Local == "stanza-id" && c.Name.Space == stanza.NSStanzaID && c.Attr("by") == by {
			return c
		}
	}
	return nil
}

// stripForgedStanzaIDs removes from a client's message every <stanza-id/>
// that claims to come from the archive of its recipient to or of its
// sender (XEP-0359 section 5: the archiving entity "MUST NOT" let a
// sender's forged id through; XEP-0313 8.3). It runs on the sender's
// reader before the stanza is shared with any other goroutine.
func stripForgedStanzaIDs(el *stanza.Element, to jid.JID, sender string) {
	has := false
	for _, c := range el.Elements() {
		has = has || c.Name.Local == "stanza-id" && c.Name.Space == stanza.NSStanzaID
	}
	if !has {
		return // most messages: spare the recipient's address a string
	}
	recipient := to.Bare().String()
	kept := el.Children[:0:0]
	for _, n := range el.Children {
		if c, ok := n.(*stanza.Element); ok && c.Name.Local == "stanza-id" && c.Name.Space == stanza.NSStanzaID {
			if by := c.Attr("by"); by == recipient || by == sender {
				continue
			}
		}
		kept = append(kept, n)
	}
	el.Children = kept
}

// archiveContent is what archive.message_stored keeps of a message: the
// stanza serialised. The archive writer seals it under each archive
// owner's key before it reaches the log (archive_writer.go).
func archiveContent(el *stanza.Element) string { return encode(el) }

// newArchiveID is a fresh archive id: 96 random bits, 16 characters of
// URL-safe base64, unique in an archive and never reused (XEP-0313 6.2).
func newArchiveID() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// archiveCopies says which archives keep a message: its recipient's
// (in) and, when its sender is another local account, its sender's (out),
// each under its own account's preferences and the domain's policy
// (XEP-0441, archive_prefs.go).
type archiveCopies struct{ in, out bool }

func (s *Core) archiveCopies(bare, sender string, el *stanza.Element) archiveCopies {
	c := archiveCopies{in: s.archiveKeeps(bare, el, false)}
	if sender != bare && s.localAccount(sender) {
		c.out = s.archiveKeeps(sender, el, true)
	}
	return c
}

// archive records el in the archive of its recipient bare and, if sender
// is another local account, in the sender's, as keep says (at least one),
// and calls then with the copy to deliver (el with bare's <stanza-id/>
// if bare's archive keeps it) once both are durable, or with the store's
// error (the caller then delivers nothing). Both copies go to the store
// at once and share its group commit; then runs on an archive writer's
// goroutine (archive_writer.go). Called in the order the recipient's
// actor takes the messages, it keeps each archive in that order. A
// XEP-0424 retraction is honoured (archive_retract.go) before then runs,
// so that the retraction's recipient finds the original tombstoned.
func (s *Core) archive(bare, sender string, el *stanza.Element, meta events.Meta, keep archiveCopies, then func(*stanza.Element, error)) {
	if meta.CorrelationID == "" {
		meta.CorrelationID = NewCorrelationID() // one for both copies
	}
	content := archiveContent(el)
	in := events.ArchiveMessageStored{ID: newArchiveID(), With: el.Attr("from"), Direction: events.ArchiveIn, Content: content}
	var out events.ArchiveMessageStored
	if keep.out {
		out = events.ArchiveMessageStored{ID: newArchiveID(), With: el.Attr("to"), Direction: events.ArchiveOut, Content: content}
	}
	var (
		mu      sync.Mutex
		pending = btoi(keep.in) + btoi(keep.out)
		first   error
	)
	finish := func(err error) {
		mu.Lock()
		pending--
		if first == nil {
			first = err
		}
		last, err := pending == 0, first
		mu.Unlock()
		if !last {
			return
		}
		if err != nil {
			s.log.Error("im: archive message", "to", bare, "from", el.Attr("from"), "err", err)
			then(nil, err)
			return
		}
		stamped := el
		if keep.in {
			stamped = el.CopyRoot(0)
			stamped.AddChild(stanza.New(stanza.NSStanzaID, "stanza-id", "id", in.ID, "by", bare))
		}
		if target := retractOf(el); target != "" {
			r := retraction{by: sender, to: bare, target: target, stanzaID: el.Attr("id"), meta: meta}
			if keep.in {
				r.inID = in.ID
			}
			if keep.out {
				r.outID = out.ID
			}
			// Off the writer's goroutine: reading the archives back
			// must not hold up the stream's next batch.
			go func() {
				s.recordRetraction(r)
				then(stamped, nil)
			}()
			return
		}
		then(stamped, nil)
	}
	if keep.out {
		s.archives.submit(sender, out, meta, finish)
	}
	if keep.in {
		s.archives.submit(bare, in, meta, finish)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// localAccount reports whether bare is an account of this server.
func (s *Core) localAccount(bare string) bool {
	a, _ := s.views.Accounts.Get(bare)
	return a.Exists
}
