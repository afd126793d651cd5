package events

import (
	"encoding/json"
	"reflect"
	"testing"
)

// fastSamples are payloads of the types with hand-written decoders, as
// the server writes them: omitted optional fields, non-ASCII text, and
// characters encoding/json escapes (quotes, backslashes, control
// characters), which must send decoding to the general decoder.
func fastSamples() []Payload {
	return []Payload{
		SubscriptionChanged{Contact: "bob@example.net", Cause: InSubscribed, Before: StateNonePendingOut, After: StateTo},
		SubscriptionChanged{Contact: "bob@example.net", Cause: InSubscribe, Before: StateTo, After: StateToPendingIn,
			Stanza: "<presence type='subscribe' from='bob@example.net'><status>hi \"you\"</status></presence>"},
		SubscriptionChanged{Contact: "zoë@exämple.net", Cause: "some_future_input", Before: "Unheard", After: StateBoth},
		RosterItemSet{Contact: "carol@example.net"},
		RosterItemSet{Contact: "carol@example.net", Name: "Carol ❤ 中文", Groups: []string{"Friends", "Ünïcode"}},
		RosterItemSet{Contact: "carol@example.net", Name: "tab\there", Groups: []string{"a\\b"}},
		RosterItemSet{Contact: "carol@example.net", Groups: []string{""}},
		PresenceAvailable{Resource: "phone", Priority: -128, Stanza: "<presence/>"},
		PresenceAvailable{Resource: "desk", Show: "dnd", Status: "en réunion\u2028", Priority: 127, Stanza: "<presence><show>dnd</show></presence>"},
		PresenceAvailable{Resource: "r", Priority: 0, Stanza: "<presence>\n</presence>"},
		PresenceAvailable{Resource: "r", Show: "away", Priority: 1, Sealed: &Sealed{KeyID: KeyID{Account: "a@localhost", Period: "2026-12"}, Nonce: []byte("0123456789ab"), Box: []byte{0, 1, 2, 0xff}}},
	}
}

// checkAgree decodes data with the hand-written decoder registered for
// p's type and with encoding/json: when the first takes it, both must
// give the same payload. It reports whether the hand-written one took it.
func checkAgree(t *testing.T, p Payload, data []byte) bool {
	t.Helper()
	fast, ok := fastDecoders[p.EventType()]
	if !ok {
		t.Fatalf("no fast decoder for %s", p.EventType())
	}
	got, fastOK := fast(data)
	std := reflect.New(reflect.TypeOf(p))
	stdErr := json.Unmarshal(data, std.Interface())
	if fastOK && (stdErr != nil || !reflect.DeepEqual(got, std.Elem().Interface())) {
		t.Fatalf("%s: the fast decoder took %q as %#v; encoding/json says %#v, %v", p.EventType(), data, got, std.Elem().Interface(), stdErr)
	}
	return fastOK
}

// TestFastDecodersTakeWhatNewWrites: every payload New encodes without an
// escape is decoded by hand, to what encoding/json decodes; the others
// are left to the general decoder.
func TestFastDecodersTakeWhatNewWrites(t *testing.T) {
	for _, p := range fastSamples() {
		e, err := New(p, Meta{})
		if err != nil {
			t.Fatal(err)
		}
		escaped := json.Valid(e.Data) && containsByte(e.Data, '\\')
		if got := checkAgree(t, p, e.Data); got == escaped {
			t.Errorf("%s %s: fast decoder took it: %v, want %v", p.EventType(), e.Data, got, !escaped)
		}
		// And through the codec, whichever path it takes.
		got, err := Decode(&e)
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("Decode(%s) = %#v, %v; want %#v", e.Data, got, err, p)
		}
	}
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// TestFastDecodersLeaveTheRestToGoJSON: JSON that New never writes but
// that is valid, or nearly so, is refused by the hand-written decoders
// (and Decode then gives encoding/json's answer).
func TestFastDecodersLeaveTheRestToGoJSON(t *testing.T) {
	for _, tc := range []struct {
		p    Payload
		data string
	}{
		{SubscriptionChanged{}, `{"cause":"inbound_subscribe","contact":"b@x","before":"None","after":"None + Pending In"}`},
		{SubscriptionChanged{}, `{"contact":"b@x","cause":"inbound_subscribe","before":"None","after":"None + Pending In","contact":"c@x"}`},
		{SubscriptionChanged{}, `{"contact":"b@x", "cause":"inbound_subscribe","before":"None","after":"None"}`},
		{SubscriptionChanged{}, `{"contact":null,"cause":"inbound_subscribe","before":"None","after":"None"}`},
		{SubscriptionChanged{}, `{"contact":"b\u0040x","cause":"inbound_subscribe","before":"None","after":"None"}`},
		{SubscriptionChanged{}, `{"contact":"b@x","cause":"inbound_subscribe","before":"None","after":"None","extra":1}`},
		{SubscriptionChanged{}, "{\"contact\":\"b\xff@x\",\"cause\":\"inbound_subscribe\",\"before\":\"None\",\"after\":\"None\"}"},
		{SubscriptionChanged{}, "{\"contact\":\"b\x01@x\",\"cause\":\"inbound_subscribe\",\"before\":\"None\",\"after\":\"None\"}"},
		{SubscriptionChanged{}, `{"contact":"b@x","cause":"inbound_subscribe","before":"None","after":"None"} `},
		{SubscriptionChanged{}, `{"contact":"b@x","cause":"inbound_subscribe","before":"None"}`},
		{RosterItemSet{}, `{"contact":"c@x","groups":[]}`},
		{RosterItemSet{}, `{"contact":"c@x","groups":null}`},
		{RosterItemSet{}, `{"contact":"c@x","groups":["a",]}`},
		{RosterItemSet{}, `{"contact":"c@x","groups":["a" ,"b"]}`},
		{RosterItemSet{}, `{"contact":"c@x","name":"Ca\"rol"}`},
		{RosterItemSet{}, `{"contact":"c@x","groups":["a"],"name":"n"}`},
		{PresenceAvailable{}, `{"resource":"r","priority":07,"stanza":"<presence/>"}`},
		{PresenceAvailable{}, `{"resource":"r","priority":1.0,"stanza":"<presence/>"}`},
		{PresenceAvailable{}, `{"resource":"r","priority":1e2,"stanza":"<presence/>"}`},
		{PresenceAvailable{}, `{"resource":"r","priority":-,"stanza":"<presence/>"}`},
		{PresenceAvailable{}, `{"resource":"r","priority":99999999999999999999,"stanza":"<presence/>"}`},
		{PresenceAvailable{}, `{"resource":"r","stanza":"<presence/>"}`},
		{PresenceAvailable{}, `{"resource":"r","priority":1,"stanza":"<presence/>"`},
	} {
		if checkAgree(t, tc.p, []byte(tc.data)) {
			t.Errorf("%s: the fast decoder took %s", tc.p.EventType(), tc.data)
		}
	}
}

// FuzzFastDecodersAgree: whatever the bytes, a hand-written decoder
// either refuses them or decodes exactly what encoding/json decodes.
func FuzzFastDecodersAgree(f *testing.F) {
	for i, p := range fastSamples() {
		e, err := New(p, Meta{})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), []byte(e.Data))
	}
	f.Add(uint8(0), []byte(`{"contact":"a","cause":"x","before":"None","after":"-0"}`))
	f.Add(uint8(7), []byte(`{"resource":"r","priority":-0,"stanza":""}`))
	kinds := []Payload{SubscriptionChanged{}, RosterItemSet{}, PresenceAvailable{}}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		checkAgree(t, kinds[int(kind)%len(kinds)], data)
	})
}
