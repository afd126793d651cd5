package c2s

import (
	"slices"

	"xmppd/domain"
	"xmppd/stanza"
)

// capsNode names xmppd in its XEP-0115 capabilities (section 4: a URI
// identifying the software).
const capsNode = "urn:xmppd:caps"

// discoQuery is the server's XEP-0030 identity and features (section
// 3.1): those c2s implements itself plus Config.ServerFeatures from the
// core, as a disco#info <query/>.
func discoQuery(cfg *Config) *stanza.Element {
	q := stanza.New(stanza.NSDiscoInfo, "query")
	for _, id := range cfg.Identities {
		el := stanza.New(stanza.NSDiscoInfo, "identity", "category", id.Category, "type", id.Type)
		if id.Name != "" {
			el.SetAttr("name", id.Name)
		}
		q.AddChild(el)
	}
	features := append([]string{stanza.NSDiscoInfo, stanza.NSPing, stanza.NSCaps}, cfg.ServerFeatures...)
	slices.Sort(features)
	for _, f := range slices.Compact(features) {
		q.AddChild(stanza.New(stanza.NSDiscoInfo, "feature", "var", f))
	}
	return q
}

// capsFeature is the server's XEP-0115 <c/> for its stream features
// (section 6.3), whose 'ver' hashes discoQuery (section 5.1), and the
// node#ver a disco#info query may name (section 6.2).
func capsFeature(q *stanza.Element) (c *stanza.Element, nodeVer string) {
	ver, _ := domain.CapsVer(q, "sha-1")
	return stanza.New(stanza.NSCaps, "c", "hash", "sha-1", "node", capsNode, "ver", ver), capsNode + "#" + ver
}

// discoInfo answers a disco#info query to the server, echoing the node
// when the query named the caps node#ver.
func (s *Session) discoInfo(st stanza.Stanza, node string) *stanza.Element {
	q := s.srv.disco.Copy()
	if node != "" {
		q.SetAttr("node", node)
	}
	return s.result(st).AddChild(q)
}
