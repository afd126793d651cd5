package events_test

import (
	"crypto/cipher"
	"testing"
	"time"

	"xmppd/events"
)

func BenchmarkDecodePresenceAvailable(b *testing.B) {
	e, _ := events.New(events.PresenceAvailable{Resource: "laptop", Show: "away", Status: "in a meeting", Priority: 5,
		Stanza: `<presence xmlns="jabber:client" from="alice@localhost/laptop" id="p1"><show>away</show><status>in a meeting</status><priority>5</priority></presence>`}, events.Meta{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := events.Decode(&e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSubscriptionChanged(b *testing.B) {
	e, _ := events.New(events.SubscriptionChanged{Contact: "bob@localhost", Cause: events.InSubscribe, Before: events.StateNone, After: events.StateNonePendingIn}, events.Meta{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := events.Decode(&e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPresenceSealing is what sealing adds to one available
// presence (issue 13): the server seals it on append and the views open
// it when they apply it. "clear" encodes and decodes the event as before;
// "sealed" seals, encodes, decodes and opens it, with the cipher cached as
// adapters/keystore caches it.
func BenchmarkPresenceSealing(b *testing.B) {
	p := events.PresenceAvailable{Resource: "laptop", Show: "away", Status: "in a meeting", Priority: 5,
		Stanza: "<presence xmlns='jabber:client' from='alice@localhost/laptop' xml:lang='en'><show>away</show><status>in a meeting</status><priority>5</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://gajim.org' ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/></presence>"}
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	keys := cachedKeysForTest{mapKeysForTest{}, map[events.KeyID]cipher.AEAD{}}
	for _, sealed := range []bool{false, true} {
		name := map[bool]string{false: "clear", true: "sealed"}[sealed]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				var q events.Payload = p
				var err error
				if sealed {
					if q, err = events.SealPersonal(q, keys, "alice@localhost", now); err != nil {
						b.Fatal(err)
					}
				}
				e, err := events.New(q, events.Meta{})
				if err != nil {
					b.Fatal(err)
				}
				d, err := events.Decode(&e)
				if err != nil {
					b.Fatal(err)
				}
				if sealed {
					if _, err = events.OpenPersonal(d, keys); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// cachedKeysForTest caches each key's cipher, as adapters/keystore does.
type cachedKeysForTest struct {
	keys   mapKeysForTest
	cipher map[events.KeyID]cipher.AEAD
}

func (c cachedKeysForTest) Key(id events.KeyID) (events.KeyID, cipher.AEAD, error) {
	if a, ok := c.cipher[id]; ok {
		return id, a, nil
	}
	_, a, err := c.keys.Key(id)
	c.cipher[id] = a
	return id, a, err
}

func (c cachedKeysForTest) Lookup(id events.KeyID) (cipher.AEAD, string, error) {
	_, a, err := c.Key(id)
	return a, "", err
}
