package domain

import "mellium.im/xmpp/jid"

// The classes of a stanza's 'to' seen from the one domain served, which
// decide who handles it (RFC 6120 10.3, 10.4, 10.5).

// IsServer reports whether to is the bare domain itself: the server
// answers for it (RFC 6120 10.4 for a stanza to the domain; the no-'to'
// case of 10.3 is the sender's own account, not this).
func IsServer(to jid.JID, served string) bool {
	return to.Localpart() == "" && to.Resourcepart() == "" && to.Domainpart() == served
}

// IsRemote reports whether to belongs to another domain than the one
// served. Without server-to-server connections every other domain is
// unreachable: remote-server-not-found (RFC 6120 8.3.3.15, 10.4.3).
func IsRemote(to jid.JID, served string) bool {
	return !to.Equal(jid.JID{}) && to.Domainpart() != served
}

// IsLocalAccount reports whether to names an account (or a resource of
// one) of the domain served.
func IsLocalAccount(to jid.JID, served string) bool {
	return to.Localpart() != "" && to.Domainpart() == served
}
