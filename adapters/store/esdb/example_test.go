package esdb_test

import (
	"fmt"

	"xmppd/adapters/store/esdb"
)

// Config.Validate reports every problem at once, before Open dials; a
// misspelt setting is an error, not a warning the client prints and
// ignores. (Open and Append against a node are shown by
// TestOpenAppendFirstEvent, which needs a node: the fake one, or a real
// one named by XMPPD_TEST_ESDB_URL.)
func ExampleConfig_Validate() {
	fmt.Println(esdb.Config{URL: "esdb://localhost:2113?tls=false"}.Validate())
	fmt.Println(esdb.Config{URL: "esdb://localhost:2113?tsl=false", AppendRetries: -1}.Validate())
	// Output:
	// <nil>
	// esdb: invalid config: url "esdb://localhost:2113?tsl=false": unknown setting "tsl"
	// append retries -1: must not be negative
}
