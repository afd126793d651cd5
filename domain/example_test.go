package domain_test

import (
	"fmt"

	"xmppd/domain"
	"xmppd/events"
)

func ExampleSubscription() {
	// RFC 6121 A.3.3: the contact approves the user's pending request.
	t := domain.Subscription(events.StateNonePendingOut, events.InSubscribed)
	fmt.Printf("%s -> %s, deliver=%v push=%v\n", t.Before, t.After, t.Deliver, t.Push)
	// Output: None + Pending Out -> To, deliver=true push=true
}
