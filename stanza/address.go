package stanza

import (
	"strings"
	"sync"
	"sync/atomic"

	"mellium.im/xmpp/jid"
)

// Address is a parsed JID with its canonical string forms. Addresses come
// from an Addresses cache shared by its owner's goroutines: treat them as
// read-only.
type Address struct {
	JID  jid.JID
	Full string // JID.String()
	Bare string // JID.Bare().String()
}

// Addresses parses JIDs (RFC 7622) through a cache. The zero value is
// ready to use; whoever parses addresses owns one (the process wires a
// single one into its transports and its core, so an address parsed by
// one is not parsed again by the other). Safe for concurrent use.
type Addresses struct {
	m     sync.Map // string -> *Address
	bytes atomic.Int64
}

// Parse is jid.Parse (RFC 7622: PRECIS and IDNA normalisation of
// each part) through a cache of the addresses seen recently. Parsing is a
// pure function of the string, so a cached result is exactly what parsing
// again would give; it saves the normalisation, which otherwise costs more
// than anything else in routing a message. Invalid addresses are not kept.
// Safe for concurrent use.
func (c *Addresses) Parse(s string) (*Address, error) {
	if a, ok := c.m.Load(s); ok {
		return a.(*Address), nil
	}
	j, err := jid.Parse(s)
	if err != nil {
		return nil, err
	}
	// The key is copied: s may be part of a larger string the cache
	// must not keep alive.
	s = strings.Clone(s)
	a := &Address{JID: j, Full: j.String()}
	if a.Full == s {
		a.Full = s // one copy of the text, not two
	}
	if a.Bare = a.Full; j.Resourcepart() != "" {
		a.Bare = j.Bare().String()
	}
	c.put(s, a)
	return a, nil
}

// ParseJID is jid.Parse through the cache.
func (c *Addresses) ParseJID(s string) (jid.JID, error) {
	a, err := c.Parse(s)
	if err != nil {
		return jid.JID{}, err
	}
	return a.JID, nil
}

// maxAddrCacheBytes bounds the cache's keys and values. Past it the cache
// starts again empty: addresses a server routes to are few next to this
// (a 64-byte address costs about 250 bytes with its entry), and a client
// sending to endless made-up addresses only makes its own stanzas parse
// as if there were no cache.
const maxAddrCacheBytes = 8 << 20

func (c *Addresses) put(s string, a *Address) {
	// The key, the two strings and the JID's own copy, and the entry.
	size := int64(len(s) + 3*len(a.Full) + 128)
	if c.bytes.Add(size) > maxAddrCacheBytes {
		c.m.Clear()
		c.bytes.Store(size)
	}
	c.m.Store(s, a)
}
