package im

import (
	"context"
	"fmt"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
)

// A subscription stanza between two local accounts is recorded in two
// steps on two actors: the sender's side in the sender's stream, then the
// contact's side in the contact's stream (DESIGN.md, "The flow of one
// stanza"). A process killed between the two leaves the contact without
// its side. resumeDeliveries is the process manager that recovers it: at
// the start after an unclean stop it reads the log from the dead
// process's server.started (its checkpoint: a clean stop drains every
// delivery first) and delivers again each routed outbound subscription
// stanza whose inbound side the contact's stream does not hold, in log
// order. The two sides are matched by correlation ID and Appendix A input
// (the contact's side carries the sender's correlation ID); only stanzas
// after the last delivered one of the same pair are resent, so a late
// redelivery never undoes a newer change.
func (s *Core) resumeDeliveries(ctx context.Context, from uint64) error {
	type pair struct{ from, to string }
	type key struct {
		pair
		corr string
		in   events.SubscriptionInput
	}
	type routed struct {
		key
		env events.Envelope
	}
	var outs []routed
	arrived := map[key]int{}
	for e, err := range s.cfg.Store.ReadAll(ctx, from) {
		if err != nil {
			return fmt.Errorf("im: resume deliveries: %w", err)
		}
		kind, bare, _ := events.SplitStream(e.Stream)
		if kind != "account" || (e.Type != events.TypeSubscriptionChanged && e.Type != events.TypeSubscriptionIgnored) {
			continue
		}
		p, err := events.Decode(&e)
		if err != nil {
			return fmt.Errorf("im: resume deliveries: %w", err)
		}
		contact, cause, wasRouted := routedInput(p)
		switch {
		case domain.IsOutbound(cause) && wasRouted && s.local(contact):
			outs = append(outs, routed{key{pair{bare, contact}, e.CorrelationID, mirror(cause)}, e})
		case !domain.IsOutbound(cause):
			arrived[key{pair{contact, bare}, e.CorrelationID, cause}]++
		}
	}
	delivered := make([]bool, len(outs))
	last := map[pair]int{}
	for i, o := range outs {
		if arrived[o.key] > 0 {
			arrived[o.key]--
			delivered[i], last[o.pair] = true, i
		}
	}
	for i, o := range outs {
		if delivered[i] {
			continue
		}
		if j, ok := last[o.pair]; ok && j > i {
			continue // superseded by a later stanza that did arrive
		}
		meta := events.Meta{Actor: o.env.Actor, SessionID: o.env.SessionID, ClientAddr: o.env.ClientAddr, StanzaID: o.env.StanzaID,
			CausationID: o.env.ID, CorrelationID: o.env.CorrelationID, Node: s.cfg.Node}
		el := presenceEl("", s.mustJID(o.from), s.mustJID(o.to), subscriptionType(o.in), o.env.StanzaID)
		err := s.actors.do(ctx, o.to, func(ctx context.Context) error {
			s.subscriptionIn(ctx, o.to, el, meta)
			return nil
		})
		if err != nil {
			return err
		}
		s.log.Info("im: delivered again after an unclean stop", "from", o.from, "to", o.to, "type", subscriptionType(o.in))
	}
	return nil
}

// routedInput returns a subscription event's contact and input, and
// whether an outbound input was routed to the contact: every change was
// (Appendix A.2), and of the inputs that change nothing only subscribe and
// unsubscribe, which A.2.1 and A.2.2 always route.
func routedInput(p events.Payload) (contact string, in events.SubscriptionInput, routed bool) {
	switch e := p.(type) {
	case events.SubscriptionChanged:
		return e.Contact, e.Cause, true
	case events.SubscriptionIgnored:
		return e.Contact, e.Cause, e.Cause == events.OutSubscribe || e.Cause == events.OutUnsubscribe
	}
	return "", "", false
}

// mirror is the input the contact's side records for an outbound input.
func mirror(out events.SubscriptionInput) events.SubscriptionInput {
	switch out {
	case events.OutSubscribe:
		return events.InSubscribe
	case events.OutSubscribed:
		return events.InSubscribed
	case events.OutUnsubscribe:
		return events.InUnsubscribe
	case events.OutUnsubscribed:
		return events.InUnsubscribed
	}
	return out
}

// subscriptionType is the presence type of an inbound input.
func subscriptionType(in events.SubscriptionInput) string {
	switch in {
	case events.InSubscribe:
		return "subscribe"
	case events.InSubscribed:
		return "subscribed"
	case events.InUnsubscribe:
		return "unsubscribe"
	}
	return "unsubscribed"
}

// local reports whether the bare JID is an account of this domain.
func (s *Core) local(bare string) bool {
	j, err := jid.Parse(bare)
	return err == nil && domain.IsLocalAccount(j, s.cfg.Domain)
}
