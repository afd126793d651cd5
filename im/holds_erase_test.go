package im_test

import (
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppd/events"
	"xmppd/im"
)

// holdingDestroyer is the key store, with a legal hold placed by another
// process (as `xmppd hold add` beside `xmppd user erase`) at the moment an
// erasure starts destroying keys.
type holdingDestroyer struct {
	t       *testing.T
	keys    im.KeyDestroyer
	store   events.Store
	holdErr error
}

func (d *holdingDestroyer) Destroy(account, why string) ([]string, error) {
	d.holdErr = (im.Holds{Store: d.store}).Place(d.t.Context(), jid.MustParse(account), "C-9", "late", "test", events.Meta{Actor: "admin:test"})
	return d.keys.Destroy(account, why)
}

// Issue 13 "Legal hold": a hold and an erasure of the same account, run
// at once by two administrators, never end with a held account's keys
// destroyed. The erasure records erasure.begun in the compliance stream
// at the version whose holds it checked, before any key goes; a hold
// placed after that is refused with a message saying what to do, and a
// hold is accepted again once the address is a new account.
func TestHoldPlacedDuringErasureIsRefused(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	alice := jid.MustParse("alice@localhost")
	d := &holdingDestroyer{t: t, keys: e.keys, store: e.store}
	if _, err := (im.Accounts{Store: e.store}).Erase(t.Context(), alice, d, events.Meta{Actor: "admin:test"}); err != nil {
		t.Fatalf("erase: %v", err)
	}
	if d.holdErr == nil || !strings.Contains(d.holdErr.Error(), "an erasure of the account began") {
		t.Fatalf("a hold placed while the erasure destroyed keys: got %v, want it refused", d.holdErr)
	}
	_, ps := e.readStream(events.ComplianceStream("localhost"))
	if begun := ofType[events.ErasureBegun](ps); len(begun) != 1 || begun[0].Account != "alice@localhost" {
		t.Fatalf("compliance stream holds %v, want one erasure.begun of alice", ps)
	}
	if held := ofType[events.HoldPlaced](ps); len(held) != 0 {
		t.Fatalf("compliance stream holds a hold placed during the erasure: %v", held)
	}

	// The address registered again: a new person's account.
	if err := (im.Accounts{Store: e.store}).Create(t.Context(), alice, events.CredentialsSet{}, events.Meta{Actor: "admin:test"}); err != nil {
		t.Fatalf("create alice again: %v", err)
	}
	if err := (im.Holds{Store: e.store}).Place(t.Context(), alice, "C-10", "new matter", "test", events.Meta{Actor: "admin:test"}); err != nil {
		t.Fatalf("hold on the new account: %v", err)
	}
}
