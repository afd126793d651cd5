package domain

// RetractionHonoured reports whether a XEP-0424 retraction sent by the
// bare JID retractor withdraws a one-to-one message whose sender was the
// bare JID sender: only when they are the same account (XEP-0424 section
// 5: "MUST only be processed when both the original message and the
// retraction request are received from the same bare-JID (in a
// one-on-one conversation)"). A retraction that is not honoured is still
// archived, as any message is; it marks nothing.
func RetractionHonoured(retractor, sender string) bool {
	return retractor != "" && retractor == sender
}
