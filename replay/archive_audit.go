package replay

import (
	"fmt"
	"strconv"
	"strings"

	"xmppd/events"
)

// How audit tells the reading of an archive (events.ArchiveExported,
// ArchiveSearched: issue 13, the audit of the auditors): whose archive,
// which messages, who read it from where, with which command, and what
// came of it.

func exportedWords(p events.ArchiveExported) string {
	what := fmt.Sprintf("archive of %s exported as %s%s by %s: %s", p.Account, p.Format, selectionWords(p.ArchiveSelection),
		readerWords(p.By), countWords(p.Count, "message"))
	if p.Gone > 0 {
		what += fmt.Sprintf(" (%d of them erased or expired)", p.Gone)
	}
	if p.Out != "" {
		what += " to " + p.Out
	}
	if p.Error != "" {
		what += ", then failed: " + p.Error
	}
	return what
}

func searchedWords(p events.ArchiveSearched) string {
	what := fmt.Sprintf("archive of %s searched for %s%s by %s: %s of %s", p.Account, strconv.Quote(p.Text),
		selectionWords(p.ArchiveSelection), readerWords(p.By), countWords(p.Count, "match"), countWords(p.Scanned, "message"))
	if p.Error != "" {
		what += ", then failed: " + p.Error
	}
	return what
}

func selectionWords(s events.ArchiveSelection) string {
	var w []string
	if s.With != "" {
		w = append(w, "with "+s.With)
	}
	if s.Since != "" {
		w = append(w, "since "+s.Since)
	}
	if s.Until != "" {
		w = append(w, "until "+s.Until)
	}
	if len(w) == 0 {
		return ""
	}
	return " (" + strings.Join(w, ", ") + ")"
}

func readerWords(r events.ArchiveReader) string {
	return fmt.Sprintf("OS user %s on %s (pid %d)", r.OSUser, r.Host, r.PID)
}

func countWords(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if noun == "match" {
		return fmt.Sprintf("%d matches", n)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
