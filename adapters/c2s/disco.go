package c2s

import (
	"slices"

	"xmppd/stanza"
)

// discoInfo is the server's XEP-0030 identity and features (section 3.1):
// those c2s implements itself plus Config.ServerFeatures from the core.
func (s *Session) discoInfo(st stanza.Stanza) *stanza.Element {
	q := stanza.New(stanza.NSDiscoInfo, "query")
	for _, id := range s.srv.cfg.Identities {
		el := stanza.New(stanza.NSDiscoInfo, "identity", "category", id.Category, "type", id.Type)
		if id.Name != "" {
			el.SetAttr("name", id.Name)
		}
		q.AddChild(el)
	}
	features := append([]string{stanza.NSDiscoInfo, stanza.NSPing}, s.srv.cfg.ServerFeatures...)
	slices.Sort(features)
	for _, f := range slices.Compact(features) {
		q.AddChild(stanza.New(stanza.NSDiscoInfo, "feature", "var", f))
	}
	return s.result(st).AddChild(q)
}
