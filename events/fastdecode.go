package events

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"unicode/utf8"
)

// The payloads of the commonest events (subscription changes, roster
// sets, available presence: 86% of a typical log) are decoded by hand when
// their data is exactly what New writes: the fields in declaration order,
// no whitespace, strings without escapes. That takes a rebuild's decoding
// from about 300 ns to about 80 ns an event. Anything else (a reordered or
// unknown key, an escape, a null, an older hand-edited log) returns false
// and goes to the general decoder, so the result is always what
// encoding/json would give; FuzzFastDecodersAgree holds them to it.

// fastDecoders are the hand-written decoders by event type, for Register.
// Each decodes into a value of its own and boxes it once: a generic or
// interface call of decodeFast would move the value to the heap first,
// two allocations an event.
var fastDecoders = map[string]func([]byte) (Payload, bool){
	TypeSubscriptionChanged: func(d []byte) (Payload, bool) { var v SubscriptionChanged; ok := v.decodeFast(d); return v, ok },
	TypeRosterItemSet:       func(d []byte) (Payload, bool) { var v RosterItemSet; ok := v.decodeFast(d); return v, ok },
	TypePresenceAvailable:   func(d []byte) (Payload, bool) { var v PresenceAvailable; ok := v.decodeFast(d); return v, ok },
}

// The readers below take apart an object as encoding/json writes a
// struct: keys one after another, no whitespace. Each returns the rest of
// the input and false when the input is not what it expects.

// cutKey consumes k, a key with the separator before it and the colon
// after (`{"contact":`, `,"cause":`).
func cutKey(r []byte, k string) ([]byte, bool) {
	if len(r) >= len(k) && string(r[:len(k)]) == k {
		return r[len(k):], true
	}
	return r, false
}

// cutString reads a string whose body needs no unescaping (plainString):
// its bytes, aliasing r, and the rest.
func cutString(r []byte) (s, rest []byte, ok bool) {
	s, rest, ok = cutQuoted(r)
	return s, rest, ok && plainString(s)
}

// cutQuoted reads a string up to the first quote, unchecked.
func cutQuoted(r []byte) (s, rest []byte, ok bool) {
	if len(r) == 0 || r[0] != '"' {
		return nil, r, false
	}
	end := bytes.IndexByte(r[1:], '"')
	if end < 0 {
		return nil, r, false
	}
	return r[1 : 1+end], r[2+end:], true
}

// cutEnum reads a string that is most likely one of known, returning the
// constant without allocating.
func cutEnum[S ~string](r []byte, known []S) (S, []byte, bool) {
	s, rest, ok := cutQuoted(r)
	if !ok {
		return "", r, false
	}
	for _, k := range known {
		if string(k) == string(s) {
			return k, rest, true
		}
	}
	return S(s), rest, plainString(s)
}

// cutInt reads an integer as encoding/json writes one (no leading zero,
// no fraction or exponent) that fits an int.
func cutInt(r []byte) (int, []byte, bool) {
	n := 0
	if n < len(r) && r[n] == '-' {
		n++
	}
	digits := n
	for n < len(r) && r[n] >= '0' && r[n] <= '9' {
		n++
	}
	if n == digits || n-digits > 1 && r[digits] == '0' || n-digits > 18 {
		return 0, r, false
	}
	v := 0
	for _, c := range r[digits:n] {
		v = v*10 + int(c-'0')
	}
	if digits == 1 {
		v = -v
	}
	return v, r[n:], true
}

// cutSpans reads a non-empty array of plain strings (omitempty leaves an
// empty one out), appending their bytes to spans.
func cutSpans(r []byte, spans [][]byte) ([][]byte, []byte, bool) {
	if len(r) == 0 || r[0] != '[' {
		return nil, r, false
	}
	r = r[1:]
	for {
		s, rest, ok := cutString(r)
		if !ok || len(rest) == 0 {
			return nil, r, false
		}
		spans = append(spans, s)
		switch rest[0] {
		case ',':
			r = rest[1:]
		case ']':
			return spans, rest[1:], true
		default:
			return nil, r, false
		}
	}
}

// joined copies parts into one allocation and returns it: the strings of
// one payload are kept, and dropped, together (a roster item's contact,
// name and groups; a presence's resource, show, status and stanza), and
// the caller cuts them out of it in order with cut.
func joined(size int, parts ...[]byte) string {
	var sb strings.Builder
	sb.Grow(size)
	for _, b := range parts {
		sb.Write(b)
	}
	return sb.String()
}

// cut returns the first n bytes of *all and moves past them.
func cut(all *string, n int) string {
	v := (*all)[:n]
	*all = (*all)[n:]
	return v
}

// plainString reports whether b, a JSON string's body, holds no escape,
// no control character and only valid UTF-8: encoding/json then decodes
// it to exactly these bytes. Eight bytes at a time while they are ASCII.
func plainString(b []byte) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		// Any byte >= 0x80, < 0x20 or equal to '\\' sets its high bit.
		bs := x ^ (lo * '\\')
		if (x|((x-lo*0x20)&^x)|((bs-lo)&^bs))&hi != 0 {
			return slowPlain(b)
		}
		b = b[8:]
	}
	return slowPlain(b)
}

func slowPlain(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '\\' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		i += size
	}
	return true
}

var (
	knownInputs = []SubscriptionInput{OutSubscribe, OutSubscribed, OutUnsubscribe, OutUnsubscribed,
		InSubscribe, InSubscribed, InUnsubscribe, InUnsubscribed}
	knownStates = []SubscriptionState{StateNone, StateNonePendingOut, StateNonePendingIn, StateNonePendingOutIn,
		StateTo, StateToPendingIn, StateFrom, StateFromPendingOut, StateBoth}
)

// field reads key and a plain string after it. An optional field that is
// not there reads as "" (omitempty left it out).
func field(d []byte, key string, optional bool) (string, []byte, bool) {
	s, r, ok := span(d, key, optional)
	return string(s), r, ok
}

// span is field without the copy: the string's bytes, aliasing d.
func span(d []byte, key string, optional bool) ([]byte, []byte, bool) {
	r, ok := cutKey(d, key)
	if !ok {
		return nil, d, optional
	}
	return cutString(r)
}

// enumField reads key and a string that is most likely one of known.
func enumField[S ~string](d []byte, key string, known []S) (S, []byte, bool) {
	r, ok := cutKey(d, key)
	if !ok {
		return "", d, false
	}
	return cutEnum(r, known)
}

func (p *SubscriptionChanged) decodeFast(d []byte) bool {
	ok := false
	if p.Contact, d, ok = field(d, `{"contact":`, false); !ok {
		return false
	}
	if p.Cause, d, ok = enumField(d, `,"cause":`, knownInputs); !ok {
		return false
	}
	if p.Before, d, ok = enumField(d, `,"before":`, knownStates); !ok {
		return false
	}
	if p.After, d, ok = enumField(d, `,"after":`, knownStates); !ok {
		return false
	}
	p.Stanza, d, ok = field(d, `,"stanza":`, true)
	return ok && string(d) == "}"
}

func (p *RosterItemSet) decodeFast(d []byte) bool {
	var room [8][]byte // contact, name, groups...
	parts := room[:2]
	ok := false
	if parts[0], d, ok = span(d, `{"contact":`, false); !ok {
		return false
	}
	if parts[1], d, ok = span(d, `,"name":`, true); !ok {
		return false
	}
	if r, has := cutKey(d, `,"groups":`); has {
		if parts, d, ok = cutSpans(r, parts); !ok {
			return false
		}
	}
	if string(d) != "}" {
		return false
	}
	size := 0
	for _, b := range parts {
		size += len(b)
	}
	all := joined(size, parts...)
	p.Contact, p.Name = cut(&all, len(parts[0])), cut(&all, len(parts[1]))
	if len(parts) > 2 {
		p.Groups = make([]string, len(parts)-2)
		for i, g := range parts[2:] {
			p.Groups[i] = cut(&all, len(g))
		}
	}
	return true
}

func (p *PresenceAvailable) decodeFast(d []byte) bool {
	var resource, show, status, stanza []byte
	ok := false
	if resource, d, ok = span(d, `{"resource":`, false); !ok {
		return false
	}
	if show, d, ok = span(d, `,"show":`, true); !ok {
		return false
	}
	if status, d, ok = span(d, `,"status":`, true); !ok {
		return false
	}
	if d, ok = cutKey(d, `,"priority":`); !ok {
		return false
	}
	if p.Priority, d, ok = cutInt(d); !ok {
		return false
	}
	if stanza, d, ok = span(d, `,"stanza":`, false); !ok {
		return false
	}
	if r, sealed := cutKey(d, `,"sealed":`); sealed {
		if p.Sealed, d, ok = cutSealed(r); !ok {
			return false
		}
	}
	if string(d) != "}" {
		return false
	}
	all := joined(len(resource)+len(show)+len(status)+len(stanza), resource, show, status, stanza)
	p.Resource, p.Show = cut(&all, len(resource)), cut(&all, len(show))
	p.Status, p.Stanza = cut(&all, len(status)), cut(&all, len(stanza))
	return true
}

// cutSealed reads a Sealed as New writes it (seal.go): key id, nonce and
// box, no gone.
func cutSealed(d []byte) (*Sealed, []byte, bool) {
	var account, period, nonce, box []byte
	ok := false
	if account, d, ok = span(d, `{"account":`, false); !ok {
		return nil, d, false
	}
	if period, d, ok = span(d, `,"period":`, false); !ok {
		return nil, d, false
	}
	if nonce, d, ok = span(d, `,"nonce":`, false); !ok || len(nonce) == 0 {
		return nil, d, false
	}
	if box, d, ok = span(d, `,"box":`, false); !ok || len(d) == 0 || d[0] != '}' {
		return nil, d, false
	}
	s := &Sealed{KeyID: KeyID{Account: string(account), Period: string(period)}}
	var err error
	if s.Nonce, err = base64.StdEncoding.AppendDecode(nil, nonce); err != nil {
		return nil, d, false
	}
	if s.Box, err = base64.StdEncoding.AppendDecode(nil, box); err != nil || s.Box == nil {
		return nil, d, false
	}
	return s, d[1:], true
}
