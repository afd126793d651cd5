package im

import (
	"bytes"
	"testing"

	"xmppd/stanza"
)

// The cache answers only the version it holds, replaces an account's
// older roster, and starts again empty rather than grow past its bound.
func TestRosterCache(t *testing.T) {
	var c rosterCache
	c.put("a@x", "1", stanza.Encoded("<query ver='1'/>"))
	if _, ok := c.get("a@x", "2"); ok {
		t.Fatal("answered version 2 with version 1")
	}
	c.put("a@x", "2", stanza.Encoded("<query ver='2'/>"))
	if q, ok := c.get("a@x", "2"); !ok || !bytes.Equal(q, []byte("<query ver='2'/>")) {
		t.Fatalf("version 2: %q %v", q, ok)
	}
	if c.bytes != len("<query ver='2'/>") {
		t.Fatalf("counts %d bytes after a replacement", c.bytes)
	}
	big := stanza.Encoded(bytes.Repeat([]byte("x"), maxRosterCacheBytes/3))
	for _, bare := range []string{"b@x", "c@x", "d@x", "e@x"} {
		c.put(bare, "1", big)
		if c.bytes > maxRosterCacheBytes {
			t.Fatalf("holds %d bytes, over %d", c.bytes, maxRosterCacheBytes)
		}
	}
	if _, ok := c.get("e@x", "1"); !ok {
		t.Fatal("the last roster put is not kept")
	}
}
