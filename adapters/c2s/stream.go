package c2s

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stream"

	"xmppd/stanza"
)

// readHeader reads the client's stream header (RFC 6120 section 4.7) and
// returns its 'from', which is only a hint until authentication.
func (c *conn) readHeader() (from string, err error) {
	if err := c.readXMLDecl(); err != nil {
		return "", err
	}
	for {
		tok, err := c.d.Token()
		if err != nil {
			return "", c.decodeErr(err)
		}
		switch t := tok.(type) {
		case xml.ProcInst:
			if t.Target == "xml" {
				// readXMLDecl took the one declaration a stream may
				// open with; this is another, or one after something
				// else (XML 1.0 section 2.8: "at the beginning").
				return "", withText(stream.NotWellFormed, "misplaced XML declaration")
			}
			return "", stream.RestrictedXML
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return "", stream.NotWellFormed
			}
		case xml.StartElement:
			c.header = c.cc.recorded
			c.cc.recording, c.cc.recorded = false, nil
			return c.checkHeader(t)
		case xml.Comment, xml.Directive:
			return "", stream.RestrictedXML
		default:
			return "", stream.NotWellFormed
		}
	}
}

func (c *conn) checkHeader(t xml.StartElement) (string, error) {
	if t.Name.Local != "stream" {
		return "", withText(stream.BadFormat, "expected a stream header")
	}
	if t.Name.Space != stanza.NSStreams {
		// RFC 6120 section 4.8.1.
		return "", stream.InvalidNamespace
	}
	var to, from, version, defNS string
	c.declared = nil
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
			if a.Value != "" && !strings.Contains(a.Value, ":") {
				c.declared = append(c.declared, a.Value)
			}
		}
		switch {
		case a.Name.Space == "" && a.Name.Local == "to":
			to = a.Value
		case a.Name.Space == "" && a.Name.Local == "from":
			from = a.Value
		case a.Name.Space == "" && a.Name.Local == "version":
			version = a.Value
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			defNS = a.Value
		}
	}
	if defNS != stanza.NSClient {
		// RFC 6120 section 4.8.2: the content namespace of a c2s stream.
		return "", stream.InvalidNamespace
	}
	// RFC 6120 section 4.7.5: no version means 0.9, which lacks the
	// stream features this server requires; a higher major version is
	// answered with 1.0 (the client then downgrades or leaves).
	major, _, ok := strings.Cut(version, ".")
	if !ok || major == "0" || major == "" {
		return "", stream.UnsupportedVersion
	}
	if to != "" {
		// RFC 6120 section 4.9.3.6: a domain we do not serve.
		j, err := jid.Parse(to)
		if err != nil || j.String() != c.srv.cfg.Domain {
			return from, stream.HostUnknown
		}
	}
	return from, nil
}

// appendHeader appends our stream header (RFC 6120 section 4.7), with a
// new stream id, to b.
func (c *conn) appendHeader(b []byte, clientFrom string) []byte {
	c.streamID = randomID()
	b = append(b, `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' xml:lang='en' id='`...)
	b = append(b, c.streamID...)
	b = append(b, `' from='`...)
	b = appendEscaped(b, c.srv.cfg.Domain)
	b = append(b, '\'')
	if j, err := jid.Parse(clientFrom); err == nil && clientFrom != "" {
		// RFC 6120 section 4.7.2: echo the initiator's 'from' as 'to'.
		b = append(b, ` to='`...)
		b = appendEscaped(b, j.String())
		b = append(b, '\'')
	}
	c.headerSent = true
	return append(b, '>')
}

// appendFeatures appends what may be negotiated at this stage (RFC 6120
// section 4.3.2) to b: STARTTLS alone before TLS, SASL alone before
// authentication (so PLAIN is never offered in the clear), then bind with
// the configured extras. Each stage's list is the same for every stream,
// so it is encoded once (Server.features).
func (c *conn) appendFeatures(b []byte) []byte {
	stage := featuresBind
	switch {
	case !c.secure:
		stage = featuresTLS
	case c.user == "":
		stage = featuresSASL
	}
	return append(b, c.srv.features[stage]...)
}

// The negotiation stages, each with its own stream features.
const (
	featuresTLS = iota
	featuresSASL
	featuresBind
	numFeatureStages
)

// encodeFeatures encodes the <stream:features/> of each stage.
func encodeFeatures(extras []*stanza.Element, registration bool) (out [numFeatureStages][]byte) {
	for stage := range out {
		f := stanza.New(stanza.NSStreams, "features")
		switch stage {
		case featuresTLS:
			f.AddChild(stanza.New(stanza.NSTLS, "starttls").AddChild(stanza.New(stanza.NSTLS, "required")))
		case featuresSASL:
			m := stanza.New(stanza.NSSASL, "mechanisms")
			for _, name := range mechanisms {
				m.AddChild(stanza.New(stanza.NSSASL, "mechanism").AddText(name))
			}
			f.AddChild(m)
			if registration {
				// XEP-0077 section 4 (register.go).
				f.AddChild(stanza.New(stanza.NSRegisterFeature, "register"))
			}
		case featuresBind:
			f.AddChild(stanza.New(stanza.NSBind, "bind"))
			// Legacy RFC 3921 session establishment, announced as optional
			// (XEP-0206 era clients still send it).
			f.AddChild(stanza.New(stanza.NSSession, "session").AddChild(stanza.New(stanza.NSSession, "optional")))
			// XEP-0198 (sm.go), offered once stanzas may flow.
			f.AddChild(stanza.New(stanza.NSSM, "sm"))
			for _, extra := range extras {
				f.AddChild(extra.Copy())
			}
		}
		// The stream prefix was declared in our header; write it by hand.
		b := []byte("<stream:features>")
		for _, ch := range f.Elements() {
			b = ch.AppendXML(b, stanza.NSClient)
		}
		out[stage] = append(b, "</stream:features>"...)
	}
	return out
}

// sendStreamError ends the stream with e (RFC 6120 section 4.9), first
// opening our side of the stream if the error came before our header
// (section 4.9.1.1), all in one write.
func (c *conn) sendStreamError(e stream.Error) error {
	var b []byte
	if !c.headerSent {
		b = c.appendHeader(b, "")
	}
	b = append(b, stanza.StreamError(e)...)
	b = append(b, "</stream:stream>"...)
	return c.write(b)
}

// appendEscaped appends s to b escaped for an attribute value or text.
func appendEscaped(b []byte, s string) []byte {
	buf := bytes.NewBuffer(b)
	xml.EscapeText(buf, []byte(s))
	return buf.Bytes()
}

// write sends b during negotiation, when the connection's goroutine is the
// only writer.
func (c *conn) write(b []byte) error {
	if err := c.nc.SetWriteDeadline(c.srv.now().Add(c.srv.cfg.WriteTimeout)); err != nil {
		return fmt.Errorf("c2s: write deadline: %w", err)
	}
	_, err := c.nc.Write(b)
	if err != nil {
		return fmt.Errorf("c2s: write: %w", err)
	}
	return nil
}
