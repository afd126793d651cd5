package main_test

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// xmlNode is any element a raw client reads.
type xmlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []xmlNode  `xml:",any"`
}

func (n xmlNode) attr(local string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func (n xmlNode) child(local string) bool {
	for _, c := range n.Nodes {
		if c.XMLName.Local == local {
			return true
		}
	}
	return false
}

// rawXMPP is a minimal direct-TLS (XEP-0368) client: enough to log in
// with PLAIN, bind and exchange a few stanzas, with nothing between the
// test and the wire.
type rawXMPP struct {
	t    *testing.T
	conn *tls.Conn
	d    *xml.Decoder
}

func dialXMPP(t *testing.T, addr string) *rawXMPP {
	t.Helper()
	// The server's certificate is the self-signed one made on first start.
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawXMPP{t: t, conn: conn, d: xml.NewDecoder(conn)}
	c.open()
	return c
}

func (c *rawXMPP) send(s string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatal(err)
	}
}

// open sends a stream header and reads the server's header and features.
func (c *rawXMPP) open() {
	c.t.Helper()
	c.send(`<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`)
	if n := c.next(); n.XMLName.Local != "stream" {
		c.t.Fatalf("want a stream header, got %v", n.XMLName)
	}
	if n := c.next(); n.XMLName.Local != "features" {
		c.t.Fatalf("want stream features, got %v", n.XMLName)
	}
}

// next returns the next top-level element (a stream header unread).
func (c *rawXMPP) next() xmlNode {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		tok, err := c.d.Token()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local == "stream" {
				return xmlNode{XMLName: se.Name}
			}
			var n xmlNode
			if err := c.d.DecodeElement(&n, &se); err != nil {
				c.t.Fatalf("read %v: %v", se.Name, err)
			}
			if c.answerPing(n) {
				continue
			}
			return n
		}
	}
}

// answerPing answers a XEP-0199 ping from the server, as every client
// must answer an IQ get (RFC 6120 8.2.3), and reports whether n was one.
func (c *rawXMPP) answerPing(n xmlNode) bool {
	if n.XMLName.Local != "iq" || n.attr("type") != "get" || !n.child("ping") || strings.Contains(n.attr("from"), "@") {
		return false
	}
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c.conn, `<iq type='result' id='`+n.attr("id")+`' to='`+n.attr("from")+`'/>`)
	return true
}

// await reads until an element named local (with id, if not empty).
func (c *rawXMPP) await(local, id string) xmlNode {
	c.t.Helper()
	for {
		n := c.next()
		if n.XMLName.Local == local && (id == "" || n.attr("id") == id) {
			return n
		}
	}
}

// plain runs SASL PLAIN and reports whether it succeeded.
func (c *rawXMPP) plain(user, password string) bool {
	c.t.Helper()
	resp := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>` + resp + `</auth>`)
	n := c.next()
	switch n.XMLName.Local {
	case "success":
		return true
	case "failure":
		if !n.child("not-authorized") {
			c.t.Fatalf("failure without not-authorized: %+v", n)
		}
		return false
	}
	c.t.Fatalf("want success or failure, got %v", n.XMLName)
	return false
}

func (c *rawXMPP) login(user, password, resource string) {
	c.t.Helper()
	if !c.plain(user, password) {
		c.t.Fatalf("login as %s refused", user)
	}
	c.open()
	c.send(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>` + resource + `</resource></bind></iq>`)
	if n := c.await("iq", "bind1"); n.attr("type") != "result" {
		c.t.Fatalf("bind: %+v", n)
	}
}

// scrape reads /metrics as "name{labels}" -> value.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls cond for up to 5s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestServeMetricsAndHealth runs `xmppd serve` and a real client, and
// checks that what the client did shows on /metrics: a bound session,
// its stanzas in and the server's answers out by kind, the appends and
// group commits of its session and presence events, a failed login by
// mechanism, the views caught up with the log; /healthz is 200 with the
// applied position; profiles are not served unless enabled.
func TestServeMetricsAndHealth(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	srv := startServe(t, dir)
	if !strings.Contains(srv.log(), "metrics listening") {
		t.Errorf("serve did not log its metrics address:\n%s", srv.log())
	}
	before := scrape(t, srv.metrics)
	if before["xmppd_c2s_sessions"] != 0 || before["xmppd_store_append_seconds_count"] < 1 {
		t.Fatalf("before any client: sessions %v, appends %v (server.started is one)",
			before["xmppd_c2s_sessions"], before["xmppd_store_append_seconds_count"])
	}

	bad := dialXMPP(t, srv.directTLS)
	if bad.plain("alice", "not-her-password") {
		t.Fatal("wrong password accepted")
	}
	c := dialXMPP(t, srv.directTLS)
	c.login("alice", "alice-pw", "metrics")
	c.send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	c.await("iq", "r1")
	c.send(`<presence/>`)
	c.await("presence", "") // RFC 6121 4.2.2: her own presence comes back
	c.send(`<message to='alice@localhost/metrics' type='chat' id='m1'><body>note to self</body></message>`)
	c.await("message", "m1")

	var m map[string]float64
	eventually(t, "the views to catch up with the log", func() bool {
		m = scrape(t, srv.metrics)
		return m["xmppd_views_lag_events"] == 0
	})
	exact := map[string]float64{
		"xmppd_up":                                                 1,
		"xmppd_c2s_sessions":                                       1,
		`xmppd_c2s_stanzas_in_total{kind="iq"}`:                    1,
		`xmppd_c2s_stanzas_in_total{kind="presence"}`:              1,
		`xmppd_c2s_stanzas_in_total{kind="message"}`:               1,
		`xmppd_c2s_auth_failures_total{mechanism="PLAIN"}`:         1,
		`xmppd_c2s_auth_failures_total{mechanism="SCRAM-SHA-256"}`: 0,
		`xmppd_views_lag_events`:                                   0,
	}
	for k, v := range exact {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	for _, k := range []string{`xmppd_c2s_stanzas_out_total{kind="iq"}`, `xmppd_c2s_stanzas_out_total{kind="presence"}`, `xmppd_c2s_stanzas_out_total{kind="message"}`} {
		if m[k] < 1 {
			t.Errorf("%s = %v, want at least 1", k, m[k])
		}
	}
	// session.started and the available presence were appended since.
	if m["xmppd_store_append_seconds_count"] < before["xmppd_store_append_seconds_count"]+2 {
		t.Errorf("appends: %v before the session, %v after", before["xmppd_store_append_seconds_count"], m["xmppd_store_append_seconds_count"])
	}
	if m["xmppd_store_commit_events_sum"] < m["xmppd_store_append_seconds_count"] || m["xmppd_store_commit_events_count"] < 1 {
		t.Errorf("group commits wrote %v events in %v commits for %v appends",
			m["xmppd_store_commit_events_sum"], m["xmppd_store_commit_events_count"], m["xmppd_store_append_seconds_count"])
	}
	if m["xmppd_views_applied_position"] < 3 {
		t.Errorf("applied position %v", m["xmppd_views_applied_position"])
	}
	for _, k := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s missing: runtime and process collectors not registered", k)
		}
	}

	code, body := httpGet(t, "http://"+srv.metrics+"/healthz")
	var h struct {
		Status   string
		Position float64
		Sessions int
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("/healthz body %q: %v", body, err)
	}
	if code != 200 || h.Status != "ok" || h.Sessions != 1 || h.Position != m["xmppd_views_applied_position"] {
		t.Errorf("/healthz: %d %s (applied position %v)", code, body, m["xmppd_views_applied_position"])
	}
	if code, _ := httpGet(t, "http://"+srv.metrics+"/debug/pprof/"); code != 404 {
		t.Errorf("/debug/pprof/ without metrics.pprof: %d, want 404", code)
	}

	c.send(`</stream:stream>`)
	eventually(t, "the session gauge to drop", func() bool { return scrape(t, srv.metrics)["xmppd_c2s_sessions"] == 0 })
}

// TestServeMetricsOptions: metrics.pprof serves the profiles; an empty
// metrics.addr in the configuration file serves nothing.
func TestServeMetricsOptions(t *testing.T) {
	t.Run("pprof", func(t *testing.T) {
		srv := startServe(t, t.TempDir(), "XMPPD_METRICS_PPROF=true")
		base := "http://" + srv.metrics
		if code, body := httpGet(t, base+"/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
			t.Errorf("/debug/pprof/ with metrics.pprof: %d", code)
		}
		if code, body := httpGet(t, base+"/debug/pprof/goroutine?debug=1"); code != 200 || !strings.Contains(body, "goroutine profile") {
			t.Errorf("goroutine profile: %d %.100s", code, body)
		}
		if code, _ := httpGet(t, base+"/healthz"); code != 200 {
			t.Errorf("/healthz: %d", code)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "xmppd.yaml"), []byte("metrics:\n  addr: \"\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		// An empty variable is unset for viper: the file's "" stands.
		srv := startServe(t, dir, "XMPPD_METRICS_ADDR=")
		if strings.Contains(srv.log(), "metrics listening") {
			t.Errorf("metrics served with an empty metrics.addr:\n%s", srv.log())
		}
		if conn, err := net.DialTimeout("tcp", srv.metrics, time.Second); err == nil {
			conn.Close()
			t.Errorf("something listens on %s", srv.metrics)
		}
	})
}

// TestServeRefusesBadMetricsSettings: a metrics.addr that is not
// host:port is a configuration error listed with the others, and one
// that cannot be bound stops serve with the reason, before it serves.
func TestServeRefusesBadMetricsSettings(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"not host:port", "metrics:\n  addr: \"9271\"\n  pprof: true\n", "metrics.addr \"9271\" is not host:port"},
		{"pprof without addr", "metrics:\n  addr: \"\"\n  pprof: true\n", "metrics.pprof is on but metrics.addr is empty"},
		{"in use", "c2s:\n  starttls_addr: %q\n  tls_addr: %q\nmetrics:\n  addr: %q\n", "metrics: listen on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			yaml := tc.yaml
			if strings.Contains(yaml, "%q") {
				busy, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer busy.Close()
				yaml = fmt.Sprintf(yaml, freePort(t), freePort(t), busy.Addr().String())
			}
			if err := os.WriteFile(filepath.Join(dir, "xmppd.yaml"), []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			r := xmppd(t, dir, "", "serve")
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q, want it to say %q", r.code, r.stderr, tc.want)
			}
		})
	}
}
