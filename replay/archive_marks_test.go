package replay_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"xmppd/events"
	"xmppd/projections/projtest"
	"xmppd/replay"
)

// audit tells, in category archive, a XEP-0424 retraction (who retracted
// which archived message, and when) and XEP-0441 preferences; the
// retracted message's own entry is still there, with its size.
func TestAuditTellsRetractionsAndPreferences(t *testing.T) {
	stream := events.ArchiveStream("bob@localhost")
	var log []events.Envelope
	for i, p := range []events.Payload{
		events.ArchivePrefsSet{Default: "roster", Never: []string{"eve@localhost"}},
		events.ArchiveMessageStored{ID: "A1", With: "alice@localhost/phone", Direction: events.ArchiveIn, Content: "<message><body>oops</body></message>"},
		events.ArchiveMessageStored{ID: "A2", With: "alice@localhost/phone", Direction: events.ArchiveIn, Content: "<message><retract/></message>"},
		events.ArchiveMessageRetracted{ID: "A1", By: "alice@localhost", Retraction: "A2", RetractionStanzaID: "r1"},
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
	var got []replay.Entry
	if err := replay.Audit(context.Background(), store, "bob@localhost", replay.Filter{Categories: []string{"archive"}}, nil, func(e replay.Entry) error {
		got = append(got, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("audit: %+v", got)
	}
	if !strings.Contains(got[0].Text, "archive preferences set (XEP-0441): default roster") || !strings.Contains(got[0].Text, "eve@localhost") {
		t.Errorf("prefs: %q", got[0].Text)
	}
	if !strings.Contains(got[1].Text, "message from alice@localhost/phone archived (36 bytes") {
		t.Errorf("the retracted message's entry: %q", got[1].Text)
	}
	r := got[3]
	if !strings.Contains(r.Text, "message A1 retracted by alice@localhost") || r.Contact != "alice@localhost" ||
		!r.Time.Equal(projtest.Start().Add(3*time.Second)) || r.Category != "archive" {
		t.Errorf("retraction: %+v", r)
	}
}
