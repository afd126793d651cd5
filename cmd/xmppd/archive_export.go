package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"xmppd/events"
	"xmppd/replay"
)

func (a *app) archiveExportCommand() *cobra.Command {
	var f archiveFlags
	var format, out string
	var mbox bool
	cmd := &cobra.Command{
		Use:   "export --user JID [--with JID] [--since T] [--until T] --format jsonl|eml [--out PATH] [--mbox]",
		Short: "Export an account's archived messages as JSON lines or RFC 5322 messages",
		Long: `export writes the messages of one account's archive, in archive order.

--format jsonl writes one JSON object a line (to --out, or standard
output): the archive id, the log position, stream, version and event hash
(so each line can be checked against the log: ` + "`xmppd export`" + ` or verify),
the archive time, direction, the other party (with), from, to, the message
stanza as archived, and content_state: ok, or erased, expired or missing
when the key that sealed it is gone (then the stanza is empty).

--format eml writes one RFC 5322 message per archived message, the form
archiving vendors ingest: a file per message in the directory --out
(000001-<archive id>.eml, ...), or, with --mbox, all of them in the one
mbox file --out (mboxrd quoting). From and To are the XMPP addresses as
mailboxes ("alice@example.com/phone" <alice@example.com>), Date the
archive time, Message-ID the archive id, Subject the message's <subject/>
or "Chat message from ...", and X-XMPP-* headers carry the archive id,
stanza id, thread, type, direction, content state, log position and event
hash. The body is text/plain, UTF-8, quoted-printable; a message whose
content is gone says "(erased)" or "(expired)". Existing files are never
overwritten.

export opens the log and the key store read-only, so it runs beside the
server. When it is done it records archive.exported in the compliance
stream (see ` + "`xmppd archive --help`" + `).`,
		Example: `  xmppd archive export --user alice@example.com --format jsonl --out alice.jsonl
  xmppd archive export --user alice@example.com --with bob@example.com --since 2026-01-01 --until 2026-06-30 --format eml --out case-4711/
  xmppd archive export --user alice@example.com --format eml --mbox --out alice.mbox`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			bare, filter, sel, err := f.parse()
			if err != nil {
				return err
			}
			kind := format
			switch {
			case format != "jsonl" && format != "eml":
				return usagef("--format %q: use jsonl or eml", format)
			case format == "jsonl" && mbox:
				return usagef("--mbox goes with --format eml")
			case format == "eml" && out == "":
				return usagef("--format eml needs --out: a directory for one file per message, or with --mbox the mbox file")
			case mbox:
				kind = "mbox"
			}
			if out != "" {
				if out, err = filepath.Abs(out); err != nil {
					return usagef("--out %q: %v", out, err)
				}
			}
			ctx := cmd.Context()
			return a.withKeyedStore(ctx, func(c *Config, s events.Store) error {
				if err := checkArchive(ctx, s, bare); err != nil {
					return err
				}
				sink, err := newExportSink(kind, out, bare, a.stdout)
				if err != nil {
					return err
				}
				prog := newProgress(a.stderr, "archive export", 0)
				rec := events.ArchiveExported{ArchiveSelection: sel, Format: kind, Out: out, By: archiveReader()}
				var werr error
				for m, err := range replay.ArchiveMessages(ctx, s, bare, filter, prog.add) {
					if err == nil {
						err = sink.write(m)
					}
					if err != nil {
						werr = err
						break
					}
					rec.Count++
					if m.ContentState != replay.ContentOK {
						rec.Gone++
					}
				}
				werr = errors.Join(werr, sink.close())
				prog.done()
				rec.Error = errorText(werr)
				if err := a.recordArchiveRead(ctx, c, bare, rec, werr); err != nil {
					return fmt.Errorf("archive export of %s, after %d messages: %w", bare, rec.Count, err)
				}
				fmt.Fprintf(a.stderr, "exported %d messages of %s's archive (%d erased or expired)\n", rec.Count, bare, rec.Gone)
				return nil
			})
		},
	}
	f.bind(cmd)
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "", "jsonl or eml")
	fl.StringVar(&out, "out", "", "jsonl: the file to write (default standard output); eml: the directory, or with --mbox the mbox file")
	fl.BoolVar(&mbox, "mbox", false, "with --format eml: write one mbox file (mboxrd) instead of a file per message")
	return cmd
}

// exportSink is where an export writes its messages.
type exportSink interface {
	write(m replay.ArchivedMessage) error
	close() error
}

// newExportSink makes the sink of kind (jsonl, eml, mbox) at out, never
// overwriting an existing file.
func newExportSink(kind, out, owner string, stdout io.Writer) (exportSink, error) {
	switch kind {
	case "eml":
		if err := os.MkdirAll(out, 0o750); err != nil {
			return nil, fmt.Errorf("--out directory: %w", err)
		}
		return &emlDirSink{dir: out, owner: owner}, nil
	case "mbox":
		f, err := createNew(out)
		if err != nil {
			return nil, err
		}
		return &mboxSink{f: f, w: bufio.NewWriterSize(f, 1<<16), owner: owner}, nil
	}
	var f *os.File
	w := stdout
	if out != "" {
		var err error
		if f, err = createNew(out); err != nil {
			return nil, err
		}
		w = f
	}
	return &jsonlSink{f: f, w: bufio.NewWriterSize(w, 1<<16)}, nil
}

// createNew creates path, refusing one that exists: an export never
// replaces evidence already written.
func createNew(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("%s exists: export writes new files only; choose another --out", path)
	}
	if err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	return f, nil
}

// jsonlSink writes one replay.ArchivedMessage a line.
type jsonlSink struct {
	f *os.File // nil for standard output
	w *bufio.Writer
}

func (j *jsonlSink) write(m replay.ArchivedMessage) error { return writeJSONLine(j.w, m) }

func (j *jsonlSink) close() error {
	err := j.w.Flush()
	if j.f != nil {
		err = errors.Join(err, j.f.Close())
	}
	return err
}

// emlDirSink writes a file per message, numbered in archive order.
type emlDirSink struct {
	dir, owner string
	n          int
}

func (e *emlDirSink) write(m replay.ArchivedMessage) error {
	e.n++
	f, err := createNew(filepath.Join(e.dir, fmt.Sprintf("%06d-%s.eml", e.n, fileSafe(m.ID))))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = writeEML(w, m, e.owner)
	if err == nil {
		err = w.Flush()
	}
	return errors.Join(err, f.Close())
}

func (e *emlDirSink) close() error { return nil }

// mboxSink writes every message into one mbox file.
type mboxSink struct {
	f     *os.File
	w     *bufio.Writer
	owner string
}

func (s *mboxSink) write(m replay.ArchivedMessage) error { return writeMbox(s.w, m, s.owner) }

func (s *mboxSink) close() error { return errors.Join(s.w.Flush(), s.f.Close()) }

// fileSafe keeps the characters of an archive id that are safe in a file
// name everywhere (xmppd's ids are base64url: all of them are).
func fileSafe(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}
