// Package replay answers forensic questions from the event log: what an
// account's roster, pending requests, pre-approvals and presence were at
// any past instant (At, All), what changed between two instants (Diff),
// the story of an account told one event a line (Audit), and the chain of
// RFC 6121 Appendix A transitions behind one subscription state (Explain).
//
// Every state is rebuilt with projections.Views, the same code the server
// routes from, so a replayed view equals the view the server had. Replay
// reads one account's streams (account-, presence-, offline-<bare JID>)
// with ReadStream and merges them in log position order: the cost of a
// question about one account grows with that account's history, not with
// the log's size. Nothing here writes to the store.
//
// Files:
//
//   - cutoff.go: Cutoff, "as of" a log position or an instant.
//   - read.go: one account's streams merged in position order; the list
//     of accounts a log knows.
//   - state.go: State, one account's views at one moment, and the folder
//     that builds it.
//   - at.go: At and All.
//   - diff.go: Diff, the changes between two instants.
//   - audit.go: Audit and its Filter.
//   - explain.go: Explain, joining both sides of each subscription stanza.
//   - describe.go: the plain words for Appendix A inputs.
//   - archive.go: ArchiveMessages and SearchArchive, one account's
//     message archive read back and opened for eDiscovery (issue 13).
//   - archive_audit.go: how audit tells an export or search of an archive
//     (the compliance stream).
package replay
