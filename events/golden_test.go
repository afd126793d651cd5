package events_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"xmppd/events"
)

var update = flag.Bool("update", false, "write golden files for current catalogue types that have none (never rewrites a file)")

// golden is one file of testdata/golden: an envelope exactly as a store
// hands it out, and the payload that its schema's xmppd wrote, which for
// the current schema is also what it must decode to.
type golden struct {
	Envelope events.Envelope `json:"envelope"`
	Payload  json.RawMessage `json:"payload"`
}

// upcastGolden is, for each golden file of an old schema version, the
// payload it must decode to now, through the upcasters. A file of an old
// version is frozen: it was written by that version and is never
// regenerated (its sha256 is pinned in frozenGolden).
var upcastGolden = map[string]events.Payload{
	// schema 1's free-text reason, not one xmppd wrote, is kept in
	// Detail under cause "unknown".
	"session.ended.v1.json": events.SessionEnded{Resource: "sample-Resource-ñ", Cause: events.EndUnknown, Detail: "sample-Reason-ñ"},
	// schema 1 did not record the throttle's decision.
	"session.auth_failed.v1.json": events.AuthFailed{Username: "sample-Username-ñ", Mechanism: "sample-Mechanism-ñ",
		ClientAddr: "sample-ClientAddr-ñ", Condition: "sample-Condition-ñ", Throttle: events.ThrottleUnrecorded},
	// schema 2 of the personal payloads only adds sealed: schema 1
	// events decode as they are, in clear, with nothing sealed.
	"vcard.set.v1.json": events.VCardSet{XML: `<vCard xmlns="vcard-temp"><FN>Alice ñ</FN></vCard>`},
	"private.set.v1.json": events.PrivateSet{Local: "storage", Namespace: "storage:bookmarks",
		XML: `<storage xmlns="storage:bookmarks"><conference jid="room@muc.localhost"/></storage>`},
	"pep.published.v1.json": events.PEPPublished{Node: "sample-Node-ñ", ID: "sample-ID-ñ", XML: "sample-XML-ñ"},
	"presence.available.v1.json": events.PresenceAvailable{Resource: "sample-Resource-ñ", Show: "sample-Show-ñ",
		Status: "sample-Status-ñ", Priority: 5, Stanza: "sample-Stanza-ñ"},
	// schema 2 of archive.message_stored only adds sealed: a message
	// archived in clear reads as it was written.
	"archive.message_stored.v1.json": events.ArchiveMessageStored{ID: "sample-ID-ñ", With: "sample-With-ñ",
		Direction: "sample-Direction-ñ", Content: "sample-Content-ñ"},
	// schema 2 of presence.directed and offline.queued only adds sealed:
	// a stanza of an older log reads in clear, as it was written.
	"presence.directed.v1.json": events.DirectedPresence{Resource: "sample-Resource-ñ", To: "sample-To-ñ",
		Available: true, Stanza: "sample-Stanza-ñ"},
	"offline.queued.v1.json": events.OfflineQueued{Kind: "sample-Kind-ñ", From: "sample-From-ñ", Stanza: "sample-Stanza-ñ"},
}

// frozenGolden pins the bytes of every old version's golden file: they
// record what a released xmppd wrote, and neither -update nor a hand edit
// may change them.
var frozenGolden = map[string]string{
	"session.ended.v1.json":          "e2dfa06b9484b271ca85c666cabe9688416e02cdc3004e019c4021dc127c729e",
	"session.auth_failed.v1.json":    "e5920e1dcf3c6e1c601bfb354976cad935992edeff0fedff3731dcae145eb81f",
	"pep.published.v1.json":          "462f8918933f0218af858c90db80ed18257cb2be8cb1b0c15377b241c1df7616",
	"presence.available.v1.json":     "e3b462163b37a25fef96c66c59a315c33e6ed16de0b391d6c44ca6cba3ffe9d8",
	"private.set.v1.json":            "ab34298ddd1b2c7522c7a2a99f0726e90a0053721bec37036f3f3b39457c294e",
	"vcard.set.v1.json":              "5a76b27483d63acd8eada2874f67abd44e340825aeb3fd7ff61638ce4fa7bf78",
	"archive.message_stored.v1.json": "fb08b0d1631e33b2af6f63989053ea3aad272f01b3e1e847a3ebc91005df1fb1",
	"presence.directed.v1.json":      "b48cf8aa6d98e3954e119cfb472b3c7b7caf5901e22c2da995d8aee100637cd4",
	"offline.queued.v1.json":         "c9e7cc3775eb179d075b66282394a31f774484754ca6bf77faf0afa07d825938",
}

// goldenName is "<type>.v<schema>.json".
func goldenName(typ string, schema int) string {
	return filepath.Join("testdata", "golden", fmt.Sprintf("%s.v%d.json", typ, schema))
}

// TestGoldenFiles decodes every golden file, old schema versions included,
// and checks the payload and the stored hash: a change to the codec, an
// upcaster or the canonical encoding that would break old logs fails here.
func TestGoldenFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	current := map[string]int{}
	for _, p := range events.Catalogue() {
		current[p.EventType()] = p.SchemaVersion()
	}
	seen := map[string]bool{}
	seenFiles := map[string]bool{}
	for _, f := range files {
		seenFiles[filepath.Base(f)] = true
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if want, ok := frozenGolden[filepath.Base(f)]; ok {
				if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != want {
					t.Errorf("%s changed (sha256 %x, pinned %s): an old version's golden file is what that version wrote; restore it", f, sum, want)
				}
			}
			var g golden
			if err := json.Unmarshal(raw, &g); err != nil {
				t.Fatal(err)
			}
			// The file is indented for review; stores keep Data compact, as
			// json.Marshal wrote it, and the hash covers those bytes.
			var compact bytes.Buffer
			if err := json.Compact(&compact, g.Envelope.Data); err != nil {
				t.Fatal(err)
			}
			g.Envelope.Data = compact.Bytes()
			if want := goldenName(g.Envelope.Type, g.Envelope.SchemaVersion); want != f {
				t.Fatalf("file holds %s schema %d; name it %s", g.Envelope.Type, g.Envelope.SchemaVersion, want)
			}
			if got := events.CanonicalHash(&g.Envelope); got != g.Envelope.Hash {
				t.Errorf("hash = %s, stored %s: the canonical encoding changed", got, g.Envelope.Hash)
			}
			p, err := events.Decode(&g.Envelope)
			if err != nil {
				t.Fatal(err)
			}
			if p.SchemaVersion() != current[g.Envelope.Type] {
				t.Errorf("decoded into schema %d, the catalogue is at %d", p.SchemaVersion(), current[g.Envelope.Type])
			}
			if g.Envelope.SchemaVersion < current[g.Envelope.Type] {
				// An old version: the file's payload is what that version
				// wrote, so it must equal the stored data; the upcast
				// result is in upcastGolden.
				if _, ok := frozenGolden[filepath.Base(f)]; !ok {
					t.Errorf("%s is an old schema version: pin its sha256 in frozenGolden", f)
				}
				if !jsonSame(t, g.Payload, g.Envelope.Data) {
					t.Errorf("payload %s differs from the stored data %s", g.Payload, g.Envelope.Data)
				}
				want, ok := upcastGolden[filepath.Base(f)]
				if !ok {
					t.Fatalf("%s is an old schema version: add what it decodes to now to upcastGolden", f)
				}
				if !reflect.DeepEqual(p, want) {
					t.Errorf("upcast %#v\nwant   %#v", p, want)
				}
				seen[g.Envelope.Type+"/"+fmt.Sprint(g.Envelope.SchemaVersion)] = true
				return
			}
			want := reflect.New(reflect.TypeOf(p))
			if err := json.Unmarshal(g.Payload, want.Interface()); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, want.Elem().Interface()) {
				t.Errorf("decoded %#v\nwant    %#v", p, want.Elem().Interface())
			}
			seen[g.Envelope.Type+"/"+fmt.Sprint(g.Envelope.SchemaVersion)] = true
		})
	}
	for name := range upcastGolden {
		if !seenFiles[name] {
			t.Errorf("upcastGolden names %s, which is not a golden file", name)
		}
	}
	for _, p := range events.Catalogue() {
		key := p.EventType() + "/" + fmt.Sprint(p.SchemaVersion())
		if !seen[key] {
			if *update {
				writeGolden(t, p)
				continue
			}
			t.Errorf("no golden file for %s schema %d (run go test ./events -run Golden -update)", p.EventType(), p.SchemaVersion())
		}
	}
}

// writeGolden records a sample of p's current schema. Samples are filled
// by sampleOf so that every field is non-zero and visible in review. It
// only ever creates a file: an existing one, above all an old version's,
// is left alone (and TestGoldenFiles only asks for the current versions).
func writeGolden(t *testing.T, zero events.Payload) {
	p := sampleOf(zero)
	e, err := events.New(p, events.Meta{
		Actor: "alice@localhost/laptop", SessionID: "s-7f3a", ClientAddr: "127.0.0.1:50122",
		StanzaID: "st-1", CausationID: "", CorrelationID: "c-1", Node: "node-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	e.ID = "0193a1b2-0000-7000-8000-" + fmt.Sprintf("%012d", len(p.EventType()))
	e.Recorded = time.Date(2026, 11, 20, 10, 2, 11, 123456789, time.UTC)
	e.Position = 42
	evs := []events.Envelope{e}
	events.Seal(events.AccountStream("alice@localhost"), 6, strings.Repeat("ab", 32), evs)
	out, err := json.MarshalIndent(golden{Envelope: evs[0], Payload: evs[0].Data}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	name := goldenName(p.EventType(), p.SchemaVersion())
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		t.Fatalf("-update: %s exists; golden files are never rewritten", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(append(out, '\n')); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// jsonSame reports whether a and b hold the same JSON value.
func jsonSame(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// sampleOf fills every exported field of zero's type with a sample value,
// or returns a hand-written sample where fields take enumerated values.
func sampleOf(zero events.Payload) events.Payload {
	switch zero.(type) {
	case events.SubscriptionChanged:
		return events.SubscriptionChanged{Contact: "bob@localhost", Cause: events.InSubscribe,
			Before: events.StateNone, After: events.StateNonePendingIn,
			Stanza: `<presence xmlns="jabber:client" type="subscribe" from="bob@localhost" to="alice@localhost" id="s1"><nick xmlns="http://jabber.org/protocol/nick">Bob ñ</nick></presence>`}
	case events.SubscriptionIgnored:
		return events.SubscriptionIgnored{Contact: "bob@localhost", Cause: events.InSubscribed, State: events.StateBoth}
	case events.SessionEnded:
		return events.SessionEnded{Resource: "sample-Resource-ñ", Cause: events.EndStreamError,
			Condition: "policy-violation", Detail: "stanza too large ñ"}
	case events.AuthFailed:
		return events.AuthFailed{Username: "sample-Username-ñ", Mechanism: "PLAIN", ClientAddr: "192.0.2.7:50122",
			Condition: "not-authorized", Throttle: events.ThrottleDelayed, DelayMillis: 4000}
	case events.VCardSet:
		// Schema 2 as xmppd writes it: the vCard sealed (seal.go).
		return events.VCardSet{Sealed: sampleSealed}
	case events.PrivateSet:
		return events.PrivateSet{Local: "storage", Namespace: "storage:bookmarks", Sealed: sampleSealed}
	case events.PEPPublished:
		return events.PEPPublished{Node: "urn:xmpp:avatar:metadata", ID: "sample-ID-ñ", Sealed: sampleSealed}
	case events.PresenceAvailable:
		return events.PresenceAvailable{Resource: "sample-Resource-ñ", Show: "away", Priority: 5, Sealed: sampleSealed}
	case events.DirectedPresence:
		// Schema 2 as xmppd writes it: the stanza sealed under the
		// sender's key.
		return events.DirectedPresence{Resource: "sample-Resource-ñ", To: "room@conference.localhost/alice", Available: true, Sealed: sampleSealed}
	case events.OfflineQueued:
		// Schema 2 as xmppd writes it: the stanza sealed under the
		// recipient's (the queue owner's) key.
		return events.OfflineQueued{Kind: "message", From: "bob@localhost/phone", Sealed: sampleSealed}
	case events.ArchiveMessageStored:
		// Schema 2 as xmppd writes it: the stanza sealed under the
		// archive owner's key.
		return events.ArchiveMessageStored{ID: "sample-ID-ñ", With: "bob@localhost/phone", Direction: events.ArchiveIn, Sealed: sampleSealed}
	case events.ArchivePrefsSet:
		return events.ArchivePrefsSet{Default: "roster", Always: []string{"bob@localhost"}, Never: []string{"eve@localhost/phone"}}
	case events.KeysExpired:
		return events.KeysExpired{Account: "alice@localhost", Periods: []string{"2019-10", "2019-11"}, Retention: "2555d",
			Before: time.Date(2019, 11, 30, 10, 2, 11, 0, time.UTC)}
	case events.AuthRefusalsSummarised:
		return events.AuthRefusalsSummarised{ClientAddr: "2001:db8:7:1::/64", Count: 1499,
			First: time.Date(2026, 11, 20, 10, 1, 2, 500000000, time.UTC), Last: time.Date(2026, 11, 20, 10, 2, 1, 999000000, time.UTC)}
	}
	v := reflect.New(reflect.TypeOf(zero)).Elem()
	fill(v, zero.EventType())
	return v.Interface().(events.Payload)
}

// sampleSealed is a sealed field as the log holds it: key id, nonce and
// ciphertext, and no Gone (which is never stored).
var sampleSealed = &events.Sealed{KeyID: events.KeyID{Account: "alice@localhost", Period: "2026-11"},
	Nonce: []byte("0123456789ab"), Box: []byte("sample ciphertext and its 16-byte tag")}

func fill(v reflect.Value, hint string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("sample-" + hint + "-ñ")
	case reflect.Int, reflect.Int64, reflect.Uint64:
		if v.CanInt() {
			v.SetInt(5)
		} else {
			v.SetUint(5)
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte{1, 2, 3, 4})
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), hint)
		v.Set(s)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fill(v.Field(i), v.Type().Field(i).Name)
		}
	}
}
