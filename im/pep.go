package im

import (
	"context"
	"errors"
	"strconv"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/stanza"
)

// XEP-0163 Personal Eventing Protocol: every account is a pubsub service
// at its bare JID (section 1), answering the subset of XEP-0060 clients
// use. pep.go answers the IQs; pep_notify.go sends event notifications
// and last published items; pep_caps.go learns which nodes a client
// wants notifications of (XEP-0115).

// pepFeatures are the XEP-0060 features the PEP service implements
// (section 10 of XEP-0060 names them), for the server's and the
// account's disco#info (XEP-0163 section 4.1 / 6).
var pepFeatures = []string{
	stanza.NSPubSub,
	stanza.NSPubSub + "#access-open",
	stanza.NSPubSub + "#access-presence",
	stanza.NSPubSub + "#access-whitelist",
	stanza.NSPubSub + "#auto-create",
	stanza.NSPubSub + "#config-node",
	stanza.NSPubSub + "#delete-nodes",
	stanza.NSPubSub + "#filtered-notifications",
	stanza.NSPubSub + "#item-ids",
	stanza.NSPubSub + "#last-published",
	stanza.NSPubSub + "#persistent-items",
	stanza.NSPubSub + "#publish",
	stanza.NSPubSub + "#publish-options",
	stanza.NSPubSub + "#retract-items",
	stanza.NSPubSub + "#retrieve-items",
}

// pepLimits are the configured PEP quotas.
func (s *Core) pepLimits() domain.PEPLimits {
	return domain.PEPLimits{MaxItemBytes: s.maxStoredXML(), MaxItems: s.cfg.PEPMaxItems, MaxNodes: s.cfg.PEPMaxNodes}
}

// isPubSub reports whether q is a <pubsub/> request, of the user
// (pubsub) or owner (pubsub#owner) namespace.
func isPubSub(q *stanza.Element) bool {
	return q.Name.Local == "pubsub" && (q.Name.Space == stanza.NSPubSub || q.Name.Space == stanza.NSPubSubOwner)
}

// pepIQ answers a pubsub request to the account bare's PEP service from
// anyone: the domain decides who may do what.
func (s *Core) pepIQ(ctx context.Context, bare string, x *session, st stanza.Stanza, q *stanza.Element, meta events.Meta) {
	els := q.Elements()
	var verb *stanza.Element
	if len(els) > 0 {
		verb = els[0]
	}
	requester := st.From.Bare().String()
	switch {
	case verb == nil:
		s.reply(x, errorReply(st.El, errBadRequest))
	case q.Name.Space == stanza.NSPubSub && st.Type == "set" && verb.Name.Local == "publish":
		s.pepPublish(ctx, bare, x, st, q, verb, meta)
	case q.Name.Space == stanza.NSPubSub && st.Type == "set" && verb.Name.Local == "retract":
		id := ""
		if it := verb.Child("item", stanza.NSPubSub); it != nil {
			id = it.Attr("id")
		}
		notify := verb.Attr("notify") == "true" || verb.Attr("notify") == "1"
		s.pepChange(ctx, bare, x, st, meta, func(a *domain.Account) (domain.Decision, error) {
			return domain.DecidePEPRetract(a, requester, verb.Attr("node"), id, notify)
		})
	case q.Name.Space == stanza.NSPubSub && st.Type == "get" && verb.Name.Local == "items":
		s.pepItems(bare, x, st, verb)
	case q.Name.Space == stanza.NSPubSubOwner && st.Type == "set" && verb.Name.Local == "delete":
		s.pepChange(ctx, bare, x, st, meta, func(a *domain.Account) (domain.Decision, error) {
			return domain.DecidePEPDeleteNode(a, requester, verb.Attr("node"))
		})
	case q.Name.Space == stanza.NSPubSubOwner && verb.Name.Local == "configure":
		s.pepConfigure(ctx, bare, x, st, verb, meta)
	case verb.Name.Local == "publish" || verb.Name.Local == "retract" || verb.Name.Local == "items" ||
		verb.Name.Local == "delete" || verb.Name.Local == "configure":
		// A request xmppd knows, in the wrong IQ type or namespace.
		s.reply(x, errorReply(st.El, errBadRequest))
	default:
		// XEP-0060: a feature xmppd's PEP service does not offer
		// (subscribe, purge, affiliations, ...) is feature-not-implemented
		// with <unsupported feature='...'/>.
		reply := errorReply(st.El, stanza.Error{Type: stanza.Cancel, Condition: stanza.FeatureNotImplemented})
		addAppCondition(reply, stanza.New(stanza.NSPubSubErrors, "unsupported", "feature", verb.Name.Local))
		s.reply(x, reply)
	}
}

// pepPublish publishes the one item of a publish request (XEP-0060 7.1),
// with the publish-options precondition (7.1.5), and answers with the
// item's id (7.1.2: the service MUST include it when it made it up).
func (s *Core) pepPublish(ctx context.Context, bare string, x *session, st stanza.Stanza, q, pub *stanza.Element, meta events.Meta) {
	cmd := domain.PEPPublish{Node: pub.Attr("node")}
	items := pub.Elements()
	if len(items) > 1 {
		// 7.1.3.6: PEP takes one item per publish.
		s.pepErr(x, st, &domain.Error{Op: "pep publish", Kind: domain.BadRequest, App: "invalid-payload"})
		return
	}
	if len(items) == 1 {
		cmd.ItemID = items[0].Attr("id")
		if payload := items[0].Elements(); len(payload) == 1 {
			cmd.XML = payload[0].String()
		} else if len(payload) > 1 {
			// 7.1.3.6: more than one payload element.
			s.pepErr(x, st, &domain.Error{Op: "pep publish", Kind: domain.BadRequest, App: "invalid-payload"})
			return
		}
	}
	if cmd.ItemID == "" {
		cmd.ItemID = newID()[:16]
	}
	if po := q.Child("publish-options", stanza.NSPubSub); po != nil {
		cmd.Options = formFields(po.Child("x", stanza.NSDataForms))
	}
	requester := st.From.Bare().String()
	d, ok := s.pepCommit(ctx, bare, x, st, meta, func(a *domain.Account) (domain.Decision, error) {
		return domain.DecidePEPPublish(a, requester, cmd, s.pepLimits())
	})
	if !ok {
		return
	}
	res := stanza.New(stanza.NSPubSub, "pubsub")
	res.AddChild(stanza.New(stanza.NSPubSub, "publish", "node", cmd.Node).AddChild(stanza.New(stanza.NSPubSub, "item", "id", cmd.ItemID)))
	// Notifications first: once the publisher has its answer, every
	// notification is queued to its recipients.
	s.pepEffects(bare, d.Effects)
	s.reply(x, iqResult(st.El, st.To).AddChild(res))
}

// pepChange commits a retract or node deletion, answers an empty result
// and sends the notifications.
func (s *Core) pepChange(ctx context.Context, bare string, x *session, st stanza.Stanza, meta events.Meta, decide func(a *domain.Account) (domain.Decision, error)) {
	d, ok := s.pepCommit(ctx, bare, x, st, meta, decide)
	if !ok {
		return
	}
	s.pepEffects(bare, d.Effects)
	s.reply(x, iqResult(st.El, st.To))
}

// pepCommit records a PEP decision in the account's stream, answering
// the refusal if there is one.
func (s *Core) pepCommit(ctx context.Context, bare string, x *session, st stanza.Stanza, meta events.Meta, decide func(a *domain.Account) (domain.Decision, error)) (domain.Decision, bool) {
	d, err := s.execute(ctx, bare, events.AccountStream(bare), &meta, func(a *domain.Account, _ *domain.PresenceView) (domain.Decision, error) {
		return decide(a)
	})
	if err != nil {
		s.pepErr(x, st, err)
		return domain.Decision{}, false
	}
	return d, true
}

// pepItems answers an items retrieval (XEP-0060 6.5): all items, the
// newest max_items (6.5.7), or those asked for by id (6.5.8).
func (s *Core) pepItems(bare string, x *session, st stanza.Stanza, req *stanza.Element) {
	node := req.Attr("node")
	if node == "" {
		s.pepErr(x, st, &domain.Error{Op: "pep items", Kind: domain.BadRequest, App: "nodeid-required"})
		return
	}
	max := 0
	if v := req.Attr("max_items"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.reply(x, errorReply(st.El, errBadRequest))
			return
		}
		max = n
	}
	var ids []string
	for _, it := range req.Elements() {
		if it.Name.Local == "item" && it.Attr("id") != "" {
			ids = append(ids, it.Attr("id"))
		}
	}
	var items []domain.PEPItem
	var err error = errServiceUnavailable // an account the views do not know
	s.views.WithAccount(bare, func(a *domain.Account, _ *domain.PresenceView) {
		items, err = a.PEPItems(st.From.Bare().String(), node, max, ids)
	})
	if err != nil {
		s.pepErr(x, st, err)
		return
	}
	out := stanza.New(stanza.NSPubSub, "items", "node", node)
	for _, it := range items {
		out.AddChild(pepItemEl(stanza.NSPubSub, it))
	}
	s.reply(x, iqResult(st.El, st.To).AddChild(stanza.New(stanza.NSPubSub, "pubsub").AddChild(out)))
}

// pepConfigure answers the owner's node configuration get (XEP-0060
// 8.2.1) and set (8.2.4; a cancelled form changes nothing, 8.2.5).
func (s *Core) pepConfigure(ctx context.Context, bare string, x *session, st stanza.Stanza, req *stanza.Element, meta events.Meta) {
	node, requester := req.Attr("node"), st.From.Bare().String()
	if node == "" {
		s.pepErr(x, st, &domain.Error{Op: "pep configure", Kind: domain.BadRequest, App: "nodeid-required"})
		return
	}
	if st.Type == "get" {
		var cfg domain.PEPConfig
		var err error = errServiceUnavailable
		s.views.WithAccount(bare, func(a *domain.Account, _ *domain.PresenceView) { cfg, err = domain.PEPConfigOf(a, requester, node) })
		if err != nil {
			s.pepErr(x, st, err)
			return
		}
		conf := stanza.New(stanza.NSPubSubOwner, "configure", "node", node).AddChild(configForm(cfg))
		s.reply(x, iqResult(st.El, st.To).AddChild(stanza.New(stanza.NSPubSubOwner, "pubsub").AddChild(conf)))
		return
	}
	form := req.Child("x", stanza.NSDataForms)
	if form == nil {
		s.reply(x, errorReply(st.El, errBadRequest))
		return
	}
	fields := formFields(form)
	if form.Attr("type") == "cancel" {
		fields = nil
	}
	s.pepChange(ctx, bare, x, st, meta, func(a *domain.Account) (domain.Decision, error) {
		return domain.DecidePEPConfigure(a, requester, node, fields, s.pepLimits())
	})
}

// pepErr answers st with err's stanza error and, for a domain refusal
// that names one, XEP-0060's application condition (section 14).
func (s *Core) pepErr(x *session, st stanza.Stanza, err error) {
	s.log.Debug("im: pep refused", "stanza", st.ID, "from", st.From.String(), "err", err)
	reply := errorReply(st.El, condition(err))
	var de *domain.Error
	if errors.As(err, &de) && de.App != "" {
		addAppCondition(reply, stanza.New(stanza.NSPubSubErrors, de.App))
	}
	s.reply(x, reply)
}

// addAppCondition adds an application-specific condition (RFC 6120
// 8.3.2) to the error of reply (nil for none).
func addAppCondition(reply, cond *stanza.Element) {
	if reply == nil {
		return
	}
	els := reply.Elements()
	els[len(els)-1].AddChild(cond)
}

// pepItemEl is <item id='...'>payload</item> in namespace ns.
func pepItemEl(ns string, it domain.PEPItem) *stanza.Element {
	el := stanza.New(ns, "item", "id", it.ID)
	if it.XML != "" {
		el.Children = append(el.Children, stanza.Encoded(it.XML))
	}
	return el
}

// formFields returns a XEP-0004 form's fields by var, first value each,
// FORM_TYPE left out; nil for no form.
func formFields(x *stanza.Element) map[string]string {
	if x == nil {
		return nil
	}
	out := map[string]string{}
	for _, f := range x.Elements() {
		v := f.Attr("var")
		if f.Name.Local != "field" || v == "" || v == "FORM_TYPE" {
			continue
		}
		val := ""
		if el := f.Child("value", stanza.NSDataForms); el != nil {
			val = el.Text()
		}
		out[v] = val
	}
	return out
}

// configForm is the node configuration form (XEP-0060 8.2.1, fields of
// 16.4.3) for the fields xmppd honours.
func configForm(c domain.PEPConfig) *stanza.Element {
	x := stanza.New(stanza.NSDataForms, "x", "type", "form")
	field := func(v, typ, label, value string, options ...string) {
		f := stanza.New(stanza.NSDataForms, "field", "var", v, "type", typ)
		if label != "" {
			f.SetAttr("label", label)
		}
		for _, o := range options {
			f.AddChild(stanza.New(stanza.NSDataForms, "option").AddChild(stanza.New(stanza.NSDataForms, "value").AddText(o)))
		}
		f.AddChild(stanza.New(stanza.NSDataForms, "value").AddText(value))
		x.AddChild(f)
	}
	field("FORM_TYPE", "hidden", "", stanza.NSPubSubConfig)
	field(domain.FieldAccessModel, "list-single", "Who may subscribe and retrieve items", c.AccessModel, domain.AccessPresence, domain.AccessOpen, domain.AccessWhitelist)
	persist := "0"
	if c.PersistItems {
		persist = "1"
	}
	field(domain.FieldPersistItems, "boolean", "Persist items to storage", persist)
	field(domain.FieldMaxItems, "text-single", "Max # of items to persist", strconv.Itoa(c.MaxItems))
	return x
}

// pepDiscoItems lists the nodes of bare's PEP service that requester may
// read (XEP-0060 5.2; XEP-0163 section 6.1), one item each.
func (s *Core) pepDiscoItems(bare, requester string) *stanza.Element {
	q := stanza.New(stanza.NSDiscoItems, "query")
	s.views.WithAccount(bare, func(a *domain.Account, _ *domain.PresenceView) {
		for _, n := range a.PEPVisible(requester) {
			q.AddChild(stanza.New(stanza.NSDiscoItems, "item", "jid", bare, "node", n.Name))
		}
	})
	return q
}
