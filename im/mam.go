package im

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/events"
	"xmppd/projections"
	"xmppd/stanza"
)

// XEP-0313 Message Archive Management: a user's queries to their own
// archive (archive.go writes it, projections/archive.go indexes it).

// mamFeatures are announced on the account (XEP-0313 section 7; XEP-0359
// section 4: the archive stamps stanza-ids; XEP-0424 section 2: the
// archive keeps retractions, and section 4: it shows tombstones; XEP-0431
// 2.1: full-text search).
var mamFeatures = []string{stanza.NSMAM, stanza.NSMAM + "#extended", stanza.NSStanzaID,
	stanza.NSRetract, stanza.NSRetract + "#tombstone", stanza.NSFulltext}

const (
	// mamDefaultPage is the page size of a query without RSM <max/>, and
	// mamMaxPage the largest page served (XEP-0313 4.3.1: "a server MAY
	// place a reasonable limit"): a page is queued to the session at
	// once, so it must fit its output queue beside live traffic.
	mamDefaultPage = 50
	mamMaxPage     = 250
)

var (
	errItemNotFound = stanza.Error{Type: stanza.Cancel, Condition: stanza.ItemNotFound}
	errInternal     = stanza.Error{Type: stanza.Wait, Condition: stanza.InternalServerError}
)

// mamIQ answers an IQ in the urn:xmpp:mam:2 namespace sent to bare. Only
// the account itself may read its archive; anyone else learns nothing
// (service-unavailable, as for a missing account: RFC 6121 8.5).
func (s *Core) mamIQ(ctx context.Context, bare string, x *session, st stanza.Stanza, q *stanza.Element, meta events.Meta) {
	if x.bare != bare {
		s.reply(x, errorReply(st.El, errServiceUnavailable))
		return
	}
	switch {
	case st.Type == "get" && q.Name.Local == "query":
		s.reply(x, iqResult(st.El, jid.JID{}).AddChild(stanza.New(stanza.NSMAM, "query").AddChild(mamForm())))
	case st.Type == "get" && q.Name.Local == "metadata":
		s.mamMetadata(ctx, bare, x, st)
	case st.Type == "set" && q.Name.Local == "query":
		s.mamQuery(ctx, bare, x, st, q)
	case q.Name.Local == "prefs":
		s.mamPrefs(ctx, bare, x, st, q, meta) // XEP-0441
	default:
		s.reply(x, errorReply(st.El, errBadRequest))
	}
}

// mamForm is the query form (XEP-0313 4.1.5, Example 15): the mandatory
// fields, 'ids' with an open validation (XEP-0122), and XEP-0431's
// full-text field (3.1).
func mamForm() *stanza.Element {
	form := stanza.New(stanza.NSDataForms, "x", "type", "form")
	form.AddChild(stanza.New(stanza.NSDataForms, "field", "type", "hidden", "var", "FORM_TYPE").
		AddChild(stanza.New(stanza.NSDataForms, "value").AddText(stanza.NSMAM)))
	for _, f := range [][2]string{{"jid-single", "with"}, {"text-single", "start"}, {"text-single", "end"},
		{"text-single", "before-id"}, {"text-single", "after-id"}, {"text-single", fulltextField}} {
		form.AddChild(stanza.New(stanza.NSDataForms, "field", "type", f[0], "var", f[1]))
	}
	ids := stanza.New(stanza.NSDataForms, "field", "type", "list-multi", "var", "ids")
	ids.AddChild(stanza.New("http://jabber.org/protocol/xdata-validate", "validate", "datatype", "xs:string").
		AddChild(stanza.New("http://jabber.org/protocol/xdata-validate", "open")))
	return form.AddChild(ids)
}

// mamMetadata answers <metadata/> (XEP-0313 section 5): the first and
// last messages' ids and times, or an empty element.
func (s *Core) mamMetadata(ctx context.Context, bare string, x *session, st stanza.Stanza) {
	if err := s.consumer.WaitFor(ctx, s.archived.Load()); err != nil {
		s.reply(x, errorReply(st.El, errInternal))
		return
	}
	md := stanza.New(stanza.NSMAM, "metadata")
	first, last, ok, err := s.views.ArchiveMeta(bare)
	if err != nil {
		s.log.Error("im: mam metadata", "account", bare, "err", err)
		s.reply(x, errorReply(st.El, errInternal))
		return
	}
	if ok {
		md.AddChild(stanza.New(stanza.NSMAM, "start", "id", first.ID, "timestamp", stamp(first.Time())))
		md.AddChild(stanza.New(stanza.NSMAM, "end", "id", last.ID, "timestamp", stamp(last.Time())))
	}
	s.reply(x, iqResult(st.El, jid.JID{}).AddChild(md))
}

// stamp is a XEP-0082 DateTime in UTC, to the microsecond when there is
// a fraction (as XEP-0203 stamps allow), so times stay ordered.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999999Z07:00") }

// mamQuery runs a query (XEP-0313 section 4): the matching messages, each
// in its own <message/> with <result/>, then the IQ result with <fin/>.
func (s *Core) mamQuery(ctx context.Context, bare string, x *session, st stanza.Stanza, q *stanza.Element) {
	mq, flip, text, err := parseMAMQuery(q)
	if err != nil {
		s.reply(x, errorReply(st.El, condition(err)))
		return
	}
	// Read-your-writes: every message archived so far, the ones this
	// user was just sent included, is in the index.
	if err := s.consumer.WaitFor(ctx, s.archived.Load()); err != nil {
		s.reply(x, errorReply(st.El, errInternal))
		return
	}
	page, contents, err := s.mamPage(ctx, bare, mq, text)
	if errors.Is(err, projections.ErrArchiveIDUnknown) {
		s.reply(x, errorReply(st.El, errItemNotFound)) // 4.1.3, 4.3.2
		return
	}
	if err != nil {
		s.log.Error("im: read archived messages", "account", bare, "err", err)
		s.reply(x, errorReply(st.El, errInternal))
		return
	}
	order := make([]int, len(page.Items))
	for i := range order {
		order[i] = i
	}
	if flip { // 4.3.4: the same page, sent newest first
		slices.Reverse(order)
	}
	queryID := q.Attr("queryid")
	for _, i := range order {
		it := page.Items[i]
		fwd := stanza.New(stanza.NSForward, "forwarded").
			AddChild(stanza.New(stanza.NSDelay, "delay", "stamp", stamp(it.Time())))
		if contents[i].gone != "" {
			fwd.AddChild(goneMessage(bare, it, contents[i].gone))
		} else if m, err := parseStanza(contents[i].content); err == nil {
			if r, ok := page.Retracted[it.ID]; ok {
				m = tombstoneOf(m, r) // XEP-0424 section 4
			}
			fwd.AddChild(m)
		} else {
			s.log.Error("im: archived stanza does not parse", "account", bare, "id", it.ID, "err", err)
		}
		res := stanza.New(stanza.NSMAM, "result", "id", it.ID)
		if queryID != "" {
			res.SetAttr("queryid", queryID)
		}
		msg := stanza.New(stanza.NSClient, "message", "to", x.fullStr, "id", newID())
		s.reply(x, msg.AddChild(res.AddChild(fwd)))
	}
	fin := stanza.New(stanza.NSMAM, "fin")
	if page.Complete {
		fin.SetAttr("complete", "true")
	}
	set := stanza.New(stanza.NSRSM, "set")
	if len(page.Items) > 0 {
		// No 'index' (optional, 4.3.2): slixmpp's xep_0059 ends a
		// backwards iteration when index plus the page's size is the
		// count, which the last page, its first, always satisfies.
		set.AddChild(stanza.New(stanza.NSRSM, "first").AddText(page.Items[0].ID))
		set.AddChild(stanza.New(stanza.NSRSM, "last").AddText(page.Items[len(page.Items)-1].ID))
	}
	if text == "" { // a search counts nothing (mam_fulltext.go); XEP-0059 2.1: count is optional
		set.AddChild(stanza.New(stanza.NSRSM, "count").AddText(strconv.Itoa(page.Count)))
	}
	s.reply(x, iqResult(st.El, jid.JID{}).AddChild(fin.AddChild(set)))
}

// mamRequestError is a query the server cannot run: its stanza error.
type mamRequestError struct {
	cond stanza.Error
	why  string
}

func (e *mamRequestError) Error() string { return "im: mam query: " + e.why }
func (e *mamRequestError) As(target any) bool {
	if se, ok := target.(*stanza.Error); ok {
		*se = e.cond
		return true
	}
	return false
}

func badMAM(format string, args ...any) error {
	return &mamRequestError{errBadRequest, fmt.Sprintf(format, args...)}
}

// parseMAMQuery reads a query's form (4.1) and RSM set (4.3; XEP-0059),
// and the words of a XEP-0431 full-text search ("" for none).
func parseMAMQuery(q *stanza.Element) (mq projections.ArchiveQuery, flip bool, text string, err error) {
	mq.Max = -1
	for _, c := range q.Elements() {
		switch {
		case c.Name.Space == stanza.NSDataForms && c.Name.Local == "x":
			if err := parseMAMForm(c, &mq, &text); err != nil {
				return mq, false, "", err
			}
		case c.Name.Space == stanza.NSRSM && c.Name.Local == "set":
			if err := parseRSM(c, &mq); err != nil {
				return mq, false, "", err
			}
		case c.Name.Space == stanza.NSMAM && c.Name.Local == "flip-page":
			flip = true
		}
	}
	return mq, flip, text, nil
}

func parseMAMForm(x *stanza.Element, mq *projections.ArchiveQuery, text *string) error {
	if t := x.Attr("type"); t != "submit" && t != "" {
		return badMAM("form of type %q", t)
	}
	for _, f := range x.Elements() {
		if f.Name.Local != "field" || f.Name.Space != stanza.NSDataForms {
			continue
		}
		var values []string
		for _, v := range f.Elements() {
			if v.Name.Local == "value" {
				values = append(values, v.Text())
			}
		}
		one := ""
		if len(values) > 0 {
			one = values[0]
		}
		switch f.Attr("var") {
		case "FORM_TYPE":
			if one != stanza.NSMAM {
				return badMAM("FORM_TYPE %q", one)
			}
		case "with":
			if one == "" {
				continue
			}
			j, err := jid.Parse(one)
			if err != nil {
				return &mamRequestError{stanza.Error{Type: stanza.Modify, Condition: stanza.JIDMalformed}, err.Error()}
			}
			mq.With = j.String()
		case "start", "end":
			if one == "" {
				continue
			}
			t, err := time.Parse(time.RFC3339Nano, one) // XEP-0082 DateTime
			if err != nil {
				return badMAM("%s: %v", f.Attr("var"), err)
			}
			if f.Attr("var") == "start" {
				mq.Start = t
			} else {
				mq.End = t
			}
		case "after-id":
			mq.AfterID = one
		case "before-id":
			mq.BeforeID = one
		case "ids":
			mq.IDs = append(mq.IDs[:0:0], values...)
		case fulltextField:
			*text = one // XEP-0431 2.2: used if non-empty
		default:
			// 4.1.5: "If a client includes a form field that the server
			// does not recognise, the server MUST respond with a
			// 'feature-not-implemented' error."
			return &mamRequestError{errFeatureNotImplemented, "unknown field " + f.Attr("var")}
		}
	}
	return nil
}

// parseRSM reads XEP-0059's <max/>, <after/> and <before/>; <index/>
// (2.4, optional for a server) is refused as not implemented.
func parseRSM(set *stanza.Element, mq *projections.ArchiveQuery) error {
	for _, c := range set.Elements() {
		switch c.Name.Local {
		case "max":
			n, err := strconv.Atoi(c.Text())
			if err != nil || n < 0 {
				return badMAM("rsm max %q", c.Text())
			}
			mq.Max = n
		case "after":
			if c.Text() == "" {
				return badMAM("empty rsm after")
			}
			mq.After = c.Text()
		case "before":
			mq.Before, mq.HasBefore = c.Text(), true
		case "index":
			return &mamRequestError{errFeatureNotImplemented, "rsm index"}
		}
	}
	return nil
}

// streamRangeReader is an optional ability of a store: up to limit
// events of stream from version from in one read (the SQLite store's).
// Without it the archive is read through ReadStream.
type streamRangeReader interface {
	ReadStreamRange(ctx context.Context, stream string, from uint64, limit int) ([]events.Envelope, error)
}

// archivedContent is one archived message's stanza as read back from
// the log, or, when the key it was sealed under is destroyed, why it is
// gone (events.GoneErased, GoneExpired, GoneMissing).
type archivedContent struct {
	content string
	gone    string
}

// archivedContents reads back from the log the content of each entry,
// in order, opened with the archive owner's keys: one read per run of
// consecutive versions, so a page of an unfiltered query is one read. A
// destroyed key is not an error: the entry says why its content is gone.
func (s *Core) archivedContents(ctx context.Context, bare string, items []projections.ArchiveEntry) ([]archivedContent, error) {
	stream := events.ArchiveStream(bare)
	out := make([]archivedContent, len(items))
	var keys events.KeyLookup = s.cfg.Keys // nil (no key store): sealed content reads as missing
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && items[j].Version == items[j-1].Version+1 {
			j++
		}
		evs, err := s.readStreamRange(ctx, stream, items[i].Version, j-i)
		if err != nil {
			return nil, err
		}
		if len(evs) != j-i {
			return nil, fmt.Errorf("im: %s from version %d: %d events, want %d", stream, items[i].Version, len(evs), j-i)
		}
		for k := range evs {
			p, err := events.Decode(&evs[k])
			if err == nil {
				p, err = events.OpenPersonal(p, keys)
			}
			if err != nil {
				return nil, err
			}
			m, ok := p.(events.ArchiveMessageStored)
			if !ok || m.ID != items[i+k].ID {
				return nil, fmt.Errorf("im: %s version %d is not archive entry %s", stream, evs[k].Version, items[i+k].ID)
			}
			out[i+k] = archivedContent{content: m.Content, gone: events.GoneOf(m)}
		}
		i = j
	}
	return out, nil
}

// goneMessage stands, in a MAM result, for an archived message whose
// key was destroyed (erasure, retention: issue 13). Only what the
// archive holds in clear is in it: the parties, from the entry's
// direction and other party, and, in the <forwarded/>, the time. Its
// <body/> is a XEP-0428 fallback, "(erased)" or "(expired)", so that a
// client that knows nothing of erasure shows that a message was there
// and is gone, rather than dropping a bodiless message; <gone/> in
// xmppd's namespace says why, for a client that does. It is not a
// XEP-0424 tombstone: section 4 requires its <retracted/> to carry the
// id of a retraction message, and an erasure has none.
func goneMessage(bare string, it projections.ArchiveEntry, gone string) *stanza.Element {
	from, to := it.With, bare
	if it.Out {
		from, to = bare, it.With
	}
	return stanza.New(stanza.NSClient, "message", "from", from, "to", to).
		AddChild(stanza.New(stanza.NSClient, "body").AddText("(" + gone + ")")).
		AddChild(stanza.New(stanza.NSArchiveGone, "gone", "reason", gone)).
		AddChild(stanza.New(stanza.NSFallback, "fallback", "for", stanza.NSArchiveGone))
}

func (s *Core) readStreamRange(ctx context.Context, stream string, from uint64, limit int) ([]events.Envelope, error) {
	if r, ok := s.cfg.Store.(streamRangeReader); ok {
		return r.ReadStreamRange(ctx, stream, from, limit)
	}
	var evs []events.Envelope
	for e, err := range s.cfg.Store.ReadStream(ctx, stream, from) {
		if err != nil {
			return nil, err
		}
		evs = append(evs, e)
		if len(evs) == limit {
			break
		}
	}
	return evs, nil
}
