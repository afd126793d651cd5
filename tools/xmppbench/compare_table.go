package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// compareRow is one figure of the comparison: its value per server and
// xmppd's ratio to each other server (xmppd / other; whether more is
// better says Better).
type compareRow struct {
	Figure string             `json:"figure"`
	Better string             `json:"better"` // "higher" or "lower"
	Values map[string]float64 `json:"values"` // server -> value; absent when not measured
	Ratios map[string]float64 `json:"ratios"` // other server -> xmppd/other
}

// compareFigure pulls one figure out of a server's results.
type compareFigure struct {
	name, better string
	get          func(r *compareServerResult) (float64, bool)
}

func fromResult(scenario string, f func(*result) float64) func(*compareServerResult) (float64, bool) {
	return func(r *compareServerResult) (float64, bool) {
		res, ok := r.Results[scenario]
		if !ok || res.Ops == 0 {
			return 0, false
		}
		return f(res), true
	}
}

// fromFullArchive is fromResult for the figures of the large archive:
// they count only where mam-fill-large sent every message it was to
// send, so that the servers compared read archives of one size.
func fromFullArchive(scenario string, f func(*result) float64) func(*compareServerResult) (float64, bool) {
	get := fromResult(scenario, f)
	return func(r *compareServerResult) (float64, bool) {
		if fill, ok := r.Results[keyMAMFillLarge]; !ok || fill.ErrorsByKind["short-fill"] > 0 {
			return 0, false
		}
		return get(r)
	}
}

func fromTsung(f func(*tsungSummary) float64) func(*compareServerResult) (float64, bool) {
	return func(r *compareServerResult) (float64, bool) {
		if r.Tsung == nil || r.Tsung.Sessions == 0 {
			return 0, false
		}
		return f(r.Tsung), true
	}
}

func compareFigures() []compareFigure {
	ops := func(r *result) float64 { return r.OpsPerSec }
	p50 := func(r *result) float64 { return r.Latency.P50MS }
	p99 := func(r *result) float64 { return r.Latency.P99MS }
	errs := func(r *result) float64 { return float64(r.Errors) }
	more := func(name string) func(*result) float64 {
		return func(r *result) float64 { return r.MoreLatency[name].P99MS }
	}
	fig := func(name string) func(*result) float64 { return func(r *result) float64 { return r.Figures[name] } }
	return []compareFigure{
		{"provision accounts s", "lower", func(r *compareServerResult) (float64, bool) { return r.ProvisionS, r.ProvisionS > 0 }},
		{"login/s", "higher", fromResult("login", ops)},
		{"login p99 ms", "lower", fromResult("login", p99)},
		{"chat msg/s", "higher", fromResult("chat", ops)},
		{"chat p99 ms", "lower", fromResult("chat", p99)},
		{"chat server CPU s", "lower", fromResult("chat", fig("server_cpu_s"))},
		{"chat-sm msg/s", "higher", fromResult("chat-sm", ops)},
		{"chat-sm carbons/s", "higher", fromResult("chat-sm", fig("carbons_per_s"))},
		{"chat-sm p50 ms", "lower", fromResult("chat-sm", p50)},
		{"chat-sm p99 ms", "lower", fromResult("chat-sm", p99)},
		{"chat-sm carbon p99 ms", "lower", fromResult("chat-sm", more("carbon"))},
		{"chat-sm server CPU s", "lower", fromResult("chat-sm", fig("server_cpu_s"))},
		{"subscribe setup s", "lower", fromResult("subscribe", func(r *result) float64 { return r.ElapsedS })},
		{"fanout deliveries/s", "higher", fromResult("fanout", ops)},
		{"fanout p99 ms per contact", "lower", fromResult("fanout", p99)},
		{"fanout p99 ms per round", "lower", fromResult("fanout", more("round (all contacts)"))},
		{"roster fill sets/s", "higher", fromResult("fill-roster", ops)},
		{"roster get/s", "higher", fromResult("roster", ops)},
		{"roster get p99 ms", "lower", fromResult("roster", p99)},
		{"sm-resume resumptions/s", "higher", fromResult("sm-resume", ops)},
		{"sm-resume p50 ms", "lower", fromResult("sm-resume", p50)},
		{"sm-resume p99 ms", "lower", fromResult("sm-resume", p99)},
		{"idle sessions open", "higher", fromResult("idle", func(r *result) float64 { return r.Figures["sessions_open"] })},
		{"idle logins/s", "higher", fromResult("idle", ops)},
		{"idle KiB per session", "lower", fromResult("idle", func(r *result) float64 { return roundTo(r.Figures["server_rss_per_session_bytes"]/1024, 1) })},
		{"idle server RSS MiB", "lower", fromResult("idle", func(r *result) float64 { return roundTo(r.Figures["server_rss_end_bytes"]/(1<<20), 1) })},
		{"idle-sm sessions open", "higher", fromResult("idle-sm", func(r *result) float64 { return r.Figures["sessions_open"] })},
		{"idle-sm KiB per session", "lower", fromResult("idle-sm", func(r *result) float64 { return roundTo(r.Figures["server_rss_per_session_bytes"]/1024, 1) })},
		{"idle-sm server RSS MiB", "lower", fromResult("idle-sm", func(r *result) float64 { return roundTo(r.Figures["server_rss_end_bytes"]/(1<<20), 1) })},
		{"chat-archived msg/s", "higher", fromResult(keyChatArchived, ops)},
		{"chat-archived p99 ms", "lower", fromResult(keyChatArchived, p99)},
		{"chat-archived server CPU s", "lower", fromResult(keyChatArchived, fig("server_cpu_s"))},
		{"mam-fill messages archived", "higher", fromResult(keyMAMFill, func(r *result) float64 { return float64(r.Ops) })},
		{"mam-fill msg/s", "higher", fromResult(keyMAMFill, ops)},
		{"mam-fill p99 ms", "lower", fromResult(keyMAMFill, p99)},
		{"mam-fill data bytes/msg", "lower", fromResult(keyMAMFill, fig("data_bytes_per_message"))},
		{"start-up s before mam-fill", "lower", fromResult(keyMAMFill, fig("start_s_before"))},
		{"start-up s after mam-fill", "lower", fromResult(keyMAMFill, fig("start_s_after"))},
		{"mam-query last 50 p50 ms", "lower", fromResult(keyMAMQuery, p50)},
		{"mam-query last 50 p99 ms", "lower", fromResult(keyMAMQuery, p99)},
		{"mam-query queries/s", "higher", fromResult(keyMAMQuery, ops)},
		{"mam-fill-large messages archived", "higher", fromResult(keyMAMFillLarge, func(r *result) float64 { return float64(r.Ops) })},
		{"mam-fill-large msg/s", "higher", fromResult(keyMAMFillLarge, ops)},
		{"mam-fill-large data bytes/msg", "lower", fromFullArchive(keyMAMFillLarge, fig("data_bytes_per_message"))},
		{"start-up s after mam-fill-large", "lower", fromFullArchive(keyMAMFillLarge, fig("start_s_after"))},
		{"mam-query-large last 50 p50 ms", "lower", fromFullArchive(keyMAMQueryLarge, p50)},
		{"mam-query-large last 50 p99 ms", "lower", fromFullArchive(keyMAMQueryLarge, p99)},
		{"xmppbench errors (all)", "lower", func(r *compareServerResult) (float64, bool) {
			var n float64
			for _, res := range r.Results {
				n += errs(res)
			}
			return n, len(r.Results) > 0
		}},
		{"tsung sessions/s", "higher", fromTsung(func(t *tsungSummary) float64 { return t.SessionsPerS })},
		{"tsung sessions done", "higher", fromTsung(func(t *tsungSummary) float64 { return t.Sessions })},
		{"tsung requests/s", "higher", fromTsung(func(t *tsungSummary) float64 { return t.RequestsPerS })},
		{"tsung request mean ms", "lower", fromTsung(func(t *tsungSummary) float64 { return t.RequestMeanMS })},
		{"tsung auth mean ms", "lower", fromTsung(func(t *tsungSummary) float64 { return t.AuthMeanMS })},
		{"tsung errors", "lower", fromTsung(func(t *tsungSummary) float64 { return t.Errors })},
	}
}

// buildCompareTable computes every figure for every server and xmppd's
// ratio to the others. A ratio needs both values, and a non-zero divisor.
func buildCompareTable(servers []*compareServerResult) []compareRow {
	var rows []compareRow
	for _, f := range compareFigures() {
		row := compareRow{Figure: f.name, Better: f.better, Values: map[string]float64{}, Ratios: map[string]float64{}}
		for _, s := range servers {
			if v, ok := f.get(s); ok {
				row.Values[s.Server] = v
			}
		}
		if len(row.Values) == 0 {
			continue
		}
		if x, ok := row.Values["xmppd"]; ok {
			for _, s := range servers {
				if v, ok := row.Values[s.Server]; ok && s.Server != "xmppd" && v != 0 {
					row.Ratios[s.Server] = roundTo(x/v, 2)
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// writeCompareTable prints the sizes, one line per figure (value per
// server, then xmppd's ratio to each), and any problems.
func writeCompareTable(w io.Writer, rep *compareReport) {
	z := rep.Sizes
	fmt.Fprintf(w, "xmppbench compare, %s: %d accounts; login %d connectors; chat %d pairs window %d (chat-sm: the same pairs, 2 resources each, XEP-0198 and carbons); fan-out to %d contacts; roster of %d items; sm-resume %d sessions by %d workers; %d idle sessions (idle-sm: with XEP-0198 resumption); %v per scenario; SCRAM-SHA-1 over STARTTLS everywhere (tsung: SASL PLAIN over STARTTLS, %ds at %d users/s); archive phase: archiving on (xmppd archive.enabled, mod_mam default storage), mam-fill %d messages into one archive, mam-fill-large on to %d where the server gets there within %v, mam-query(-large) the last %d\n\n",
		rep.Started.Format(time.RFC3339), z.Users, z.LoginConc, z.ChatUsers/2, z.ChatWindow, z.FanoutContacts, z.RosterItems,
		z.ResumeSessions, z.ResumeConc, z.IdleSessions, z.Duration, z.TsungSeconds, z.TsungRate, z.MAMMessages, z.MAMMessagesLarge, z.MAMFillLimit, mamPage)
	var names []string
	for _, s := range rep.Servers {
		names = append(names, s.Server)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	head := []string{"figure", "better"}
	head = append(head, names...)
	for _, n := range names {
		if n != "xmppd" && hasServer(names, "xmppd") {
			head = append(head, "xmppd/"+n)
		}
	}
	fmt.Fprintln(tw, "| "+strings.Join(head, "\t| ")+"\t|")
	seps := make([]string, len(head))
	for i := range seps {
		seps[i] = "---"
	}
	fmt.Fprintln(tw, "| "+strings.Join(seps, "\t| ")+"\t|")
	for _, row := range rep.Table {
		cells := []string{row.Figure, row.Better}
		for _, n := range names {
			if v, ok := row.Values[n]; ok {
				cells = append(cells, formatFigure(v))
			} else {
				cells = append(cells, "-")
			}
		}
		for _, n := range names {
			if n == "xmppd" || !hasServer(names, "xmppd") {
				continue
			}
			if r, ok := row.Ratios[n]; ok {
				cells = append(cells, strconv.FormatFloat(r, 'f', 2, 64)+"x")
			} else {
				cells = append(cells, "-")
			}
		}
		fmt.Fprintln(tw, "| "+strings.Join(cells, "\t| ")+"\t|")
	}
	tw.Flush()
	for _, s := range rep.Servers {
		for _, p := range s.Problems {
			fmt.Fprintf(w, "problem: %s: %s\n", s.Server, p)
		}
		for _, n := range s.Notes {
			fmt.Fprintf(w, "note: %s: %s\n", s.Server, n)
		}
	}
}

func hasServer(names []string, n string) bool {
	for _, m := range names {
		if m == n {
			return true
		}
	}
	return false
}

// formatFigure prints large numbers whole and small ones with up to two
// decimals.
func formatFigure(v float64) string {
	if v >= 100 || v == float64(int64(v)) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// globAny reports whether any pattern matches a path.
func globAny(patterns ...string) (bool, error) {
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil {
			return false, err
		}
		if len(m) > 0 {
			return true, nil
		}
	}
	return false, nil
}
