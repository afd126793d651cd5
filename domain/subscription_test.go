package domain_test

import (
	"testing"

	"xmppd/domain"
	"xmppd/events"
)

// Shorthands for the nine states of RFC 6121 A.1.
const (
	none    = events.StateNone
	noneOut = events.StateNonePendingOut
	noneIn  = events.StateNonePendingIn
	noneOI  = events.StateNonePendingOutIn
	to      = events.StateTo
	toIn    = events.StateToPendingIn
	from    = events.StateFrom
	fromOut = events.StateFromPendingOut
	both    = events.StateBoth
)

// TestSubscriptionAppendixA checks every cell of RFC 6121 Appendix A,
// tables 2 to 9 (9 states x 8 inputs), copied from the appendix with its
// notes. "pass" is ROUTE? for outbound tables and DELIVER? for inbound
// ones, true only for MUST; push is whether the visible roster item
// ('subscription' and 'ask') changes.
func TestSubscriptionAppendixA(t *testing.T) {
	type row struct {
		rule  string
		state events.SubscriptionState
		in    events.SubscriptionInput
		pass  bool
		after events.SubscriptionState
		push  bool
		note  string // "preapprove", "cancel-preapproval", "subscribed", "unsubscribed" (auto-reply)
	}
	rows := []row{
		// A.2.1 Table 2: outbound subscribe; ROUTE MUST everywhere.
		{"A.2.1 None + outbound subscribe -> None + Pending Out [1]", none, events.OutSubscribe, true, noneOut, true, ""},
		{"A.2.1 None + Pending Out + outbound subscribe -> no state change", noneOut, events.OutSubscribe, true, noneOut, false, ""},
		{"A.2.1 None + Pending In + outbound subscribe -> None + Pending Out+In [1]", noneIn, events.OutSubscribe, true, noneOI, true, ""},
		{"A.2.1 None + Pending Out+In + outbound subscribe -> no state change", noneOI, events.OutSubscribe, true, noneOI, false, ""},
		{"A.2.1 To + outbound subscribe -> no state change", to, events.OutSubscribe, true, to, false, ""},
		{"A.2.1 To + Pending In + outbound subscribe -> no state change", toIn, events.OutSubscribe, true, toIn, false, ""},
		{"A.2.1 From + outbound subscribe -> From + Pending Out [1]", from, events.OutSubscribe, true, fromOut, true, ""},
		{"A.2.1 From + Pending Out + outbound subscribe -> no state change", fromOut, events.OutSubscribe, true, fromOut, false, ""},
		{"A.2.1 Both + outbound subscribe -> no state change", both, events.OutSubscribe, true, both, false, ""},

		// A.2.2 Table 3: outbound unsubscribe; ROUTE MUST everywhere.
		{"A.2.2 None + outbound unsubscribe -> no state change", none, events.OutUnsubscribe, true, none, false, ""},
		{"A.2.2 None + Pending Out + outbound unsubscribe -> None", noneOut, events.OutUnsubscribe, true, none, true, ""},
		{"A.2.2 None + Pending In + outbound unsubscribe -> no state change", noneIn, events.OutUnsubscribe, true, noneIn, false, ""},
		{"A.2.2 None + Pending Out+In + outbound unsubscribe -> None + Pending In", noneOI, events.OutUnsubscribe, true, noneIn, true, ""},
		{"A.2.2 To + outbound unsubscribe -> None", to, events.OutUnsubscribe, true, none, true, ""},
		{"A.2.2 To + Pending In + outbound unsubscribe -> None + Pending In", toIn, events.OutUnsubscribe, true, noneIn, true, ""},
		{"A.2.2 From + outbound unsubscribe -> no state change", from, events.OutUnsubscribe, true, from, false, ""},
		{"A.2.2 From + Pending Out + outbound unsubscribe -> From", fromOut, events.OutUnsubscribe, true, from, true, ""},
		{"A.2.2 Both + outbound unsubscribe -> From", both, events.OutUnsubscribe, true, from, true, ""},

		// A.2.3 Table 4: outbound subscribed.
		{"A.2.3 None + outbound subscribed -> M.N. route, pre-approval [1]", none, events.OutSubscribed, false, none, false, "preapprove"},
		{"A.2.3 None + Pending Out + outbound subscribed -> M.N. route, pre-approval [1]", noneOut, events.OutSubscribed, false, noneOut, false, "preapprove"},
		{"A.2.3 None + Pending In + outbound subscribed -> MUST route, From", noneIn, events.OutSubscribed, true, from, true, ""},
		{"A.2.3 None + Pending Out+In + outbound subscribed -> MUST route, From + Pending Out", noneOI, events.OutSubscribed, true, fromOut, true, ""},
		{"A.2.3 To + outbound subscribed -> M.N. route, pre-approval [1]", to, events.OutSubscribed, false, to, false, "preapprove"},
		{"A.2.3 To + Pending In + outbound subscribed -> MUST route, Both", toIn, events.OutSubscribed, true, both, true, ""},
		{"A.2.3 From + outbound subscribed -> M.N. route, no state change", from, events.OutSubscribed, false, from, false, ""},
		{"A.2.3 From + Pending Out + outbound subscribed -> M.N. route, no state change", fromOut, events.OutSubscribed, false, fromOut, false, ""},
		{"A.2.3 Both + outbound subscribed -> M.N. route, no state change", both, events.OutSubscribed, false, both, false, ""},

		// A.2.4 Table 5: outbound unsubscribed.
		{"A.2.4 None + outbound unsubscribed -> S.N. route, no state change [1]", none, events.OutUnsubscribed, false, none, false, "cancel-preapproval"},
		{"A.2.4 None + Pending Out + outbound unsubscribed -> S.N. route, no state change [1]", noneOut, events.OutUnsubscribed, false, noneOut, false, "cancel-preapproval"},
		{"A.2.4 None + Pending In + outbound unsubscribed -> MUST route, None", noneIn, events.OutUnsubscribed, true, none, false, ""},
		{"A.2.4 None + Pending Out+In + outbound unsubscribed -> MUST route, None + Pending Out", noneOI, events.OutUnsubscribed, true, noneOut, false, ""},
		{"A.2.4 To + outbound unsubscribed -> S.N. route, no state change [1]", to, events.OutUnsubscribed, false, to, false, "cancel-preapproval"},
		{"A.2.4 To + Pending In + outbound unsubscribed -> MUST route, To", toIn, events.OutUnsubscribed, true, to, false, ""},
		{"A.2.4 From + outbound unsubscribed -> MUST route, None", from, events.OutUnsubscribed, true, none, true, ""},
		{"A.2.4 From + Pending Out + outbound unsubscribed -> MUST route, None + Pending Out", fromOut, events.OutUnsubscribed, true, noneOut, true, ""},
		{"A.2.4 Both + outbound unsubscribed -> MUST route, To", both, events.OutUnsubscribed, true, to, true, ""},

		// A.3.1 Table 6: inbound subscribe.
		{"A.3.1 None + inbound subscribe -> MUST deliver [1], None + Pending In", none, events.InSubscribe, true, noneIn, false, ""},
		{"A.3.1 None + Pending Out + inbound subscribe -> MUST deliver, None + Pending Out+In", noneOut, events.InSubscribe, true, noneOI, false, ""},
		{"A.3.1 None + Pending In + inbound subscribe -> S.N. deliver, no state change", noneIn, events.InSubscribe, false, noneIn, false, ""},
		{"A.3.1 None + Pending Out+In + inbound subscribe -> S.N. deliver, no state change", noneOI, events.InSubscribe, false, noneOI, false, ""},
		{"A.3.1 To + inbound subscribe -> MUST deliver, To + Pending In", to, events.InSubscribe, true, toIn, false, ""},
		{"A.3.1 To + Pending In + inbound subscribe -> S.N. deliver, no state change", toIn, events.InSubscribe, false, toIn, false, ""},
		{"A.3.1 From + inbound subscribe -> S.N. deliver [2] auto-reply subscribed, no state change", from, events.InSubscribe, false, from, false, "subscribed"},
		{"A.3.1 From + Pending Out + inbound subscribe -> S.N. deliver [2] auto-reply subscribed, no state change", fromOut, events.InSubscribe, false, fromOut, false, "subscribed"},
		{"A.3.1 Both + inbound subscribe -> S.N. deliver [2] auto-reply subscribed, no state change", both, events.InSubscribe, false, both, false, "subscribed"},

		// A.3.2 Table 7: inbound unsubscribe; every MUST row auto-replies unsubscribed [1].
		{"A.3.2 None + inbound unsubscribe -> S.N. deliver, no state change", none, events.InUnsubscribe, false, none, false, ""},
		{"A.3.2 None + Pending Out + inbound unsubscribe -> S.N. deliver, no state change", noneOut, events.InUnsubscribe, false, noneOut, false, ""},
		{"A.3.2 None + Pending In + inbound unsubscribe -> MUST deliver [1], None", noneIn, events.InUnsubscribe, true, none, false, "unsubscribed"},
		{"A.3.2 None + Pending Out+In + inbound unsubscribe -> MUST deliver [1], None + Pending Out", noneOI, events.InUnsubscribe, true, noneOut, false, "unsubscribed"},
		{"A.3.2 To + inbound unsubscribe -> S.N. deliver, no state change", to, events.InUnsubscribe, false, to, false, ""},
		{"A.3.2 To + Pending In + inbound unsubscribe -> MUST deliver [1], To", toIn, events.InUnsubscribe, true, to, false, "unsubscribed"},
		{"A.3.2 From + inbound unsubscribe -> MUST deliver [1], None", from, events.InUnsubscribe, true, none, true, "unsubscribed"},
		{"A.3.2 From + Pending Out + inbound unsubscribe -> MUST deliver [1], None + Pending Out", fromOut, events.InUnsubscribe, true, noneOut, true, "unsubscribed"},
		{"A.3.2 Both + inbound unsubscribe -> MUST deliver [1], To", both, events.InUnsubscribe, true, to, true, "unsubscribed"},

		// A.3.3 Table 8: inbound subscribed.
		{"A.3.3 None + inbound subscribed -> S.N. deliver, no state change", none, events.InSubscribed, false, none, false, ""},
		{"A.3.3 None + Pending Out + inbound subscribed -> MUST deliver, To", noneOut, events.InSubscribed, true, to, true, ""},
		{"A.3.3 None + Pending In + inbound subscribed -> S.N. deliver, no state change", noneIn, events.InSubscribed, false, noneIn, false, ""},
		{"A.3.3 None + Pending Out+In + inbound subscribed -> MUST deliver, To + Pending In", noneOI, events.InSubscribed, true, toIn, true, ""},
		{"A.3.3 To + inbound subscribed -> S.N. deliver, no state change", to, events.InSubscribed, false, to, false, ""},
		{"A.3.3 To + Pending In + inbound subscribed -> S.N. deliver, no state change", toIn, events.InSubscribed, false, toIn, false, ""},
		{"A.3.3 From + inbound subscribed -> S.N. deliver, no state change", from, events.InSubscribed, false, from, false, ""},
		{"A.3.3 From + Pending Out + inbound subscribed -> MUST deliver, Both", fromOut, events.InSubscribed, true, both, true, ""},
		{"A.3.3 Both + inbound subscribed -> S.N. deliver, no state change", both, events.InSubscribed, false, both, false, ""},

		// A.3.4 Table 9: inbound unsubscribed.
		{"A.3.4 None + inbound unsubscribed -> S.N. deliver, no state change", none, events.InUnsubscribed, false, none, false, ""},
		{"A.3.4 None + Pending Out + inbound unsubscribed -> MUST deliver, None", noneOut, events.InUnsubscribed, true, none, true, ""},
		{"A.3.4 None + Pending In + inbound unsubscribed -> S.N. deliver, no state change", noneIn, events.InUnsubscribed, false, noneIn, false, ""},
		{"A.3.4 None + Pending Out+In + inbound unsubscribed -> MUST deliver, None + Pending In", noneOI, events.InUnsubscribed, true, noneIn, true, ""},
		{"A.3.4 To + inbound unsubscribed -> MUST deliver, None", to, events.InUnsubscribed, true, none, true, ""},
		{"A.3.4 To + Pending In + inbound unsubscribed -> MUST deliver, None + Pending In", toIn, events.InUnsubscribed, true, noneIn, true, ""},
		{"A.3.4 From + inbound unsubscribed -> S.N. deliver, no state change", from, events.InUnsubscribed, false, from, false, ""},
		{"A.3.4 From + Pending Out + inbound unsubscribed -> MUST deliver, From", fromOut, events.InUnsubscribed, true, from, true, ""},
		{"A.3.4 Both + inbound unsubscribed -> MUST deliver, From", both, events.InUnsubscribed, true, from, true, ""},
	}
	if len(rows) != 72 {
		t.Fatalf("table has %d rows, Appendix A has 72 cells", len(rows))
	}
	seen := map[[2]string]bool{}
	for _, r := range rows {
		t.Run(r.rule, func(t *testing.T) {
			key := [2]string{string(r.state), string(r.in)}
			if seen[key] {
				t.Fatalf("cell %v listed twice", key)
			}
			seen[key] = true
			got := domain.Subscription(r.state, r.in)
			if got.Before != r.state || got.After != r.after {
				t.Errorf("state %q -> %q, want %q -> %q", got.Before, got.After, r.state, r.after)
			}
			if got.Changed != (r.after != r.state) {
				t.Errorf("Changed = %v, want %v", got.Changed, r.after != r.state)
			}
			outbound := domain.IsOutbound(r.in)
			if outbound {
				if got.Route != r.pass || got.Deliver {
					t.Errorf("Route, Deliver = %v, %v; want %v, false", got.Route, got.Deliver, r.pass)
				}
			} else if got.Deliver != r.pass || got.Route {
				t.Errorf("Deliver, Route = %v, %v; want %v, false", got.Deliver, got.Route, r.pass)
			}
			if got.Push != r.push {
				t.Errorf("Push = %v, want %v", got.Push, r.push)
			}
			if got.Preapprove != (r.note == "preapprove") {
				t.Errorf("Preapprove = %v", got.Preapprove)
			}
			if got.MayCancelPreapproval != (r.note == "cancel-preapproval") {
				t.Errorf("MayCancelPreapproval = %v", got.MayCancelPreapproval)
			}
			wantReply := ""
			if r.note == "subscribed" || r.note == "unsubscribed" {
				wantReply = r.note
			}
			if got.AutoReply != wantReply {
				t.Errorf("AutoReply = %q, want %q", got.AutoReply, wantReply)
			}
		})
	}
}

// TestSubscriptionUnknownStateIsNone checks A.1's implementation note: an
// entity not in the roster is in state "None".
func TestSubscriptionUnknownStateIsNone(t *testing.T) {
	got := domain.Subscription("", events.InSubscribe)
	if got.Before != none || got.After != noneIn {
		t.Fatalf("got %q -> %q, want None -> None + Pending In", got.Before, got.After)
	}
}

// TestSubscriptionAttributes checks the roster rendering of each state
// given in A.1 (subscription attribute and ask flag).
func TestSubscriptionAttributes(t *testing.T) {
	rows := []struct {
		rule  string
		state events.SubscriptionState
		sub   string
		ask   bool
	}{
		{"A.1 #1 None: subscription='none'", none, "none", false},
		{"A.1 #2 None + Pending Out: 'none' and ask='subscribe'", noneOut, "none", true},
		{"A.1 #3 None + Pending In: 'none'", noneIn, "none", false},
		{"A.1 #4 None + Pending Out+In: 'none' and ask='subscribe'", noneOI, "none", true},
		{"A.1 #5 To: 'to'", to, "to", false},
		{"A.1 #6 To + Pending In: 'to'", toIn, "to", false},
		{"A.1 #7 From: 'from'", from, "from", false},
		{"A.1 #8 From + Pending Out: 'from' and ask='subscribe'", fromOut, "from", true},
		{"A.1 #9 Both: 'both'", both, "both", false},
	}
	for _, r := range rows {
		if got := domain.SubscriptionAttr(r.state); got != r.sub {
			t.Errorf("%s: subscription=%q", r.rule, got)
		}
		if got := domain.Ask(r.state); got != r.ask {
			t.Errorf("%s: ask=%v", r.rule, got)
		}
	}
}
