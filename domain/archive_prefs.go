package domain

import (
	"fmt"
	"slices"
	"strings"
)

// Archiving preferences (XEP-0441) and the domain's archive policy: which
// one-to-one messages an account's archive keeps. The rule is decided here
// for one party's copy at a time; the sender's and the recipient's copies
// of a message are decided apart, each under its own account's
// preferences. Not archiving a copy never stops the message: it is
// delivered as any message is.

// ArchivePolicy is the domain's archive policy (config archive.policy).
type ArchivePolicy string

const (
	// ArchivePolicyUser lets each account choose with XEP-0441
	// preferences; an account that chose nothing has every message
	// archived (ArchiveDefaultAlways).
	ArchivePolicyUser ArchivePolicy = "user"
	// ArchivePolicyAlways archives every message XEP-0313 6.1.1 names
	// whatever an account's preferences say: a deployment bound to keep
	// its records (issue 13). Preferences are then served as the forced
	// 'always' and a client cannot change them (XEP-0441 2.1:
	// 'not-allowed', "the server generally does not allow changing of
	// configuration preferences").
	ArchivePolicyAlways ArchivePolicy = "always"
)

// Validate says what is wrong with p.
func (p ArchivePolicy) Validate() error {
	switch p {
	case "", ArchivePolicyUser, ArchivePolicyAlways:
		return nil
	}
	return fmt.Errorf("archive policy %q is neither %q nor %q", string(p), ArchivePolicyUser, ArchivePolicyAlways)
}

// The values of XEP-0441's 'default' attribute (2.1.1).
const (
	ArchiveDefaultAlways = "always"
	ArchiveDefaultNever  = "never"
	ArchiveDefaultRoster = "roster"
)

// ArchivePrefs are an account's XEP-0441 preferences. The JIDs are in
// their canonical form (RFC 7622), bare or full.
type ArchivePrefs struct {
	Default       string
	Always, Never []string
}

// DefaultArchivePrefs are the preferences of an account that set none:
// everything is archived, as XEP-0313 6.1.1 describes.
func DefaultArchivePrefs() ArchivePrefs { return ArchivePrefs{Default: ArchiveDefaultAlways} }

// ValidArchiveDefault reports whether d is one of XEP-0441 2.1.1's values.
func ValidArchiveDefault(d string) bool {
	return d == ArchiveDefaultAlways || d == ArchiveDefaultNever || d == ArchiveDefaultRoster
}

// Applied returns the preferences in force under policy: under
// ArchivePolicyAlways the forced 'always' with empty lists, whatever p is.
func (p ArchivePrefs) Applied(policy ArchivePolicy) ArchivePrefs {
	if policy == ArchivePolicyAlways {
		return DefaultArchivePrefs()
	}
	if !ValidArchiveDefault(p.Default) {
		p.Default = ArchiveDefaultAlways
	}
	return p
}

// ArchiveKeeps reports whether an account's archive keeps a message
// exchanged with target, under policy and the account's preferences p.
// target is the other party as XEP-0441 2.3.2 and 2.3.3 name it: the 'to'
// of an outgoing message, the 'from' of an incoming one. inRoster says
// whether target's bare JID is in the account's roster (2.1.1 'roster').
//
// JID matching is XEP-0441 2.3.1's: a listed full JID is compared with
// target as it is, a listed bare JID with target's bare JID. The lists
// take precedence over the default (2.1.2, 2.1.3); a full JID listed
// matches more closely than a bare one, so "always romeo@x" with "never
// romeo@x/phone" keeps everything but the phone's messages. A JID in both
// lists at the same closeness is not archived: the user asked for both,
// and not keeping is what they can undo by changing their lists.
func ArchiveKeeps(policy ArchivePolicy, p ArchivePrefs, target string, inRoster bool) bool {
	if policy == ArchivePolicyAlways {
		return true
	}
	bare, _, full := strings.Cut(target, "/")
	if full {
		if keep, ok := listed(p, target); ok {
			return keep
		}
	}
	if keep, ok := listed(p, bare); ok {
		return keep
	}
	switch p.Default {
	case ArchiveDefaultNever:
		return false
	case ArchiveDefaultRoster:
		return inRoster
	}
	return true // ArchiveDefaultAlways, or none set
}

// listed reports whether p's lists name j, and if so whether to keep.
func listed(p ArchivePrefs, j string) (keep, ok bool) {
	if slices.Contains(p.Never, j) {
		return false, true
	}
	if slices.Contains(p.Always, j) {
		return true, true
	}
	return false, false
}
