package im

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/router"
	"xmppd/stanza"
)

// Register creates an account for XEP-0077 in-band registration (section
// 3.1), when Config.AllowRegistration is set: account.created and its
// credentials, with the registering client's address as provenance, by
// the same use case `xmppd user add` runs. A taken username is
// <conflict/>; a username that is not a valid localpart is
// <not-acceptable/> (section 3.1); registration switched off is
// <not-allowed/>.
func (s *Core) Register(ctx context.Context, username, password string, from router.Origin) error {
	if !s.cfg.AllowRegistration {
		return stanza.Error{Type: stanza.Cancel, Condition: stanza.NotAllowed}
	}
	bare, err := jid.New(username, s.cfg.Domain, "")
	if err != nil || username == "" || password == "" {
		return stanza.Error{Type: stanza.Modify, Condition: stanza.NotAcceptable}
	}
	iterations := s.cfg.ScramIterations
	if iterations == 0 {
		iterations = domain.MinScramIterations
	}
	creds, err := domain.NewCredentials(password, iterations, rand.Reader)
	if err != nil {
		return fmt.Errorf("im: registration: %w", err)
	}
	meta := events.Meta{Actor: "registration:" + from.Addr, ClientAddr: from.Addr, CorrelationID: NewCorrelationID(), Node: s.cfg.Node}
	err = Accounts{Store: s.cfg.Store}.Create(ctx, bare, creds, meta)
	if err != nil {
		if !errors.As(err, new(*domain.Error)) {
			s.log.Error("im: registration", "jid", bare.String(), "addr", from.Addr, "err", err)
		}
		return condition(err)
	}
	s.log.Info("im: account registered in band", "jid", bare.String(), "addr", from.Addr)
	return nil
}

// RegistrationAllowed reports whether Register creates accounts, for a
// transport deciding whether to offer registration.
func (s *Core) RegistrationAllowed() bool { return s.cfg.AllowRegistration }

var _ router.Registrar = (*Core)(nil)
