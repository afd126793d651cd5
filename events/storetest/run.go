package storetest

import (
	"sync"
	"testing"

	"xmppd/events"
)

// Run runs the conformance suite. open is called once per subtest and
// returns a store ready for use; Run closes every store it is given, once,
// when the subtest ends (so open must not close it). The stores may share
// one log, and that log may already hold other events.
func Run(t *testing.T, open func(t *testing.T) events.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s events.Store, closeStore func() error)
	}{
		{"AppendFillsEveryFieldAndReadsBackExactly", testAppendReadBack},
		{"ExpectedVersionSemantics", testExpectedVersion},
		{"ConflictingBatchCommitsNothing", testConflictCommitsNothing},
		{"RacingAppendersWithSameExpectedVersionOneWins", testRacingSameVersion},
		{"RacingAppendersWithAnyKeepEachBatchContiguous", testRacingAny},
		{"ReadStreamFromMiddleVersion", testReadStreamFromMiddle},
		{"ReadAllIsCommitOrderAcrossConcurrentStreams", testReadAllOrder},
		{"SubscribeHandsOverFromCatchUpToLiveExactlyOnce", testSubscribeHandOver},
		{"SubscribeFromMiddlePosition", testSubscribeFromMiddle},
		{"LargeBatchIsAtomic", testLargeBatch},
		{"NonASCIIStreamNamesAndPayloadsRoundTrip", testNonASCII},
		{"StreamHeadsMatchChains", testStreamHeads},
		{"CancelledContextFailsPromptly", testCancelled},
		{"SubscribeEndsWithContextError", testSubscribeEndsWithCtx},
		{"CallsAfterCloseFailWithErrClosed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			var once sync.Once
			var closeErr error
			closeStore := func() error {
				once.Do(func() { closeErr = s.Close() })
				return closeErr
			}
			t.Cleanup(func() { closeStore() })
			tc.fn(t, s, closeStore)
		})
	}
}
