package main_test

import (
	"strings"
	"testing"
	"time"
)

// TestSoakRedeliveredRule pins down which duplicates the soak accepts:
// only a window of stored messages sent again because the session it was
// first sent to ended before it answered for it (im
// clientack.go; without XEP-0198 the server cannot know what that session
// read). Every other duplicate must stay a failure.
func TestSoakRedeliveredRule(t *testing.T) {
	t0 := time.Now()
	const r = 3 // rcp03-offline
	key := func(res string) string { return soakKey(r, res) }
	sessions := func(firstEnd string) map[string]*soakSession {
		return map[string]*soakSession{
			key("online-0"): {recipient: r, resource: "online-0", bound: t0, end: firstEnd},
			key("final"):    {recipient: r, resource: "final", bound: t0.Add(time.Second), end: soakEndFin},
		}
	}
	offline := func(res ...string) []soakCopy {
		var cs []soakCopy
		for _, s := range res {
			cs = append(cs, soakCopy{session: key(s), offline: true})
		}
		return cs
	}
	cases := []struct {
		name      string
		firstEnd  string
		msg       soakMsg
		queued    []uint64
		delivered map[string]uint64
		want      string // "" for allowed, else a word of the reason
	}{
		{"window sent again after the session ended unanswered", soakEndClosed,
			soakMsg{id: "m", to: r, offline: 2, copies: offline("online-0", "final")}, []uint64{7}, nil, ""},
		{"the first session read to the end", soakEndFin,
			soakMsg{id: "m", to: r, offline: 2, copies: offline("online-0", "final")}, []uint64{7}, nil, "read to the end"},
		{"the log records it delivered to the first session", soakEndClosed,
			soakMsg{id: "m", to: r, offline: 2, copies: offline("online-0", "final")}, []uint64{7},
			map[string]uint64{key("online-0"): 7}, "records it delivered"},
		{"a window before it was recorded delivered does not cover it", soakEndClosed,
			soakMsg{id: "m", to: r, offline: 2, copies: offline("online-0", "final")}, []uint64{7},
			map[string]uint64{key("online-0"): 6}, ""},
		{"a live copy", soakEndClosed,
			soakMsg{id: "m", to: r, live: 1, offline: 1, copies: []soakCopy{{key("online-0"), false}, {key("final"), true}}}, []uint64{7}, nil, "offline storage"},
		{"bounced and delivered", soakEndClosed,
			soakMsg{id: "m", to: r, bounced: 1, offline: 1, copies: offline("final")}, []uint64{7}, nil, "offline storage"},
		{"twice to the same session", soakEndClosed,
			soakMsg{id: "m", to: r, offline: 2, copies: offline("online-0", "online-0")}, []uint64{7}, nil, "not a later session"},
		{"never stored offline", soakEndClosed,
			soakMsg{id: "m", to: r, offline: 2, copies: offline("online-0", "final")}, nil, nil, "no offline.queued"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			led := &soakLedger{sessions: sessions(c.firstEnd)}
			olog := soakOfflineLog{queuedAt: map[string][]uint64{}, deliveredTo: map[string]uint64{}}
			if c.queued != nil {
				olog.queuedAt["m"] = c.queued
			}
			for k, v := range c.delivered {
				olog.deliveredTo[k] = v
			}
			ended, why := soakRedelivered(led, olog, &c.msg)
			switch {
			case c.want == "" && why != "":
				t.Fatalf("refused: %s", why)
			case c.want == "" && (len(ended) != 1 || ended[0] != key("online-0")):
				t.Fatalf("charged to %v, want the first session", ended)
			case c.want != "" && !strings.Contains(why, c.want):
				t.Fatalf("got %q, want a refusal saying %q", why, c.want)
			}
		})
	}
}
