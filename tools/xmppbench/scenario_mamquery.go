package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
)

// nsMAM is XEP-0313's namespace (version 2); nsRSM is XEP-0059's.
const (
	nsMAM = "urn:xmpp:mam:2"
	nsRSM = "http://jabber.org/protocol/rsm"
)

// mamPage is how many messages a query asks for when --items is 0: the
// last page a client shows when a conversation opens.
const mamPage = 50

// runMAMQuery has --concurrency sessions of the --hub account, each with
// its own resource, ask for the last page of the hub's archive back to
// back for --duration: XEP-0313 section 4.3 with an RSM <before/> (XEP-0059
// section 2.5, "the last page") and <max> --items (default 50). A query
// is done when its <fin/> arrives; its latency runs from the request to
// the <fin/>, every one of the page's <result/> messages read on the way.
// A page with fewer results than asked for is an error (fill the archive
// first: mam-fill).
func runMAMQuery(ctx context.Context, c *config, log io.Writer) (*result, error) {
	res := newResult("mam-query")
	page := c.items
	if page == 0 {
		page = mamPage
	}
	res.Figures["page"] = float64(page)
	err := runHubWorkers(ctx, c, res, log, "mam", func(s *session, n int64, errs *errCounter) error {
		id := "m" + strconv.FormatInt(n, 10)
		got, err := s.mamLastPage(id, page)
		if err == nil && got != page {
			errs.addKind("short-page", 1, fmt.Sprintf("a query for the last %d messages returned %d", page, got))
		}
		return err
	})
	return res, err
}

// mamLastPage asks for the last max messages of the account's archive
// (XEP-0313 section 4.3, XEP-0059 section 2.5) and reads the <result/>
// messages of the query up to the IQ result that carries <fin/>. It
// returns how many results arrived.
func (s *session) mamLastPage(id string, max int) (int, error) {
	if err := s.send("<iq type='set' id='" + id + "'><query xmlns='" + nsMAM + "' queryid='" + id + "'><set xmlns='" + nsRSM +
		"'><max>" + strconv.Itoa(max) + "</max><before/></set></query></iq>"); err != nil {
		return 0, failed("mam", err)
	}
	got := 0
	for {
		e, err := s.read()
		if err != nil {
			return got, failed("mam", err)
		}
		switch {
		case e.is("error"):
			return got, failed("mam", fmt.Errorf("stream error: %.200s", e.raw))
		case e.is("message"):
			// XEP-0313 section 4.2: each result is a message whose
			// <result/> carries the query's queryid.
			if resultQueryID(e) == id {
				got++
			}
		case e.is("iq") && e.attr("id") == id:
			if e.attr("type") != "result" {
				return got, failed("mam", fmt.Errorf("%w: %.300s", errIQReply, e.raw))
			}
			if !e.hasChild("fin") {
				return got, failed("mam", fmt.Errorf("query result without <fin/>: %.300s", e.raw))
			}
			return got, nil
		default:
			s.answerIQ(e)
		}
	}
}

// resultQueryID returns the queryid of a MAM result message's <result/>.
func resultQueryID(e elem) string {
	i := indexTag(e.raw[1:], "result")
	if i < 0 {
		return ""
	}
	return elem{raw: e.raw[1+i:]}.attr("queryid")
}
