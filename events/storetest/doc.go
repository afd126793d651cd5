// Package storetest is the conformance suite every events.Store adapter
// runs: call Run from the adapter's tests with a function that opens a
// fresh or shared store.
//
// The suite is written for a shared, non-empty log (an EventStoreDB server
// used by many test runs): every subtest names its streams with a random
// tag, reads and subscribes from the head of the log as it was when the
// subtest started, and looks only at events of its own streams. It assumes
// positions are unique and increasing, never that they are contiguous.
package storetest
