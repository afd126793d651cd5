package c2s

import (
	"slices"

	"xmppd/adapters/xmlnode"
)

// discoInfo is the server's XEP-0030 identity and features (section 3.1):
// those c2s implements itself plus Config.ServerFeatures from the core.
func (s *Session) discoInfo(st Stanza) *xmlnode.Element {
	q := xmlnode.New(nsDiscoInfo, "query")
	for _, id := range s.srv.cfg.Identities {
		el := xmlnode.New(nsDiscoInfo, "identity", "category", id.Category, "type", id.Type)
		if id.Name != "" {
			el.SetAttr("name", id.Name)
		}
		q.AddChild(el)
	}
	features := append([]string{nsDiscoInfo, nsPing}, s.srv.cfg.ServerFeatures...)
	slices.Sort(features)
	for _, f := range slices.Compact(features) {
		q.AddChild(xmlnode.New(nsDiscoInfo, "feature", "var", f))
	}
	return s.result(st).AddChild(q)
}
