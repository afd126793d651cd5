package domain

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"xmppd/events"
	"xmppd/stanza"
)

// XEP-0153 (vCard-Based Avatars) and XEP-0398 (User Avatar to vCard-Based
// Avatars Conversion): the account's avatar, as the hash the server puts
// in its user's presence (XEP-0398 section 4) and as the PHOTO of its
// vCard (section 3.1, done as the view of section 5.2: nothing is
// written; the log keeps what the user published).
//
// Both avatars are folded from the account's stream when they change
// (Apply), so that presence, the hottest path, reads two strings and
// never decodes an image.

// avatar is the folded state.
type avatar struct {
	// vcard is the lowercase hex SHA-1 of the decoded BINVAL of the
	// vCard's PHOTO (XEP-0153 section 3.1); "" when there is none.
	vcard string
	// pep is the XEP-0084 avatar: the id and type of the first <info/>
	// with no 'url' in the last metadata item (XEP-0398 3.1: "MUST pick
	// the info element that does not point to an exernal URL"), kept only
	// when the data node holds the item of that id and its bytes hash to
	// it (3.1: "SHOULD verify that the SHA-1 hash of the image matches
	// the id"). An avatar that could not be served as a vCard PHOTO is not
	// advertised as one. Empty metadata (XEP-0084 3.5, avatar publishing
	// disabled) is no PEP avatar.
	pep, pepType string
}

// applyAvatar folds the events that change an avatar; Apply calls it
// after the PEP and vCard state is folded.
func (a *Account) applyAvatar(p events.Payload) {
	switch e := p.(type) {
	case events.VCardSet:
		a.avatar.vcard = vcardPhotoHash(e.XML)
	case events.AccountDeleted:
		a.avatar = avatar{}
	case events.PEPPublished:
		a.refoldPEPAvatar(e.Node)
	case events.PEPRetracted:
		a.refoldPEPAvatar(e.Node)
	case events.PEPNodeDeleted:
		a.refoldPEPAvatar(e.Node)
	case events.PEPNodeConfigured:
		a.refoldPEPAvatar(e.Node) // a smaller max_items may drop items
	}
}

// refoldPEPAvatar recomputes the PEP avatar after a change to node, if
// node is one of the two avatar nodes.
func (a *Account) refoldPEPAvatar(node string) {
	if node != stanza.NSAvatarMetadata && node != stanza.NSAvatarData {
		return
	}
	a.avatar.pep, a.avatar.pepType = "", ""
	meta, ok := a.pep[stanza.NSAvatarMetadata]
	if !ok {
		return
	}
	last, ok := meta.Last()
	if !ok {
		return
	}
	id, typ := metadataInfo(last.XML)
	if id == "" {
		return
	}
	if b64, ok := a.avatarData(id); ok && sha1Hex(decodeBase64(b64)) == id {
		a.avatar.pep, a.avatar.pepType = id, typ
	}
}

// avatarData returns the data node's item with the given id and the
// base64 text of its <data/> payload (XEP-0084 4.1).
func (a *Account) avatarData(id string) (string, bool) {
	n, ok := a.pep[stanza.NSAvatarData]
	if !ok {
		return "", false
	}
	for _, it := range n.Items {
		if it.ID != id {
			continue
		}
		el, err := stanza.ParseBytes([]byte(it.XML), stanza.Limits{MaxDepth: 4, MaxNodes: 1 << 12})
		if err != nil || el.Name.Space != stanza.NSAvatarData || el.Name.Local != "data" {
			return "", false
		}
		return el.Text(), true
	}
	return "", false
}

// metadataInfo returns the id (lowercased) and type of the first <info/>
// of a metadata payload with no 'url' and an id that is a SHA-1 in hex
// (XEP-0084 4.2.1: "the SHA-1 hash of the image data"); "" if none.
func metadataInfo(xml string) (id, typ string) {
	el, err := stanza.ParseBytes([]byte(xml), stanza.Limits{MaxDepth: 8, MaxNodes: 1 << 12})
	if err != nil || el.Name.Space != stanza.NSAvatarMetadata || el.Name.Local != "metadata" {
		return "", ""
	}
	for _, info := range el.Elements() {
		if info.Name.Local != "info" || info.Name.Space != stanza.NSAvatarMetadata || info.Attr("url") != "" {
			continue
		}
		if id := strings.ToLower(info.Attr("id")); isSHA1Hex(id) {
			return id, info.Attr("type")
		}
	}
	return "", ""
}

// vcardPhotoHash is XEP-0153 section 3.1's hash of a serialised vCard:
// the SHA-1 of its PHOTO's BINVAL, decoded; "" for a vCard with no
// photo, an EXTVAL only (4.5 #2), or a BINVAL that is not base64.
func vcardPhotoHash(xml string) string {
	el, err := stanza.ParseBytes([]byte(xml), stanza.Limits{MaxDepth: 16, MaxNodes: 1 << 16})
	if err != nil {
		return ""
	}
	photo := el.Child("PHOTO", stanza.NSVCard)
	if photo == nil {
		return ""
	}
	bin := photo.Child("BINVAL", stanza.NSVCard)
	if bin == nil {
		return ""
	}
	data := decodeBase64(bin.Text())
	if len(data) == 0 {
		return ""
	}
	return sha1Hex(data)
}

// decodeBase64 decodes base64 text, ignoring the white space vCards wrap
// it in (XEP-0054 examples); nil if it is not base64.
func decodeBase64(s string) []byte {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil
	}
	return b
}

func sha1Hex(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

func isSHA1Hex(s string) bool {
	if len(s) != 2*sha1.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// pepAvatarFor reports whether the PEP avatar exists and both avatar
// nodes pass mayRead (XEP-0398 section 7: "has access to both PEP
// nodes").
func (a *Account) pepAvatarFor(mayRead func(n *PEPNode) bool) bool {
	if a.avatar.pep == "" {
		return false
	}
	data, meta := a.pep[stanza.NSAvatarData], a.pep[stanza.NSAvatarMetadata]
	return data != nil && meta != nil && mayRead(data) && mayRead(meta)
}

// AvatarHash is the hash to advertise to requester (a bare JID) in
// XEP-0153's <photo/>: the PEP avatar's when requester may read both
// avatar nodes, else the vCard photo's, which anyone may read (XEP-0054
// section 3.3), else "" (no avatar: an empty <photo/>, XEP-0153 4.1 #3).
// It is always the hash of the PHOTO a vCard get by requester returns
// (VCardPhoto), so a XEP-0153 client that fetches the vCard on a new hash
// finds that image.
func (a *Account) AvatarHash(requester string) string {
	if a.pepAvatarFor(func(n *PEPNode) bool { return a.PEPMayRead(requester, n) }) {
		return a.avatar.pep
	}
	return a.avatar.vcard
}

// SubscriberAvatarHash is AvatarHash for the account's presence
// subscribers, to whom broadcast presence goes (RFC 6121 4.2.2, 4.4.2)
// and whose probes the stored presence answers (4.3.2): under the
// presence and open access models they may read a node; under whitelist
// only the owner may.
func (a *Account) SubscriberAvatarHash() string {
	if a.pepAvatarFor(func(n *PEPNode) bool { return n.Config.AccessModel != AccessWhitelist }) {
		return a.avatar.pep
	}
	return a.avatar.vcard
}

// VCardPhoto returns the PEP avatar as the TYPE and BINVAL of a vCard
// PHOTO for requester (XEP-0398 3.1 and 5.2), if there is one and
// requester may read both avatar nodes (section 7); ok is false
// otherwise, and the stored vCard is answered as it is.
func (a *Account) VCardPhoto(requester string) (typ, binval string, ok bool) {
	if !a.pepAvatarFor(func(n *PEPNode) bool { return a.PEPMayRead(requester, n) }) {
		return "", "", false
	}
	b64, ok := a.avatarData(a.avatar.pep)
	if !ok {
		return "", "", false
	}
	return a.avatar.pepType, strings.TrimSpace(b64), true
}

// KeepsClientPhoto reports whether the server leaves a client's
// vcard-temp:x:update as it is, given whether it has a <photo/> child
// (hasPhoto) and that child's text. XEP-0398 section 4: the server MUST
// put its hash into "every available presence that does not contain an
// empty photo element"; an <x/> without <photo/> (XEP-0153 4.1 #2, "not
// yet ready") "MUST be overwritten"; a different non-empty hash "MAY be
// overwritten", and xmppd does overwrite it: the server's hash is that of
// the PHOTO a vCard get returns (AvatarHash), while a client's differing
// hash is one of an image other resources have since replaced (XEP-0153
// 4.3), which contacts could not fetch. An empty <photo/> is the client
// saying it has no image (XEP-0153 4.1 #3) or is resetting its hash (4.4),
// and is kept.
func KeepsClientPhoto(hasPhoto bool, photo string) bool {
	return hasPhoto && strings.TrimSpace(photo) == ""
}
