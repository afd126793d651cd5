package domain_test

import (
	"testing"

	"xmppd/domain"
)

// TestArchiveKeeps names each rule of XEP-0441 that ArchiveKeeps applies:
// the default (2.1.1), the lists (2.1.2, 2.1.3), JID matching (2.3.1), and
// the domain policy that overrides them.
func TestArchiveKeeps(t *testing.T) {
	user, always := domain.ArchivePolicyUser, domain.ArchivePolicyAlways
	prefs := func(def string, alw, nev []string) domain.ArchivePrefs {
		return domain.ArchivePrefs{Default: def, Always: alw, Never: nev}
	}
	romeo := []string{"romeo@x"}
	phone := []string{"romeo@x/phone"}
	for _, c := range []struct {
		name     string
		policy   domain.ArchivePolicy
		p        domain.ArchivePrefs
		target   string
		inRoster bool
		want     bool
	}{
		{"no prefs set: everything archived", user, domain.ArchivePrefs{}, "romeo@x/a", false, true},
		{"default prefs", user, domain.DefaultArchivePrefs(), "romeo@x/a", false, true},
		{"2.1.1 always", user, prefs("always", nil, nil), "romeo@x/a", false, true},
		{"2.1.1 never", user, prefs("never", nil, nil), "romeo@x/a", true, false},
		{"2.1.1 roster, in roster", user, prefs("roster", nil, nil), "romeo@x/a", true, true},
		{"2.1.1 roster, stranger", user, prefs("roster", nil, nil), "romeo@x/a", false, false},
		{"2.1.3 never list beats default always", user, prefs("always", nil, romeo), "romeo@x/a", true, false},
		{"2.1.2 always list beats default never", user, prefs("never", romeo, nil), "romeo@x/a", false, true},
		{"2.1.2 always list beats roster default for a stranger", user, prefs("roster", romeo, nil), "romeo@x", false, true},
		{"2.3.1 bare listed matches bare target", user, prefs("always", nil, romeo), "romeo@x", false, false},
		{"2.3.1 full listed matches that resource", user, prefs("always", nil, phone), "romeo@x/phone", false, false},
		{"2.3.1 full listed does not match another resource", user, prefs("always", nil, phone), "romeo@x/desk", false, true},
		{"2.3.1 full listed does not match the bare target", user, prefs("always", nil, phone), "romeo@x", false, true},
		{"full listed is closer than bare listed", user, prefs("always", romeo, phone), "romeo@x/phone", false, false},
		{"full listed always is closer than bare never", user, prefs("always", phone, romeo), "romeo@x/phone", false, true},
		{"in both lists: not archived", user, prefs("always", romeo, romeo), "romeo@x/a", false, false},
		{"other JIDs follow the default", user, prefs("never", romeo, nil), "juliet@x/a", false, false},
		{"policy always overrides never", always, prefs("never", nil, romeo), "romeo@x/a", false, true},
		{"policy always overrides roster", always, prefs("roster", nil, nil), "romeo@x/a", false, true},
	} {
		if got := domain.ArchiveKeeps(c.policy, c.p, c.target, c.inRoster); got != c.want {
			t.Errorf("%s: ArchiveKeeps(%s, %+v, %s, roster %v) = %v, want %v", c.name, c.policy, c.p, c.target, c.inRoster, got, c.want)
		}
	}
}

// TestArchivePrefsApplied: what a prefs get answers (XEP-0441 2.1).
func TestArchivePrefsApplied(t *testing.T) {
	mine := domain.ArchivePrefs{Default: "roster", Never: []string{"romeo@x"}}
	if got := mine.Applied(domain.ArchivePolicyUser); got.Default != "roster" || len(got.Never) != 1 {
		t.Errorf("user policy: %+v, want the account's own", got)
	}
	if got := mine.Applied(domain.ArchivePolicyAlways); got.Default != "always" || len(got.Never)+len(got.Always) != 0 {
		t.Errorf("policy always: %+v, want the forced always with empty lists", got)
	}
	if got := (domain.ArchivePrefs{}).Applied(domain.ArchivePolicyUser); got.Default != "always" {
		t.Errorf("nothing set: default %q, want always", got.Default)
	}
	if err := domain.ArchivePolicy("sometimes").Validate(); err == nil {
		t.Error("policy sometimes: no error")
	}
}
