package im

import (
	"runtime"
	"strconv"
	"time"

	"xmppd/stanza"
)

// serverInfoFeatures are the disco#info features serverInfo answers.
var serverInfoFeatures = []string{stanza.NSVersion, stanza.NSTime, stanza.NSLast}

// errFeatureNotImplemented answers a set in a namespace that only has
// gets (RFC 6120 8.3.3.3).
var errFeatureNotImplemented = stanza.Error{Type: stanza.Cancel, Condition: stanza.FeatureNotImplemented}

// serverInfo answers the small IQs to the server's domain: XEP-0092
// software version, XEP-0202 entity time and XEP-0012 last activity
// (section 5, server uptime). It reports whether st was one of them.
func (s *Core) serverInfo(x *session, st stanza.Stanza) bool {
	els := st.El.Elements()
	if len(els) != 1 || (st.Type != "get" && st.Type != "set") {
		return false
	}
	q := els[0]
	var payload *stanza.Element
	switch {
	case isQuery(q, stanza.NSVersion):
		// XEP-0092 section 2: name and version REQUIRED, os OPTIONAL.
		payload = stanza.New(stanza.NSVersion, "query")
		payload.AddChild(stanza.New(stanza.NSVersion, "name").AddText("xmppd"))
		version := s.cfg.Version
		if version == "" {
			version = "unknown"
		}
		payload.AddChild(stanza.New(stanza.NSVersion, "version").AddText(version))
		if s.cfg.ReportOS {
			payload.AddChild(stanza.New(stanza.NSVersion, "os").AddText(runtime.GOOS))
		}
	case q.Name.Space == stanza.NSTime && q.Name.Local == "time":
		// XEP-0202 section 3: tzo is the offset from UTC of the server's
		// zone, utc the time in UTC (XEP-0082 formats).
		now := s.now()
		payload = stanza.New(stanza.NSTime, "time")
		payload.AddChild(stanza.New(stanza.NSTime, "tzo").AddText(now.Format("-07:00")))
		payload.AddChild(stanza.New(stanza.NSTime, "utc").AddText(now.UTC().Format("2006-01-02T15:04:05.000Z")))
	case isQuery(q, stanza.NSLast):
		// XEP-0012 section 5: to a server, the seconds since it started.
		up := s.now().Sub(s.upSince) / time.Second
		payload = stanza.New(stanza.NSLast, "query", "seconds", strconv.FormatInt(int64(up), 10))
	default:
		return false
	}
	if st.Type == "set" {
		s.reply(x, errorReply(st.El, errFeatureNotImplemented))
		return true
	}
	s.reply(x, iqResult(st.El, st.To).AddChild(payload))
	return true
}
