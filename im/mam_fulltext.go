package im

import (
	"context"
	"slices"
	"strings"

	"xmppd/domain"
	"xmppd/projections"
	"xmppd/stanza"
)

// XEP-0431 full-text search in MAM, where it costs little: the index
// holds no content (projections/archive.go), so a search runs the
// query's other filters over the index a chunk at a time, opens each
// candidate's content from the log and keeps the ones whose bodies hold
// every word (domain.MatchWords), until the page is full. The RSM rules
// are those of any query (XEP-0313 4.3), applied to the matches: <first/>
// and <last/> are matches, a client pages on with <after/> or <before/>.
//
// The work of one query is bounded: it opens at most fulltextScan
// messages. A page cut short by the bound is returned as found, without
// complete='true' (XEP-0313 4.3.1: "a server MAY place a reasonable limit
// on how many stanzas it returns"; 4.3.2: 'complete' only when the result
// set is not limited). A search that finds nothing within the bound
// returns an empty, incomplete page: narrow it with 'with', 'start' or
// 'end'. No <count/> is sent (XEP-0059 2.1 makes it optional): counting
// would open the whole archive. Erased and expired messages have no
// content and never match; neither do retracted ones (XEP-0424 section
// 4: their content is withdrawn from the client).

// fulltextField is XEP-0431 3.1's form field.
const fulltextField = "{" + stanza.NSFulltext + "}fulltext"

const (
	// fulltextChunk is how many candidates a search reads at a time.
	fulltextChunk = 100
	// fulltextScan bounds the candidates one search query opens.
	fulltextScan = 10000
)

// mamPage is the page a query returns and its messages' contents: from
// the index, or, with text, from a full-text search.
func (s *Core) mamPage(ctx context.Context, bare string, mq projections.ArchiveQuery, text string) (projections.ArchivePage, []archivedContent, error) {
	if text != "" {
		return s.searchArchive(ctx, bare, mq, text)
	}
	page, err := s.views.QueryArchive(bare, mq, mamMaxPage)
	if err != nil {
		return page, nil, err
	}
	contents, err := s.archivedContents(ctx, bare, page.Items)
	return page, contents, err
}

// searchArchive is the page of mq's matches whose bodies hold every word
// of text.
func (s *Core) searchArchive(ctx context.Context, bare string, mq projections.ArchiveQuery, text string) (projections.ArchivePage, []archivedContent, error) {
	n := mq.Max
	if n < 0 || n > mamMaxPage {
		n = mamMaxPage
	}
	q := mq
	q.Max, q.NoCount = fulltextChunk, true
	var (
		page     projections.ArchivePage
		contents []archivedContent
		scanned  int
	)
	done := func(complete bool) (projections.ArchivePage, []archivedContent, error) {
		if q.HasBefore { // gathered newest first
			slices.Reverse(page.Items)
			slices.Reverse(contents)
		}
		page.Complete = complete
		return page, contents, nil
	}
	for {
		chunk, err := s.views.QueryArchive(bare, q, fulltextChunk)
		if err != nil {
			return page, nil, err
		}
		cs, err := s.archivedContents(ctx, bare, chunk.Items)
		if err != nil {
			return page, nil, err
		}
		for k := range chunk.Items {
			i := k
			if q.HasBefore {
				i = len(chunk.Items) - 1 - k
			}
			scanned++
			if _, retracted := chunk.Retracted[chunk.Items[i].ID]; retracted || !bodyMatches(cs[i], text) {
				continue
			}
			if len(page.Items) == n {
				return done(false) // a match beyond the page
			}
			page.Items = append(page.Items, chunk.Items[i])
			contents = append(contents, cs[i])
		}
		if chunk.Complete || len(chunk.Items) == 0 {
			return done(true)
		}
		if scanned >= fulltextScan {
			return done(false)
		}
		if q.HasBefore {
			q.Before = chunk.Items[0].ID
		} else {
			q.After = chunk.Items[len(chunk.Items)-1].ID
		}
	}
}

// bodyMatches reports whether the <body/> of an archived message holds
// every word of text. Content that is gone matches nothing.
func bodyMatches(c archivedContent, text string) bool {
	if c.gone != "" {
		return false
	}
	m, err := parseStanza(c.content)
	if err != nil {
		return false
	}
	var body strings.Builder
	for _, b := range m.Elements() {
		if b.Name.Local == "body" && b.Name.Space == stanza.NSClient {
			body.WriteString(b.Text())
			body.WriteByte(' ')
		}
	}
	return domain.MatchWords(body.String(), text)
}
