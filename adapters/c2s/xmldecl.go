package c2s

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"mellium.im/xmpp/stream"
)

// errUnsupportedEncoding: the client declared, or used, an encoding other
// than UTF-8 (RFC 6120 section 11.6); the stream ends with
// <unsupported-encoding/> (section 4.9.3.22).
var errUnsupportedEncoding = errors.New("c2s: encoding other than UTF-8")

// newDecoder is the decoder of every stream: should encoding/xml meet an
// XML declaration naming another encoding (readXMLDecl reads the real one
// before it), it asks CharsetReader, which refuses in a way
// streamErrorFor recognises.
func newDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(r)
	d.CharsetReader = func(string, io.Reader) (io.Reader, error) { return nil, errUnsupportedEncoding }
	return d
}

// decodeErr translates what the decoder returned. encoding/xml rejects an
// XML declaration of a version other than 1.0 with a plain error of its
// own ("xml: unsupported version ..."), not a *xml.SyntaxError: here, past
// readXMLDecl, that is a declaration where none may be (XML 1.0 section
// 2.8), a well-formedness error of the client's, not ours.
func (c *conn) decodeErr(err error) error {
	var syn *xml.SyntaxError
	if c.cc.readErr != nil || errors.Is(err, errTooBig) || errors.Is(err, errUnsupportedEncoding) || errors.As(err, &syn) {
		return err
	}
	if strings.HasPrefix(err.Error(), "xml: ") {
		return withText(stream.NotWellFormed, "misplaced XML declaration")
	}
	return err
}

// maxXMLDecl bounds an XML declaration; the longest well-formed one with
// sensible spacing is under 80 bytes.
const maxXMLDecl = 256

// readXMLDecl reads the XML declaration a stream may begin with (RFC 6120
// section 11.5), before the decoder sees it, and checks it against the
// XMLDecl production of XML 1.0 Fifth Edition, which section 11.5 says
// applications MUST follow:
//
//	XMLDecl      ::= '<?xml' VersionInfo EncodingDecl? SDDecl? S? '?>'
//	VersionInfo  ::= S 'version' Eq ("'" VersionNum "'" | '"' VersionNum '"')
//	VersionNum   ::= '1.' [0-9]+
//	EncodingDecl ::= S 'encoding' Eq ('"' EncName '"' | "'" EncName "'")
//	EncName      ::= [A-Za-z] ([A-Za-z0-9._] | '-')*
//	SDDecl       ::= S 'standalone' Eq (("'" ('yes' | 'no') "'") | ('"' ('yes' | 'no') '"'))
//
// What it answers:
//   - an encoding other than UTF-8 (any case): <unsupported-encoding/>
//     (sections 11.6 and 4.9.3.22), as does a stream that begins in
//     UTF-16 (a byte order mark or a NUL byte among the first two);
//   - a declaration that does not match the production, e.g. version
//     '2.0' or '1', or no version: <not-well-formed/> (section 11.3);
//   - version '1.1' or any other 1.x matches VersionNum, and XML 1.0
//     section 2.8 has a 1.0 processor read such a document as 1.0: it is
//     accepted and read as XML 1.0, the only XML XMPP is defined over
//     (section 11.8), so a 1.1-only construct is then not well-formed.
//     <unsupported-version/> (section 4.9.3.25) is about the stream
//     header's 'version' attribute, the XMPP version, not XML's;
//   - standalone='no' is ignored, as section 11.5 allows.
//
// Whitespace before the declaration is let through, as before. The
// declaration is not kept in the recorded header (conn.freshDecoder
// replays the header alone). Read errors are left for the decoder to
// meet again, as in awaitStanza.
func (c *conn) readXMLDecl() error {
	for !c.cc.skipSpace() {
		if err := c.cc.fill(); err != nil {
			return nil
		}
	}
	// Look at the first bytes, reading only while they could still begin
	// a declaration: a client that sent less and waits gets its answer.
	const start = "<?xml"
	b := c.cc.ahead()
	for len(b) <= len(start) && string(b) == start[:len(b)] {
		if err := c.cc.more(); err != nil {
			return nil
		}
		b = c.cc.ahead()
	}
	if b[0] == 0xFE || b[0] == 0xFF || b[0] == 0 || len(b) > 1 && b[1] == 0 {
		// A UTF-16 byte order mark, or UTF-16 text ("<\x00" or "\x00<").
		return withText(stream.UnsupportedEncoding, "only UTF-8 is supported")
	}
	if len(b) <= len(start) || string(b[:len(start)]) != start || !isDeclSpace(b[5]) && b[5] != '?' {
		return nil // no declaration; anything else is the decoder's to judge
	}
	var decl []byte
	for !strings.HasSuffix(string(decl), "?>") {
		if len(decl) >= maxXMLDecl {
			return withText(stream.NotWellFormed, "XML declaration too long")
		}
		ch, err := c.cc.ReadByte()
		if err != nil {
			return err
		}
		decl = append(decl, ch)
	}
	c.cc.recorded = nil
	return checkXMLDecl(string(decl[len("<?xml") : len(decl)-len("?>")]))
}

// checkXMLDecl checks what is between '<?xml' and '?>'.
func checkXMLDecl(s string) error {
	bad := withText(stream.NotWellFormed, "malformed XML declaration")
	p := declParser{s: s}
	version, ok := p.pseudoAttr("version")
	if !ok || !isVersionNum(version) {
		return bad
	}
	enc, hasEnc := p.pseudoAttr("encoding")
	if hasEnc && !isEncName(enc) {
		return bad
	}
	sd, hasSD := p.pseudoAttr("standalone")
	if hasSD && sd != "yes" && sd != "no" {
		return bad
	}
	p.space()
	if p.s != "" {
		return bad
	}
	if hasEnc && !strings.EqualFold(enc, "UTF-8") {
		return withText(stream.UnsupportedEncoding, "only UTF-8 is supported")
	}
	return nil
}

// declParser reads the pseudo-attributes of an XML declaration in order.
type declParser struct{ s string }

func (p *declParser) space() bool {
	n := len(p.s)
	p.s = strings.TrimLeft(p.s, " \t\r\n")
	return len(p.s) < n
}

// pseudoAttr reads S name Eq quoted-value if name comes next, and leaves
// p as it was otherwise.
func (p *declParser) pseudoAttr(name string) (string, bool) {
	save := p.s
	if !p.space() || !strings.HasPrefix(p.s, name) {
		p.s = save
		return "", false
	}
	p.s = p.s[len(name):]
	p.space()
	if !strings.HasPrefix(p.s, "=") {
		p.s = save
		return "", false
	}
	p.s = p.s[1:]
	p.space()
	if p.s == "" || p.s[0] != '\'' && p.s[0] != '"' {
		p.s = save
		return "", false
	}
	q := p.s[0]
	end := strings.IndexByte(p.s[1:], q)
	if end < 0 {
		p.s = save
		return "", false
	}
	v := p.s[1 : 1+end]
	p.s = p.s[2+end:]
	return v, true
}

func isDeclSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// isVersionNum: '1.' [0-9]+.
func isVersionNum(v string) bool {
	digits, ok := strings.CutPrefix(v, "1.")
	if !ok || digits == "" {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

// isEncName: [A-Za-z] ([A-Za-z0-9._] | '-')*.
func isEncName(v string) bool {
	for i := 0; i < len(v); i++ {
		ch := v[i]
		letter := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z'
		if i == 0 && !letter || i > 0 && !letter && !(ch >= '0' && ch <= '9') && ch != '.' && ch != '_' && ch != '-' {
			return false
		}
	}
	return v != ""
}
