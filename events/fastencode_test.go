package events

import (
	"bytes"
	"encoding/json"
	"testing"
)

// New's hand-written encoding of archive.message_stored (fastencode.go)
// writes exactly what encoding/json writes, for what it takes on and for
// what it leaves to encoding/json: the hash chain covers these bytes.
func TestFastEncodeMatchesEncodingJSON(t *testing.T) {
	sealed := &Sealed{KeyID: KeyID{Account: "alice@localhost", Period: "2026-12"}, Nonce: []byte("0123456789ab"), Box: []byte{0, 1, 2, 250, 251, 255}}
	cases := map[string]ArchiveMessageStored{
		"schema 1 in clear":   {ID: "abc", With: "bob@localhost/pc", Direction: ArchiveIn, Content: "<message to='a&amp;b'><body>hi</body></message>"},
		"sealed":              {ID: "LKkhwHp_a6m4Q2-M", With: "bob@localhost", Direction: ArchiveOut, Sealed: sealed},
		"sealed without box":  {ID: "x", With: "y", Direction: ArchiveOut, Sealed: &Sealed{KeyID: sealed.KeyID, Nonce: sealed.Nonce}},
		"nil nonce":           {ID: "x", Sealed: &Sealed{KeyID: sealed.KeyID}},
		"gone":                {ID: "x", Sealed: &Sealed{KeyID: sealed.KeyID, Nonce: sealed.Nonce, Gone: GoneErased}},
		"empty":               {},
		"quote: fallback":     {ID: `a"b`, With: "c"},
		"backslash: fallback": {With: `a\b`},
		"newline: fallback":   {Content: "<body>a\nb</body>"},
		"DEL: fallback":       {Content: "\x7f"},
		"non-ASCII: fallback": {With: "jürgen@localhost", Sealed: sealed},
		"U+2028: fallback":    {Content: "a\u2028b"},
		"bad UTF-8: fallback": {Content: "a\xffb"},
		"account: fallback":   {Sealed: &Sealed{KeyID: KeyID{Account: "ä@localhost"}}},
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(p); err != nil {
				t.Fatal(err)
			}
			e, err := New(p, Meta{})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(e.Data), string(bytes.TrimSuffix(want.Bytes(), []byte("\n"))); got != want {
				t.Errorf("New wrote\n%s\nencoding/json writes\n%s", got, want)
			}
		})
	}
}
