package esdb

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// checkStream reports whether stream can be used as an EventStoreDB stream
// name unchanged. EventStoreDB names are any non-empty UTF-8 string; the
// server reserves names starting with '$' (system streams, and "$$" for
// stream metadata). xmppd names ("account-", "presence-", "offline-",
// "server-" followed by a canonical JID or domain) never start with '$',
// and a canonical JID is valid UTF-8 (RFC 7622), so no escaping is needed:
// "account-žofie@例え.jp" is stored under exactly that name. Invalid UTF-8
// is refused because the server would decode it with replacement
// characters and store the events under a different name.
func checkStream(stream string) error {
	switch {
	case stream == "":
		return fmt.Errorf("esdb: empty stream name")
	case strings.HasPrefix(stream, "$"):
		return fmt.Errorf("esdb: stream name %q is reserved for EventStoreDB system streams", stream)
	case !utf8.ValidString(stream):
		return fmt.Errorf("esdb: stream name %q is not valid UTF-8", stream)
	}
	return nil
}

// isSystem reports whether a recorded event belongs to EventStoreDB itself
// and not to xmppd: a system stream ("$stats-...", "$$account-...") or a
// system event type ("$metadata", "$>" links, "$ProjectionUpdated", ...).
// Reads of $all skip these; the subscription also filters them on the
// server with esdb.ExcludeSystemEventsFilter, which checks the type only.
func isSystem(rec *esdb.RecordedEvent) bool {
	return strings.HasPrefix(rec.StreamID, "$") || strings.HasPrefix(rec.EventType, "$")
}
