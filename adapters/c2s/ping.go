package c2s

import "xmppd/stanza"

// serverIQ answers the IQs that concern the stream rather than the
// account, and reports whether it did:
//   - XEP-0199 ping to the server (section 4.2) or with no 'to';
//   - XEP-0030 disco#info to the bare domain, from Config, also for the
//     XEP-0115 node#ver the stream features name;
//   - RFC 3921's session establishment, a no-op since RFC 6120 (clients
//     of that era still send it; draft-cridland-xmpp-session).
//
// Everything else, including disco#info to an account, goes to the Core.
func (s *Session) serverIQ(st stanza.Stanza) bool {
	if st.Kind != stanza.KindIQ || len(st.El.Elements()) != 1 {
		return false
	}
	payload := st.El.Elements()[0]
	switch {
	case st.Type == "get" && payload.Name.Space == stanza.NSPing && payload.Name.Local == "ping" && s.toServer(st, true):
		s.Send(s.result(st))
		return true
	case st.Type == "get" && payload.Name.Space == stanza.NSDiscoInfo && payload.Name.Local == "query" &&
		(payload.Attr("node") == "" || payload.Attr("node") == s.srv.capsNodeVer) && s.toServer(st, false):
		s.Send(s.discoInfo(st, payload.Attr("node")))
		return true
	case st.Type == "set" && payload.Name.Space == stanza.NSSession && payload.Name.Local == "session" && s.toServer(st, true):
		s.Send(s.result(st))
		return true
	}
	return false
}
