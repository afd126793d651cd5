package im

import (
	"context"
	"strings"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/projections"
	"xmppd/stanza"
)

// XEP-0424 Message Retraction in the archive. A retraction is a message
// (with a XEP-0428 fallback body, or a <store/> hint) and is archived as
// any message is (XEP-0424 section 5: the archive "MUST store the
// retraction message"). Once it is durable, the original is looked up in
// each local party's archive and, if the retraction's sender sent it
// (domain.RetractionHonoured), archive.message_retracted marks it there.
// The original's event is never altered: an auditor reads it (replay,
// audit, export open the log), and MAM shows it as a tombstone (section
// 4, tombstoneOf).

// retractScan bounds how many of the newest messages with the other
// party a retraction looks through for its original in each archive: a
// retraction is for a message just sent, and reading back (and opening)
// a whole conversation for one would cost what a full export costs.
const retractScan = 2000

// retraction is one retraction message, archived.
type retraction struct {
	by, to   string // the sender's and the recipient's bare JIDs
	target   string // the id its <retract/> names
	stanzaID string // its own 'id' attribute
	// inID and outID are its archive ids in the recipient's and the
	// sender's archives ("" where that archive did not keep it).
	inID, outID string
	meta        events.Meta
}

// retractOf returns the id a XEP-0424 <retract/> in el names, or "".
func retractOf(el *stanza.Element) string {
	if r := el.Child("retract", stanza.NSRetract); r != nil {
		return r.Attr("id")
	}
	return ""
}

// recordRetraction marks r's original retracted in the archives of the
// recipient and, if local, the sender. Failures are logged: the
// retraction itself is archived, and a client that missed the mark still
// finds it in the archive and applies it (XEP-0424 section 5).
func (s *Core) recordRetraction(r retraction) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CommandTimeout)
	defer cancel()
	// The original may have been archived a moment ago: the index must
	// hold everything archived so far, as for a MAM query.
	if err := s.consumer.WaitFor(ctx, s.archived.Load()); err != nil {
		s.log.Error("im: retraction: wait for the archive index", "id", r.target, "err", err)
		return
	}
	parties := []struct{ owner, peer, id string }{{r.to, r.by, r.inID}}
	if r.by != r.to && s.localAccount(r.by) {
		parties = append(parties, struct{ owner, peer, id string }{r.by, r.to, r.outID})
	}
	for _, p := range parties {
		orig, found, err := s.findRetracted(ctx, p.owner, p.peer, r.by, r.target)
		if err != nil {
			s.log.Error("im: look up retracted message", "archive", p.owner, "id", r.target, "err", err)
			continue
		}
		if !found {
			continue
		}
		committed, err := s.append(ctx, events.ArchiveStream(p.owner), events.Any, r.meta, []events.Payload{
			events.ArchiveMessageRetracted{ID: orig.ID, By: r.by, Retraction: p.id, RetractionStanzaID: r.stanzaID},
		})
		if err != nil {
			s.log.Error("im: record retraction", "archive", p.owner, "id", orig.ID, "err", err)
			continue
		}
		s.noteArchived(committed[len(committed)-1].Position)
	}
}

// findRetracted finds in owner's archive the message that by sent and
// that a retraction naming target means: one exchanged with peer whose
// XEP-0359 <origin-id/> or, failing that, 'id' attribute is target
// (XEP-0424 section 5.1), or whose archive id in owner's archive is
// target. The newest such message of the last retractScan with peer is
// the one. A message with that id that by did not send is not honoured
// (logged): an account cannot retract what it received.
func (s *Core) findRetracted(ctx context.Context, owner, peer, by, target string) (projections.ArchiveEntry, bool, error) {
	if page, err := s.views.QueryArchive(owner, projections.ArchiveQuery{IDs: []string{target}, Max: 1, NoCount: true}, 1); err == nil && len(page.Items) == 1 {
		it := page.Items[0]
		if domain.RetractionHonoured(by, senderOf(owner, it)) && bareOf(it.With) == peer {
			return it, true, nil
		}
	}
	q := projections.ArchiveQuery{With: peer, Max: mamMaxPage, HasBefore: true, NoCount: true}
	refused := false
	for scanned := 0; scanned < retractScan; {
		page, err := s.views.QueryArchive(owner, q, mamMaxPage)
		if err != nil {
			return projections.ArchiveEntry{}, false, err
		}
		contents, err := s.archivedContents(ctx, owner, page.Items)
		if err != nil {
			return projections.ArchiveEntry{}, false, err
		}
		for i := len(page.Items) - 1; i >= 0; i-- {
			scanned++
			if contents[i].gone != "" || clientID(contents[i].content) != target {
				continue
			}
			if domain.RetractionHonoured(by, senderOf(owner, page.Items[i])) {
				return page.Items[i], true, nil
			}
			refused = true
		}
		if page.Complete || len(page.Items) == 0 {
			break
		}
		q.Before = page.Items[0].ID
	}
	if refused {
		s.log.Info("im: retraction not honoured: the message it names was not sent by the retractor (XEP-0424 section 5)",
			"archive", owner, "by", by, "id", target)
	}
	return projections.ArchiveEntry{}, false, nil
}

// senderOf is the bare JID that sent entry it of owner's archive.
func senderOf(owner string, it projections.ArchiveEntry) string {
	if it.Out {
		return owner
	}
	return bareOf(it.With)
}

func bareOf(addr string) string {
	b, _, _ := strings.Cut(addr, "/")
	return b
}

// clientID is the id a sender gave an archived stanza: its XEP-0359
// <origin-id/> if it has one, else its 'id' attribute.
func clientID(content string) string {
	m, err := parseStanza(content)
	if err != nil {
		return ""
	}
	if o := m.Child("origin-id", stanza.NSStanzaID); o != nil && o.Attr("id") != "" {
		return o.Attr("id")
	}
	return m.Attr("id")
}

// tombstoneOf is what MAM shows of an archived message m that its sender
// retracted (XEP-0424 section 4): its addresses, type and id, and a
// <retracted/> naming the retraction's 'id' and time, with the body and
// every other child left out. The <forwarded/> around it keeps the
// original's archive time.
func tombstoneOf(m *stanza.Element, r projections.ArchiveRetraction) *stanza.Element {
	t := stanza.New(stanza.NSClient, "message")
	for _, a := range [...]string{"from", "to", "type", "id"} {
		if v := m.Attr(a); v != "" {
			t.SetAttr(a, v)
		}
	}
	id := r.StanzaID
	if id == "" {
		id = r.Retraction // a retraction sent without an 'id': its archive id
	}
	return t.AddChild(stanza.New(stanza.NSRetract, "retracted", "id", id, "by", r.By, "stamp", stamp(r.Time())))
}
