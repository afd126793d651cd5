package replay_test

import (
	"context"
	"testing"
	"time"

	"xmppd/events"
	"xmppd/projections/projtest"
	"xmppd/replay"
)

// replay --at shows the vCard an account had at a past instant; audit
// tells vcard.set and private.set as account events.
func TestReplayShowsVCardAtAPastInstant(t *testing.T) {
	stream := events.AccountStream("alice@localhost")
	var log []events.Envelope
	for i, p := range []events.Payload{
		events.AccountCreated{JID: "alice@localhost"},
		events.VCardSet{XML: `<vCard xmlns="vcard-temp"><FN>Old</FN></vCard>`},
		events.PrivateSet{Local: "prefs", Namespace: "example:prefs", XML: `<prefs xmlns="example:prefs"/>`},
		events.VCardSet{XML: `<vCard xmlns="vcard-temp"><FN>New</FN></vCard>`},
	} {
		e, err := events.New(p, events.Meta{Actor: "alice@localhost/phone", Node: "n"})
		if err != nil {
			t.Fatal(err)
		}
		e.Stream, e.Recorded = stream, projtest.Start().Add(time.Duration(i)*time.Second)
		log = append(log, e)
	}
	store := tempStore(t)
	commit(t, store, log, 100)
	ctx := context.Background()
	for cut, want := range map[uint64]string{
		1: "",
		2: `<vCard xmlns="vcard-temp"><FN>Old</FN></vCard>`,
		4: `<vCard xmlns="vcard-temp"><FN>New</FN></vCard>`,
	} {
		st, ok, err := replay.At(ctx, store, "alice@localhost", replay.Cutoff{Position: cut}, nil)
		if err != nil || !ok {
			t.Fatalf("at %d: %v %v", cut, ok, err)
		}
		if st.VCard != want {
			t.Errorf("at %d: vCard %q, want %q", cut, st.VCard, want)
		}
	}
	var texts []string
	if err := replay.Audit(ctx, store, "alice@localhost", replay.Filter{Categories: []string{"account"}}, nil, func(e replay.Entry) error {
		texts = append(texts, e.Text)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"account created", "vCard set (46 bytes)", "private XML stored: <prefs xmlns='example:prefs'/> (30 bytes)", "vCard set (46 bytes)"}
	if len(texts) != len(want) {
		t.Fatalf("audit: %q", texts)
	}
	for i := range want {
		if texts[i] != want[i] {
			t.Errorf("audit %d: %q, want %q", i, texts[i], want[i])
		}
	}
}
