package main_test

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestSlixmppAvatar: XEP-0398 with slixmpp's own xep_0084 and xep_0153
// plugins against the real binary. Alice's account lists
// urn:xmpp:pep-vcard-conversion:0 (section 2); before any avatar bob sees
// an empty <photo/> in her presence (XEP-0153 4.1 #3); alice publishes
// through PEP only, and her client's XEP-0153 hash reset (4.4) finds the
// PEP avatar in her own vCard (3.1, 5.2); bob sees its id in her presence
// (section 4) and reads the image as her vCard's PHOTO, which she never
// set.
func TestSlixmppAvatar(t *testing.T) {
	requireSlixmpp(t)
	dir := t.TempDir()
	mustRun(t, dir, "", "user", "add", "alice@localhost", "--password", "alice-pw")
	mustRun(t, dir, "", "user", "add", "bob@localhost", "--password", "bob-pw")
	srv := startServe(t, dir)
	out := runSlixmpp(t, srv, "avatar_slixmpp.py")
	var res struct {
		Features     []string `json:"features"`
		PhotosBefore []string `json:"photos_before"`
		AvatarID     string   `json:"avatar_id"`
		OwnHash      string   `json:"alice_own_hash"`
		Photos       []string `json:"photos"`
		VCardType    string   `json:"vcard_type"`
		VCardPhotoOK bool     `json:"vcard_photo_ok"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("slixmpp output %q: %v", out, err)
	}
	if !slices.Contains(res.Features, "urn:xmpp:pep-vcard-conversion:0") {
		t.Errorf("section 2: account features %v", res.Features)
	}
	if len(res.PhotosBefore) == 0 || slices.ContainsFunc(res.PhotosBefore, func(p string) bool { return p != "" }) {
		t.Errorf("XEP-0153 4.1 #3: before any avatar bob should see empty photos, saw %q", res.PhotosBefore)
	}
	if res.OwnHash != res.AvatarID {
		t.Errorf("alice's client hashed her own vCard to %q, want the PEP avatar %q", res.OwnHash, res.AvatarID)
	}
	if !slices.Contains(res.Photos, res.AvatarID) {
		t.Errorf("section 4: bob saw photos %q, want %q among them", res.Photos, res.AvatarID)
	}
	if res.VCardType != "image/png" || !res.VCardPhotoOK {
		t.Errorf("5.2: alice's vCard as bob reads it: type %q, image intact %v", res.VCardType, res.VCardPhotoOK)
	}
}
