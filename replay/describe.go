package replay

import "xmppd/events"

// inputWords says in plain words what an Appendix A input means for the
// account whose stream records it, toward contact (RFC 6121 3.1-3.3).
func inputWords(in events.SubscriptionInput, contact string) string {
	switch in {
	case events.OutSubscribe:
		return "asked to see " + contact + "'s presence (subscribe)"
	case events.OutSubscribed:
		return "approved " + contact + "'s subscription request (subscribed)"
	case events.OutUnsubscribe:
		return "stopped seeing " + contact + "'s presence (unsubscribe)"
	case events.OutUnsubscribed:
		return "refused or cancelled " + contact + "'s subscription (unsubscribed)"
	case events.InSubscribe:
		return contact + " asked to see this account's presence (subscribe)"
	case events.InSubscribed:
		return contact + " approved this account's request (subscribed)"
	case events.InUnsubscribe:
		return contact + " stopped seeing this account's presence (unsubscribe)"
	case events.InUnsubscribed:
		return contact + " refused or cancelled this account's subscription (unsubscribed)"
	}
	return string(in) + " " + contact
}
