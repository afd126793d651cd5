package main

import (
	"bytes"
	"math"
	"net"
	"strings"
	"testing"
	"time"
)

func TestSeqAtOrAfterWraps(t *testing.T) {
	for _, tc := range []struct {
		a, b uint32
		want bool
	}{
		{5, 5, true},
		{6, 5, true},
		{4, 5, false},
		{0, math.MaxUint32, true},     // one past the wrap
		{3, math.MaxUint32 - 2, true}, // six past it
		{math.MaxUint32, 0, false},    // one before zero
		{math.MaxUint32 - 10, 3, false},
	} {
		if got := seqAtOrAfter(tc.a, tc.b); got != tc.want {
			t.Errorf("seqAtOrAfter(%d, %d) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestSMStateAcksAcrossTheWrap counts stanzas sent through 2^32, asks for
// acks, and checks that <a h/> after the wrap answers requests made
// before it, and that an h above what was sent is caught.
func TestSMStateAcksAcrossTheWrap(t *testing.T) {
	sm := &smState{every: 2}
	sm.out.Store(math.MaxUint32 - 2)
	var asked []bool
	for range 4 { // out: 2^32-2, 2^32-1, 0, 1
		asked = append(asked, sm.sent())
	}
	// every 2: at 2^32-2 and at 0 (both even).
	if want := []bool{true, false, true, false}; !slicesEqual(asked, want) {
		t.Fatalf("asks %v, want %v", asked, want)
	}
	if sm.unanswered() != 2 {
		t.Fatalf("unanswered %d", sm.unanswered())
	}
	if err := sm.acked(math.MaxUint32 - 1); err != nil { // covers the first only
		t.Fatal(err)
	}
	if sm.unanswered() != 1 {
		t.Errorf("after h=2^32-1: unanswered %d, want 1", sm.unanswered())
	}
	if err := sm.acked(1); err != nil { // past the wrap: covers the second
		t.Fatal(err)
	}
	if sm.unanswered() != 0 || sm.checks.answered.Load() != 2 {
		t.Errorf("after h=1: unanswered %d answered %d", sm.unanswered(), sm.checks.answered.Load())
	}
	if err := sm.acked(2); err == nil || sm.checks.tooHigh.Load() != 1 {
		t.Errorf("h=2 with 1 sent: %v, tooHigh %d", err, sm.checks.tooHigh.Load())
	}
	// The client's own count wraps as well.
	sm.in = math.MaxUint32
	sm.received()
	if sm.in != 0 || smAckXML(sm.in) != "<a xmlns='urn:xmpp:sm:3' h='0'/>" {
		t.Errorf("in after the wrap = %d, %s", sm.in, smAckXML(sm.in))
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestReadSMCountsAndAnswers feeds a session a stream with stanzas and
// SM nonzas over a real loopback connection and checks what the
// scenario sees, what h the client answers, and the checks of <a/>.
func TestReadSMCountsAndAnswers(t *testing.T) {
	client, server := loopbackPair(t)
	s := &session{conn: client, raw: client, r: newElemReader(client), sm: &smState{every: 50}}
	s.sm.out.Store(3)
	s.sm.request() // an <r/> at out=3
	go server.Write([]byte("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>" +
		"<message from='a@x/r'><body>1</body></message><presence from='b@x/r'/>" +
		"<r xmlns='urn:xmpp:sm:3'/><a xmlns='urn:xmpp:sm:3' h='3'/>" +
		"<iq type='result' id='x'/><enabled xmlns='urn:xmpp:sm:3'/>"))
	var seen []string
	for len(seen) < 4 {
		e, err := s.read()
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, e.name())
	}
	if got := strings.Join(seen, " "); got != "stream:stream message presence iq" {
		t.Errorf("scenario saw %q", got)
	}
	if s.sm.in != 3 || s.sm.unanswered() != 0 || s.sm.checks.serverRs.Load() != 1 {
		t.Errorf("in %d unanswered %d server r %d", s.sm.in, s.sm.unanswered(), s.sm.checks.serverRs.Load())
	}
	// The answer to the server's <r/> counted the two stanzas before it.
	buf := make([]byte, 100)
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _ := server.Read(buf)
	if !bytes.Contains(buf[:n], []byte("<a xmlns='urn:xmpp:sm:3' h='2'/>")) {
		t.Errorf("answer to <r/>: %q", buf[:n])
	}
}

func loopbackPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan net.Conn)
	go func() {
		c, _ := ln.Accept()
		done <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-done
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// mustElem scans one top-level element out of x.
func mustElem(t *testing.T, x string) elem {
	t.Helper()
	r := newElemReader(strings.NewReader("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>" + x))
	if _, err := r.next(); err != nil {
		t.Fatal(err)
	}
	e, err := r.next()
	if err != nil {
		t.Fatal(err)
	}
	return elem{raw: append([]byte{}, e.raw...)}
}

// TestClassifyCarbon uses the examples of XEP-0280 (sections 6 and 11).
func TestClassifyCarbon(t *testing.T) {
	const own = "romeo@montague.example"
	for name, tc := range map[string]struct {
		x    string
		want carbonKind
	}{
		"direct": {`<message xmlns='jabber:client' from='juliet@capulet.example/balcony' to='romeo@montague.example/garden' type='chat'><body>Wherefore art thou, Romeo?</body></message>`, deliveredDirect},
		"received (example 5)": {`<message xmlns='jabber:client' from='romeo@montague.example' to='romeo@montague.example/home' type='chat'>
  <received xmlns='urn:xmpp:carbons:2'>
    <forwarded xmlns='urn:xmpp:forward:0'>
      <message xmlns='jabber:client' from='juliet@capulet.example/balcony' to='romeo@montague.example/garden' type='chat'><body>What man art thou?</body></message>
    </forwarded>
  </received>
</message>`, carbonReceived},
		"sent (example 7)": {`<message xmlns='jabber:client' from='romeo@montague.example' to='romeo@montague.example/garden' type='chat'>
  <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>
    <message xmlns='jabber:client' to='juliet@capulet.example/balcony' from='romeo@montague.example/home' type='chat'><body>Neither, fair saint</body></message>
  </forwarded></sent>
</message>`, carbonSent},
		"no from is the account's own":     {`<message to='romeo@montague.example/garden'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message from='romeo@montague.example/home' to='juliet@capulet.example'><body>1</body></message></forwarded></sent></message>`, carbonSent},
		"forged by a contact (section 11)": {`<message from='tybalt@capulet.example/home' to='romeo@montague.example/garden'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message from='juliet@capulet.example/balcony' to='romeo@montague.example'><body>1</body></message></forwarded></received></message>`, carbonForged},
		"other namespace is not a carbon":  {`<message from='juliet@capulet.example/balcony' to='romeo@montague.example/garden'><received xmlns='urn:xmpp:receipts' id='x'/></message>`, deliveredDirect},
		"a body that quotes a carbon":      {`<message from='juliet@capulet.example/balcony' to='romeo@montague.example/garden'><body>&lt;sent xmlns='urn:xmpp:carbons:2'&gt;</body></message>`, deliveredDirect},
	} {
		if got := classifyCarbon(mustElem(t, tc.x), own); got != tc.want {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}
