package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"xmppd/replay"
)

// An archived message as an RFC 5322 message (issue 13: the form
// archiving vendors ingest). The standard library writes the parts that
// have rules: net/mail the mailboxes, mime the encoded words of headers
// that are not ASCII (RFC 2047), mime/quotedprintable the body (RFC 2045
// section 6.7), so any text a message held, in any script, with any line
// lengths, comes out as a valid message.

// emlMessage renders m, from owner's archive, with CRLF line ends
// (RFC 5322 section 2.1).
func emlMessage(m replay.ArchivedMessage, owner string) ([]byte, error) {
	var b bytes.Buffer
	h := func(name, value string) {
		b.WriteString(foldHeader(name + ": " + value))
		b.WriteString("\r\n")
	}
	// X-* headers are unstructured text (RFC 5322 3.6.8): any value that
	// is not plain printable ASCII travels as encoded words.
	x := func(name, value string) {
		if value != "" {
			h(name, mime.QEncoding.Encode("utf-8", value))
		}
	}
	h("From", mailbox(m.From))
	h("To", mailbox(m.To))
	h("Date", m.Time.UTC().Format(time.RFC1123Z))
	h("Subject", mime.QEncoding.Encode("utf-8", subjectOf(m)))
	// The archive id, unique in the archive and never reused (XEP-0313
	// section 6.2), makes the Message-ID; the stanza's own id is chosen
	// by the client, need not be unique, and goes in X-XMPP-Stanza-Id.
	h("Message-ID", "<"+msgIDLeft(m.ID)+"@"+domainOfJID(owner)+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	x("X-XMPP-Archive", owner)
	x("X-XMPP-Archive-Id", m.ID)
	x("X-XMPP-Archive-Time", m.Time.UTC().Format(time.RFC3339Nano))
	x("X-XMPP-Direction", m.Direction)
	x("X-XMPP-With", m.With)
	x("X-XMPP-From", m.From)
	x("X-XMPP-To", m.To)
	x("X-XMPP-Stanza-Id", m.StanzaID)
	x("X-XMPP-Type", m.Type)
	x("X-XMPP-Thread", m.Thread)
	x("X-XMPP-Content-State", m.ContentState)
	x("X-XMPP-Log-Position", strconv.FormatUint(m.Position, 10))
	x("X-XMPP-Log-Stream", m.Stream)
	x("X-XMPP-Event-Hash", m.Hash)
	b.WriteString("\r\n")
	body := m.Body
	if m.ContentState != replay.ContentOK {
		body = "(" + m.ContentState + ")"
	}
	var enc bytes.Buffer
	qp := quotedprintable.NewWriter(&enc)
	if _, err := io.WriteString(qp, body); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	b.WriteString(escapeFromLines(enc.String()))
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

// escapeFromLines rewrites each line of quoted-printable text that starts
// with "From " so that it no longer does: its "F" as =46, then a soft line
// break (RFC 2045 6.7 rules 1 and 5), which keeps the line within 76
// characters. The decoded text is unchanged, and an mbox reader that does
// not undo mboxrd's '>' quoting (Python's mailbox does not) still reads
// the body as it was: the quoting never has a body line to act on.
func escapeFromLines(qp string) string {
	lines := strings.Split(qp, "\r\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "From ") {
			lines[i] = "=46rom=\r\n" + l[len("From"):]
		}
	}
	return strings.Join(lines, "\r\n")
}

// writeEML writes m as one .eml file's content.
func writeEML(w io.Writer, m replay.ArchivedMessage, owner string) error {
	msg, err := emlMessage(m, owner)
	if err != nil {
		return fmt.Errorf("render message %s: %w", m.ID, err)
	}
	_, err = w.Write(msg)
	return err
}

// writeMbox appends m to an mbox file in the mboxrd form: a "From "
// separator line (envelope sender and asctime date), the message with
// LF line ends and every line that matches ^>*From  quoted with one more
// '>', then an empty line.
func writeMbox(w io.Writer, m replay.ArchivedMessage, owner string) error {
	msg, err := emlMessage(m, owner)
	if err != nil {
		return fmt.Errorf("render message %s: %w", m.ID, err)
	}
	sender := addrSpec(m.From)
	if _, err := fmt.Fprintf(w, "From %s %s\n", sender, m.Time.UTC().Format(time.ANSIC)); err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSuffix(strings.ReplaceAll(string(msg), "\r\n", "\n"), "\n"), "\n")
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimLeft(l, ">"), "From ") {
			l = ">" + l
		}
		if _, err := io.WriteString(w, l+"\n"); err != nil {
			return err
		}
	}
	_, err = io.WriteString(w, "\n")
	return err
}

// mailbox renders an XMPP address as an RFC 5322 mailbox: the bare JID
// as the address and, when the address names a resource, the full JID as
// the display name ("alice@example.com/phone" <alice@example.com>).
func mailbox(addr string) string {
	a := mail.Address{Address: addrSpec(addr)}
	if j, err := jid.Parse(addr); err != nil || j.Resourcepart() != "" || j.Localpart() == "" {
		a.Name = addr
	}
	return a.String()
}

// addrSpec is the mailbox address of an XMPP address: its bare JID. A
// JID with no localpart (a server) becomes postmaster@ its domain, the
// mailbox RFC 5321 section 4.5.1 reserves for a domain, and an address
// that is not a JID unknown@invalid (RFC 2606): the display name and
// X-XMPP-From/To keep the address as it was.
func addrSpec(addr string) string {
	j, err := jid.Parse(addr)
	switch {
	case err != nil:
		return "unknown@invalid"
	case j.Localpart() == "":
		return "postmaster@" + j.Domainpart()
	}
	return j.Bare().String()
}

func domainOfJID(bare string) string {
	if j, err := jid.Parse(bare); err == nil {
		return j.Domainpart()
	}
	return "invalid"
}

// subjectOf is the message's <subject/>, or words that say what it is.
func subjectOf(m replay.ArchivedMessage) string {
	if s := strings.TrimSpace(m.Subject); s != "" {
		return s
	}
	what := "Message"
	if m.Type == "chat" {
		what = "Chat message"
	}
	s := what + " from " + addrSpec(m.From)
	if m.ContentState != replay.ContentOK {
		s += " (" + m.ContentState + ")"
	}
	return s
}

// msgIDLeft is the id-left of a Message-ID (RFC 5322 3.6.4, dot-atom-text)
// made of an archive id: as it is when it is made of letters, digits, '-'
// and '_' (xmppd's are base64url), else its bytes in hex.
func msgIDLeft(id string) string {
	if id != "" && fileSafe(id) == id {
		return id
	}
	return "x" + hex.EncodeToString([]byte(id))
}

// foldHeader folds a header line longer than 78 characters at its
// spaces (RFC 5322 section 2.2.3): encoded words are separated by spaces,
// so a long encoded Subject folds too. A line with no space to fold at
// stays long; RFC 5322's hard limit is 998.
func foldHeader(line string) string {
	if len(line) <= 78 {
		return line
	}
	var b strings.Builder
	n := 0
	for i, word := range strings.Split(line, " ") {
		if i > 0 {
			// Never right after "Name:": a header's value starts on
			// its own line.
			if i > 1 && n+1+len(word) > 78 {
				b.WriteString("\r\n ")
				n = 1
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}
