package events

// registerUpcasters adds every schema step xmppd has shipped. Each step
// gets a golden file for the old version in testdata/golden, decoded by
// TestGoldenFiles, so that old logs keep replaying.
//
// The v1 catalogue is the first: no event type has an older schema yet.
func registerUpcasters(c *Codec) {}
