package events_test

import (
	"crypto/cipher"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"xmppd/events"
)

// mapKeysForTest is an in-memory key store: the real one
// (adapters/keystore) is below events' tier and cannot be imported here.
type mapKeysForTest map[events.KeyID][]byte

func (m mapKeysForTest) Key(id events.KeyID) (events.KeyID, cipher.AEAD, error) {
	if k, ok := m[id]; ok {
		if k == nil {
			return id, nil, errors.New("destroyed")
		}
		a, err := events.NewAEAD(k)
		return id, a, err
	}
	k := []byte(strings.Repeat(id.Period[5:], 16))
	m[id] = k
	a, err := events.NewAEAD(k)
	return id, a, err
}

func (m mapKeysForTest) Lookup(id events.KeyID) (cipher.AEAD, string, error) {
	k, ok := m[id]
	switch {
	case !ok:
		return nil, events.GoneMissing, nil
	case k == nil:
		return nil, events.GoneErased, nil
	}
	a, err := events.NewAEAD(k)
	return a, "", err
}

// Issue 13: the personal fields of each sealed payload are absent from
// the stored event, open with the key, and read as erased without it.
func TestSealPersonalOpensAndShredsEachPayload(t *testing.T) {
	now := time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC)
	for _, p := range []events.Payload{
		events.VCardSet{XML: "<vCard xmlns='vcard-temp'><FN>Alice</FN></vCard>"},
		events.PrivateSet{Local: "q", Namespace: "urn:x", XML: "<q xmlns='urn:x'>secret</q>"},
		events.PEPPublished{Node: "urn:xmpp:avatar:data", ID: "h1", XML: "<data>secret</data>"},
		events.PresenceAvailable{Resource: "r", Show: "away", Status: "at the doctor's", Priority: 5, Stanza: "<presence><status>at the doctor's</status></presence>"},
		events.ArchiveMessageStored{ID: "a1", With: "bob@localhost/phone", Direction: events.ArchiveIn, Content: "<message><body>secret</body></message>"},
		events.DirectedPresence{Resource: "r", To: "room@conference.localhost/alice", Available: true, Stanza: "<presence><status>secret</status></presence>"},
		events.OfflineQueued{Kind: "message", From: "bob@localhost/phone", Stanza: "<message><body>secret</body></message>"},
	} {
		t.Run(p.EventType(), func(t *testing.T) {
			keys := mapKeysForTest{}
			sealed, err := events.SealPersonal(p, keys, "alice@localhost", now)
			if err != nil {
				t.Fatal(err)
			}
			e, err := events.New(sealed, events.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(e.Data), "secret") || strings.Contains(string(e.Data), "Alice") || strings.Contains(string(e.Data), "doctor") {
				t.Fatalf("stored data holds the clear content: %s", e.Data)
			}
			if !strings.Contains(string(e.Data), `"period":"2026-12"`) {
				t.Errorf("stored data names no key period: %s", e.Data)
			}
			got, err := events.Decode(&events.Envelope{Type: e.Type, SchemaVersion: e.SchemaVersion, Data: e.Data})
			if err != nil {
				t.Fatal(err)
			}
			opened, err := events.OpenPersonal(got, keys)
			if err != nil {
				t.Fatal(err)
			}
			if events.GoneOf(opened) != "" {
				t.Fatalf("opened with its key, gone = %q", events.GoneOf(opened))
			}
			// Equal to the clear payload but for the key id kept in Sealed.
			if cleared := clearSealed(opened); !reflect.DeepEqual(cleared, p) {
				t.Errorf("opened %#v\nwant   %#v", cleared, p)
			}
			keys[events.KeyID{Account: "alice@localhost", Period: "2026-12"}] = nil
			shredded, err := events.OpenPersonal(got, keys)
			if err != nil {
				t.Fatalf("a destroyed key is an error: %v", err)
			}
			if events.GoneOf(shredded) != events.GoneErased {
				t.Errorf("gone = %q, want erased", events.GoneOf(shredded))
			}
			if s := clearSealed(shredded); reflect.DeepEqual(s, p) {
				t.Error("content readable without its key")
			}
		})
	}
}

// A box moved into another account's event does not open.
func TestSealedContentIsBoundToItsKeyID(t *testing.T) {
	keys := mapKeysForTest{}
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	p, _ := events.SealPersonal(events.VCardSet{XML: "<vCard/>"}, keys, "alice@localhost", now)
	v := p.(events.VCardSet)
	keys[events.KeyID{Account: "mallory@localhost", Period: "2026-12"}] = keys[v.Sealed.KeyID]
	moved := *v.Sealed
	moved.Account = "mallory@localhost"
	if _, err := events.OpenPersonal(events.VCardSet{Sealed: &moved}, keys); !errors.Is(err, events.ErrUnsealable) {
		t.Errorf("moved box: err = %v, want ErrUnsealable", err)
	}
}

// Events written before sealing (schema 1) open as they are.
func TestOpenPersonalLeavesClearEventsAlone(t *testing.T) {
	p := events.VCardSet{XML: "<vCard/>"}
	got, err := events.OpenPersonal(p, nil)
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("OpenPersonal(clear) = %#v, %v", got, err)
	}
}

// clearSealed is p with its Sealed field nil.
func clearSealed(p events.Payload) events.Payload {
	v := reflect.New(reflect.TypeOf(p)).Elem()
	v.Set(reflect.ValueOf(p))
	if f := v.FieldByName("Sealed"); f.IsValid() {
		f.SetZero()
	}
	return v.Interface().(events.Payload)
}
