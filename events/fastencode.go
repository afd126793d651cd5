package events

import "encoding/base64"

// New encodes the payload every archived message is stored as twice
// (archive.message_stored, one per party) without encoding/json's
// reflection, which was a twentieth of the server's CPU under archived
// chat (issue 13). The bytes are exactly those encoding/json writes
// (TestFastEncodeMatchesEncodingJSON): the hash chain covers them, and a
// reader cannot tell which wrote an event. Strings that encoding/json
// would escape (quotes, backslashes, control characters, anything beyond
// ASCII) are left to encoding/json.

// appendJSON appends p as New's encoding/json writes it, or reports
// false (and appends nothing) when a string needs escaping.
func (p ArchiveMessageStored) appendJSON(b []byte) ([]byte, bool) {
	if !plainASCII(p.ID) || !plainASCII(p.With) || !plainASCII(p.Direction) || !plainASCII(p.Content) {
		return b, false
	}
	s := p.Sealed
	if s != nil && (!plainASCII(s.Account) || !plainASCII(s.Period) || !plainASCII(s.Gone)) {
		return b, false
	}
	b = append(b, `{"id":"`...)
	b = append(b, p.ID...)
	b = append(b, `","with":"`...)
	b = append(b, p.With...)
	b = append(b, `","direction":"`...)
	b = append(b, p.Direction...)
	b = append(b, `","content":"`...)
	b = append(b, p.Content...)
	b = append(b, '"')
	if s != nil {
		b = append(b, `,"sealed":{"account":"`...)
		b = append(b, s.Account...)
		b = append(b, `","period":"`...)
		b = append(b, s.Period...)
		b = append(b, `","nonce":`...)
		b = appendBase64(b, s.Nonce)
		if len(s.Box) > 0 {
			b = append(b, `,"box":`...)
			b = appendBase64(b, s.Box)
		}
		if s.Gone != "" {
			b = append(b, `,"gone":"`...)
			b = append(b, s.Gone...)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	return append(b, '}'), true
}

// appendBase64 appends v as encoding/json writes a []byte: standard
// base64 in quotes, null for nil.
func appendBase64(b, v []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

// plainASCII reports whether encoding/json writes s as it is between
// quotes: printable ASCII without '"' or '\\' (with HTML escaping off,
// '<', '>' and '&' stay as they are).
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// sealedBox is p's ciphertext, if sealed, for sizing its encoding.
func (p ArchiveMessageStored) sealedBox() []byte {
	if p.Sealed == nil {
		return nil
	}
	return p.Sealed.Box
}
