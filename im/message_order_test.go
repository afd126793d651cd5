package im_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// RFC 6120 10.1: stanzas from one session reach another in the order
// sent, whichever way the server takes them. Directed presence is
// recorded on the sender's actor before it is routed; a message right
// behind it must not overtake it (the core routes a message from the
// reader's goroutine only when nothing of the session waits on its
// actor); and a long burst of messages keeps its order too.
func TestMessagesKeepOrderWithPresence(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a := e.login("alice", "phone")
	b := e.login("bob", "desk")
	a.online(0)
	b.online(0)
	before := len(b.arrivalOrder())

	var burst strings.Builder
	want := []string{}
	for i := range 3 {
		fmt.Fprintf(&burst, `<presence to='%s'/><message to='bob@localhost' type='chat'><body>p%d</body></message>`, b.jid, i)
		fmt.Fprintf(&burst, `<presence to='%s' type='unavailable'/><message to='bob@localhost' type='chat'><body>u%d</body></message>`, b.jid, i)
		want = append(want, "presence ", "message chat", "presence unavailable", "message chat")
	}
	for i := range 200 {
		fmt.Fprintf(&burst, `<message to='bob@localhost' type='chat'><body>%d</body></message>`, i)
		want = append(want, "message chat")
	}
	a.write(burst.String())
	b.expect(message(a.jid, "199"))

	got := b.arrivalOrder()[before:]
	if !slices.Equal(got, want) {
		t.Fatalf("bob received, in order:\n%v\nwant\n%v", got, want)
	}
	b.mu.Lock()
	arrived := slices.Clone(b.arrived[before:])
	b.mu.Unlock()
	n := 0
	for _, el := range arrived {
		if el.Name.Local != "message" {
			continue
		}
		body := el.Child("body", "").Text()
		if i, err := strconv.Atoi(body); err == nil {
			if i != n {
				t.Fatalf("message %q arrived where %d was due", body, n)
			}
			n++
		}
	}
}

// Messages that are refused, bounced or dropped give their session's
// backpressure tokens back just as delivered ones do: past
// maxPendingStanzas (128) of them the session still routes.
func TestRefusedMessagesDoNotStallTheSession(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	e.addUser("bob")
	e.start()
	a := e.login("alice", "phone")
	b := e.login("bob", "desk")
	a.online(0)
	b.online(0)
	var burst strings.Builder
	for i := range 150 {
		fmt.Fprintf(&burst, `<message to='x@remote.example' type='chat'><body>r%d</body></message>`, i)
		fmt.Fprintf(&burst, `<message to='nobody@localhost' type='chat'><body>n%d</body></message>`, i)
		fmt.Fprintf(&burst, `<message to='localhost' type='chat'><body>s%d</body></message>`, i)
		fmt.Fprintf(&burst, `<message to='bob@localhost/gone' type='headline'><body>h%d</body></message>`, i)
	}
	burst.WriteString(`<message to='bob@localhost' type='chat'><body>through</body></message>`)
	a.write(burst.String())
	b.expect(message(a.jid, "through"))
}
