package main_test

import (
	"context"
	"encoding/xml"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// requireGoSendxmpp finds Debian's go-sendxmpp, installing it when the
// test runs as root; otherwise the test is skipped, saying why (in CI its
// absence is a failure).
func requireGoSendxmpp(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go-sendxmpp"); err == nil {
		return p
	}
	why := "go-sendxmpp is not installed and the test is not root: apt-get install go-sendxmpp"
	if os.Geteuid() == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", "go-sendxmpp")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if p, lerr := exec.LookPath("go-sendxmpp"); lerr == nil {
			return p
		}
		why = "go-sendxmpp could not be installed: apt-get install go-sendxmpp: " + err.Error() + "\n" + lastLines(string(out), 5)
	}
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
	return ""
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// sentMessage is a <message/> as the receiving raw client reads it.
type sentMessage struct {
	From string `xml:"from,attr"`
	Type string `xml:"type,attr"`
	Body string `xml:"body"`
}

// awaitMessage reads c's stream until a message with a body arrives,
// answering the server's pings meanwhile.
func awaitMessage(c *rawXMPP) sentMessage {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		tok, err := c.d.Token()
		if err != nil {
			c.t.Fatalf("waiting for a message: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local == "message" {
			var m sentMessage
			if err := c.d.DecodeElement(&m, &se); err != nil {
				c.t.Fatalf("read message: %v", err)
			}
			if m.Body != "" {
				return m
			}
			continue
		}
		var n xmlNode
		if err := c.d.DecodeElement(&n, &se); err != nil {
			c.t.Fatalf("read %v: %v", se.Name, err)
		}
		c.answerPing(n)
	}
}

// TestGoSendxmpp: go-sendxmpp (Debian's, on go-xmpp) writes
// "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\n": whitespace
// RFC 6120 section 5.3.3 asks clients not to send there, which the server
// discards rather than refusing as plaintext pipelined after STARTTLS
// (RFC 7590 section 3.1). It logs in on the STARTTLS port and, with -t,
// on the direct TLS port (XEP-0368), and each time its message reaches a
// second account's raw client. The STARTTLS port refuses SASL before TLS
// (RFC 6120 section 6.5.4), so a login there is a login over STARTTLS.
func TestGoSendxmpp(t *testing.T) {
	bin := requireGoSendxmpp(t)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv := startServe(t, dir)

	bob := dialXMPP(t, srv.directTLS)
	bob.login("bob", "bob-pw", "raw")
	bob.send(`<presence/>`)

	home := t.TempDir() // no user configuration file is read
	for _, tc := range []struct {
		name, addr string
		flags      []string
	}{
		{"STARTTLS", srv.starttls, nil},
		{"direct TLS", srv.directTLS, []string{"-t"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := "hello bob over " + tc.name + ", ñ ✓"
			args := append([]string{"-u", "alice@localhost", "-p", "alice-pw", "-j", tc.addr,
				"-n", // the server's certificate is the self-signed one made on first start
				"--timeout", "10"}, tc.flags...)
			args = append(args, "bob@localhost")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home)
			cmd.Stdin = strings.NewReader(body + "\n")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go-sendxmpp %s: %v\n%s\nserver:\n%s", strings.Join(args, " "), err, out, srv.log())
			}
			m := awaitMessage(bob)
			if m.Body != body {
				t.Errorf("bob received body %q, want %q", m.Body, body)
			}
			if !strings.HasPrefix(m.From, "alice@localhost/") {
				t.Errorf("message from %q, want alice@localhost/<resource>, stamped by the server", m.From)
			}
		})
	}
}
