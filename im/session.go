package im

import (
	"sync"
	"sync/atomic"
	"xmppd/router"

	"mellium.im/xmpp/jid"
)

// session is what the core keeps about one bound session, of any
// transport.
type session struct {
	sess router.Session
	// origin is sess.Origin() as of the bind or the last resumption
	// (XEP-0198), for the meta of the events the session causes.
	origin   atomic.Pointer[router.Origin]
	full     jid.JID
	fullStr  string // full.String()
	bare     string
	resource string
	// pending holds one token per stanza of this session queued on its
	// actor: when full, Stanza waits, which stops c2s reading from this
	// client (backpressure on a flooding client only; actor queues are
	// otherwise unbounded, see actors).
	pending chan struct{}
	release func() // takes a token back from pending
	// onActor counts this session's stanzas queued or running on its
	// account's actor (Stanza).
	onActor atomic.Int32
	// ack is the id of the ping that offline delivery awaits the client's
	// answer to (clientack.go), and acked is closed when it comes; both
	// guarded by ackMu.
	ackMu sync.Mutex
	ack   string
	acked chan struct{}
	// carbons: the session enabled XEP-0280 Message Carbons (carbons.go),
	// a setting of this session only, never recorded.
	carbons atomic.Bool
	// blocklist: the session has requested the XEP-0191 block list and
	// gets block and unblock pushes (3.3, 3.4, 3.5).
	blocklist atomic.Bool
	pep       pepSession // XEP-0115 caps and the PEP nodes it wants notifications of (pep_caps.go)
}

// Key files the session in the router's registry. Whether it requested
// the roster (RFC 6121 2.1.6, 2.2: it gets roster pushes) and whether its
// end was recorded (stanzas still arriving from it are dropped) are kept
// there too, under the registry's lock.
func (x *session) Key() router.Key {
	return router.Key{ID: x.sess.ID(), Bare: x.bare, Resource: x.resource}
}
