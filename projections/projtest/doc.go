// Package projtest generates event logs of realistic shape for the tests
// and benchmarks of projections and replay: many accounts, rosters built
// by subscription handshakes whose transitions all come from the Appendix A
// state machine, frequent sessions and presence. It is test support, used
// only from _test files.
package projtest
