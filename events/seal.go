package events

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Personal content (DESIGN.md "Personal content and keys", issue 13) is
// sealed before it is appended: the clear fields of a vcard.set,
// private.set, pep.published, presence.available, presence.directed,
// offline.queued or archive.message_stored payload are emptied
// and their values travel, encrypted, in the payload's Sealed field. The
// key lives in a key store outside the log, one per account and month;
// destroying it (erasure, retention) leaves the ciphertext unreadable in
// every copy of the log, while the hash chain, which covers the
// ciphertext, still verifies without any key.
//
// The cipher is AES-256-GCM from the standard library: events stays pure
// (no third-party code, see imports_test.go), every amd64 and arm64 server
// has AES instructions, and a random 96-bit nonce is safe for far more
// events than one account writes in a month (NIST SP 800-38D 8.3 bounds
// one key to 2^32 random nonces). XChaCha20-Poly1305 would allow random
// nonces without that bound but needs golang.org/x/crypto in this pure
// package.

// KeyID names one key: an account (bare JID) and a period, by default the
// UTC month of the events it seals ("2026-12"; keys.period: KeyPeriod),
// followed, for a later generation of
// a destroyed month's key, by "~2", "~3"... (adapters/keystore).
type KeyID struct {
	Account string `json:"account"`
	Period  string `json:"period"`
}

// PeriodOf is the period of an event recorded at t.
func PeriodOf(t time.Time) string { return t.UTC().Format("2006-01") }

func (k KeyID) String() string { return k.Account + " " + k.Period }

// Sealed is the encrypted form of a payload's personal fields.
type Sealed struct {
	KeyID
	Nonce []byte `json:"nonce"`
	// Box is the AES-256-GCM ciphertext of the fields, each as its
	// length (uvarint) and bytes, in the order the payload type gives
	// them; the additional data is the event type and the key id. OpenPersonal empties it.
	Box []byte `json:"box,omitempty"`
	// Gone is never stored: OpenPersonal sets it when the key is gone, to why
	// ("erased", "expired"), and leaves the personal fields empty.
	Gone string `json:"gone,omitempty"`
}

// Gone markers, as OpenPersonal and KeyLookup report them.
const (
	GoneErased  = "erased"  // the account was erased (GDPR art. 17)
	GoneExpired = "expired" // retention destroyed the period's key
	GoneMissing = "missing" // the key store never held the key (a log moved without its keys)
)

// KeySource gives the key that seals new content of an account's month
// (month.Period is PeriodOf the event's time, or the source's
// PeriodName: keyperiod.go): the id of the key to seal
// under, which a key store may give a later generation of if the month's
// key was destroyed, and its cipher, NewAEAD of the key, made on first
// use. The server holds one. The cipher, not the key, crosses the port:
// the key store builds it once per key and keeps the bytes to itself.
type KeySource interface {
	Key(month KeyID) (KeyID, cipher.AEAD, error)
}

// KeyLookup gives the cipher that opens sealed content, if its key still
// exists: gone is "", or gone says why there is none (one of the Gone
// markers) and the cipher is nil. An error is a failure of the key store
// itself, never a destroyed key.
type KeyLookup interface {
	Lookup(id KeyID) (aead cipher.AEAD, gone string, err error)
}

// personal is a payload with fields that are sealed.
type personal interface {
	Payload
	// secrets returns the personal fields' values and the Sealed field.
	secrets() ([]string, *Sealed)
	// with returns the payload with the personal fields set to vals and
	// Sealed to s.
	with(vals []string, s *Sealed) Payload
}

// IsSealable reports whether events of type typ carry personal content.
func IsSealable(typ string) bool {
	switch typ {
	case TypeVCardSet, TypePrivateSet, TypePEPPublished, TypePresenceAvailable, TypeArchiveMessageStored,
		TypeDirectedPresence, TypeOfflineQueued:
		return true
	}
	return false
}

// SealPersonal returns p with its personal fields encrypted under account's key
// for the period of now, or p itself if it has none or is sealed already.
func SealPersonal(p Payload, keys KeySource, account string, now time.Time) (Payload, error) {
	x, ok := p.(personal)
	if !ok {
		return p, nil
	}
	vals, s := x.secrets()
	if s != nil {
		return p, nil
	}
	month := KeyID{Account: account, Period: periodOf(keys, now)}
	id, aead, err := keys.Key(month)
	if err != nil {
		return nil, fmt.Errorf("events: seal %s: key %s: %w", p.EventType(), month, err)
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	box := aead.Seal(nil, nonce, packFields(vals), additional(p.EventType(), id))
	return x.with(make([]string, len(vals)), &Sealed{KeyID: id, Nonce: nonce, Box: box}), nil
}

// ErrUnsealable is a sealed field that does not open with its key: it was
// altered, or sealed under another key (verify finds the former).
var ErrUnsealable = errors.New("events: sealed content does not open with its key")

// OpenPersonal returns p with its personal fields decrypted, or, when the key is
// gone, left empty with Sealed.Gone saying why: a destroyed key is never
// an error. A payload with nothing sealed (any event written before
// sealing existed) is returned as it is.
func OpenPersonal(p Payload, keys KeyLookup) (Payload, error) {
	x, ok := p.(personal)
	if !ok {
		return p, nil
	}
	vals, s := x.secrets()
	if s == nil || s.Box == nil {
		return p, nil
	}
	opened := *s
	opened.Box = nil
	if keys == nil {
		opened.Gone = GoneMissing
		return x.with(vals, &opened), nil
	}
	aead, gone, err := keys.Lookup(s.KeyID)
	if err != nil {
		return nil, fmt.Errorf("events: open %s: key %s: %w", p.EventType(), s.KeyID, err)
	}
	if gone != "" {
		opened.Gone = gone
		return x.with(vals, &opened), nil
	}
	if len(s.Nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("events: open %s: %w", p.EventType(), ErrUnsealable)
	}
	clear, err := aead.Open(nil, s.Nonce, s.Box, additional(p.EventType(), s.KeyID))
	if err != nil {
		return nil, fmt.Errorf("events: open %s: %w", p.EventType(), ErrUnsealable)
	}
	got, ok := unpackFields(clear, len(vals))
	if !ok {
		return nil, fmt.Errorf("events: open %s: %w", p.EventType(), ErrUnsealable)
	}
	return x.with(got, &opened), nil
}

// packFields is the plaintext of a box: each field as its length
// (uvarint) and its bytes, in the order the payload type gives them.
func packFields(vals []string) []byte {
	n := 0
	for _, v := range vals {
		n += binary.MaxVarintLen64 + len(v)
	}
	b := make([]byte, 0, n)
	for _, v := range vals {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b
}

// unpackFields reads packFields' n fields, all of b.
func unpackFields(b []byte, n int) ([]string, bool) {
	out := make([]string, n)
	all := string(b) // one allocation for every field
	for i := range out {
		var l uint64
		k := 0
		for shift := 0; ; shift += 7 {
			if k == len(all) || shift > 56 {
				return nil, false
			}
			c := all[k]
			k++
			l |= uint64(c&0x7f) << shift
			if c < 0x80 {
				break
			}
		}
		if uint64(len(all)-k) < l {
			return nil, false
		}
		out[i], all = all[k:k+int(l)], all[k+int(l):]
	}
	return out, all == ""
}

// NewAEAD is the cipher of a 32-byte key: AES-256-GCM with the standard
// 96-bit nonce. Key stores build one per key (KeySource, KeyLookup).
func NewAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("key of %d bytes, want 32", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// additional binds a box to its event type and key: a box moved into
// another type's event or another account's does not open.
func additional(typ string, id KeyID) []byte {
	return []byte(typ + "\x00" + id.Account + "\x00" + id.Period)
}

func (p VCardSet) secrets() ([]string, *Sealed) { return []string{p.XML}, p.Sealed }
func (p VCardSet) with(v []string, s *Sealed) Payload {
	p.XML, p.Sealed = v[0], s
	return p
}
func (p PrivateSet) secrets() ([]string, *Sealed) { return []string{p.XML}, p.Sealed }
func (p PrivateSet) with(v []string, s *Sealed) Payload {
	p.XML, p.Sealed = v[0], s
	return p
}
func (p PEPPublished) secrets() ([]string, *Sealed) { return []string{p.XML}, p.Sealed }
func (p PEPPublished) with(v []string, s *Sealed) Payload {
	p.XML, p.Sealed = v[0], s
	return p
}
func (p PresenceAvailable) secrets() ([]string, *Sealed) {
	return []string{p.Status, p.Stanza}, p.Sealed
}
func (p PresenceAvailable) with(v []string, s *Sealed) Payload {
	p.Status, p.Stanza, p.Sealed = v[0], v[1], s
	return p
}
func (p DirectedPresence) secrets() ([]string, *Sealed) { return []string{p.Stanza}, p.Sealed }
func (p DirectedPresence) with(v []string, s *Sealed) Payload {
	p.Stanza, p.Sealed = v[0], s
	return p
}
func (p OfflineQueued) secrets() ([]string, *Sealed) { return []string{p.Stanza}, p.Sealed }
func (p OfflineQueued) with(v []string, s *Sealed) Payload {
	p.Stanza, p.Sealed = v[0], s
	return p
}

// GoneOf is why p's personal content is gone ("" if it is not).
func GoneOf(p Payload) string {
	if x, ok := p.(personal); ok {
		if _, s := x.secrets(); s != nil {
			return s.Gone
		}
	}
	return ""
}
