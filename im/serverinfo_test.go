package im_test

import (
	"strconv"
	"testing"
	"time"

	"xmppd/stanza"
)

// XEP-0092 section 2, XEP-0202 section 3 and XEP-0012 section 5: the
// server answers software version, entity time and uptime, advertises
// them in disco#info, and refuses sets.
func TestServerVersionTimeUptime(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.start()
	a := e.login("alice", "phone")

	res := a.iq("v1", `<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>`)
	q := res.Child("query", stanza.NSVersion)
	if res.Attr("type") != "result" || res.Attr("from") != "localhost" || q == nil ||
		q.Child("name", stanza.NSVersion).Text() != "xmppd" || q.Child("version", stanza.NSVersion) == nil ||
		q.Child("version", stanza.NSVersion).Text() == "" {
		t.Fatalf("XEP-0092 version: %s", res)
	}
	if q.Child("os", stanza.NSVersion) != nil {
		t.Errorf("XEP-0092: os reported though off by default: %s", res)
	}

	res = a.iq("t1", `<iq type='get' id='t1' to='localhost'><time xmlns='urn:xmpp:time'/></iq>`)
	tm := res.Child("time", stanza.NSTime)
	if res.Attr("type") != "result" || tm == nil || tm.Child("tzo", stanza.NSTime) == nil || tm.Child("utc", stanza.NSTime) == nil {
		t.Fatalf("XEP-0202 time: %s", res)
	}
	utc, err := time.Parse(time.RFC3339, tm.Child("utc", stanza.NSTime).Text())
	if err != nil || time.Since(utc).Abs() > time.Minute {
		t.Errorf("XEP-0202 utc %q: %v", tm.Child("utc", stanza.NSTime).Text(), err)
	}
	if _, err := time.Parse("-07:00", tm.Child("tzo", stanza.NSTime).Text()); err != nil {
		t.Errorf("XEP-0202 tzo: %v", err)
	}

	res = a.iq("l1", `<iq type='get' id='l1' to='localhost'><query xmlns='jabber:iq:last'/></iq>`)
	l := res.Child("query", stanza.NSLast)
	if res.Attr("type") != "result" || l == nil {
		t.Fatalf("XEP-0012 uptime: %s", res)
	}
	if n, err := strconv.Atoi(l.Attr("seconds")); err != nil || n < 0 || n > 60 {
		t.Errorf("XEP-0012 uptime seconds=%q", l.Attr("seconds"))
	}

	if res := a.iq("v2", `<iq type='set' id='v2' to='localhost'><query xmlns='jabber:iq:version'/></iq>`); stanzaErr(res) != "feature-not-implemented" {
		t.Errorf("version set: %s", res)
	}

	res = a.iq("d1", `<iq type='get' id='d1' to='localhost'><query xmlns='%s'/></iq>`, stanza.NSDiscoInfo)
	features := map[string]bool{}
	for _, f := range res.Child("query", stanza.NSDiscoInfo).Elements() {
		features[f.Attr("var")] = true
	}
	for _, want := range []string{stanza.NSVersion, stanza.NSTime, stanza.NSLast} {
		if !features[want] {
			t.Errorf("disco#info lacks %s: %s", want, res)
		}
	}
}
