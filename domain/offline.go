package domain

import "fmt"

// OfflineLimit bounds what one account may have waiting in offline
// storage (XEP-0160), so that one account cannot fill the disk that
// everyone's log lives on. A field of zero or less is no limit.
type OfflineLimit struct {
	// Messages is how many messages may wait.
	Messages int
	// Bytes is how many bytes of stanzas may wait.
	Bytes int
}

// DefaultOfflineLimit is 5,000 messages and 32 MiB per account.
func DefaultOfflineLimit() OfflineLimit { return OfflineLimit{Messages: 5000, Bytes: 32 << 20} }

// AdmitOffline decides whether a message of size bytes may join the
// count messages of total bytes already waiting. Over the limit it is
// refused as XEP-0160 section 3 says ("the recipient's offline message
// queue is full"): service-unavailable to the sender.
func AdmitOffline(l OfflineLimit, count, total, size int) error {
	switch {
	case l.Messages > 0 && count+1 > l.Messages:
		return newError("store offline", ServiceUnavailable, fmt.Sprintf("offline storage full (%d messages)", l.Messages))
	case l.Bytes > 0 && total+size > l.Bytes:
		return newError("store offline", ServiceUnavailable, fmt.Sprintf("offline storage full (%d bytes)", l.Bytes))
	}
	return nil
}
