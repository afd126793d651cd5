package domain_test

import (
	"testing"

	"xmppd/domain"
)

// TestMatchWords names the full-text rule of MAM searches (XEP-0431 3.2:
// implementation-defined).
func TestMatchWords(t *testing.T) {
	for _, c := range []struct {
		name, text, query string
		want              bool
	}{
		{"one word", "Meet me at noon", "noon", true},
		{"case-insensitive", "Meet me at NOON", "noon", true},
		{"query case-insensitive", "meet me at noon", "Noon", true},
		{"all words, any order", "meet me at noon", "noon meet", true},
		{"a missing word fails", "meet me at noon", "noon dinner", false},
		{"whole words only", "a party tonight", "art", false},
		{"punctuation separates words", "lunch? yes, at noon.", "noon lunch", true},
		{"punctuation in the query is ignored", "lunch at noon", "noon!", true},
		{"digits are words", "room 101 at 3", "101", true},
		{"non-ASCII folding", "Grüße aus Köln", "köln GRÜSSE", false},
		{"non-ASCII case", "Grüße aus KÖLN", "köln grüße", true},
		{"Greek sigma forms fold alike", "ΟΔΥΣΣΕΥΣ", "οδυσσευς", true},
		{"empty query matches nothing", "anything", "", false},
		{"query of punctuation matches nothing", "anything", " ?! ", false},
		{"empty text", "", "noon", false},
	} {
		if got := domain.MatchWords(c.text, c.query); got != c.want {
			t.Errorf("%s: MatchWords(%q, %q) = %v, want %v", c.name, c.text, c.query, got, c.want)
		}
	}
}
