package im

// DefaultMaxResources is how many sessions one account may have bound at
// once unless configured. ejabberd's sample configuration allows 10
// (max_user_sessions); xmppd allows a little more, because a session
// whose network died is counted until it is noticed (a client that
// reconnects with the same resource replaces it at once, RFC 6120
// 7.7.2.2, but one that picks a new resource each time does not), and a
// person may run a phone, a laptop, a desktop, a web client and a few
// bots.
const DefaultMaxResources = 16

// checkResources refuses x's bind when its account already has
// MaxResources live sessions (RFC 6120 7.6.2.1, <resource-constraint/>
// of type wait: the bind can succeed once another resource goes). A
// session that x replaces, because it holds the same resource (7.7.2.2),
// is not counted: the bind ends it and the count does not grow. It runs
// on the account's actor, so two binds of one account never both see room
// for one. Only this node's sessions are counted.
func (s *Core) checkResources(x *session) error {
	max := s.cfg.MaxResources
	if max < 0 {
		return nil
	}
	n := 0
	for _, y := range s.reg.All(x.bare) {
		if y.resource != x.resource {
			n++
		}
	}
	if n >= max {
		s.log.Debug("im: bind refused: the account has reached its resource limit", "jid", x.fullStr, "limit", max)
		return errTooManyResources
	}
	return nil
}
