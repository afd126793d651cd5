package domain_test

import (
	"fmt"
	"testing"

	"xmppd/domain"
)

// The archive search rule (issue 13; XEP-0431 section 4 leaves it to the
// server): whole words, all of them, any order, any case, any script.
func TestMatchWords(t *testing.T) {
	for _, tc := range []struct {
		name, body, search string
		want               bool
	}{
		{"one word", "the quarterly report is late", "report", true},
		{"all words in any order", "the quarterly report is late", "late REPORT", true},
		{"every word must be there", "the quarterly report is late", "report budget", false},
		{"whole words, not substrings", "chatter all day", "chat", false},
		{"punctuation separates words", "report: late!", "late report", true},
		{"case folded, Greek final sigma", "ΣΊΣΥΦΟΣ", "σίσυφος", true},
		{"case folded, Cyrillic", "Привет, мир", "ПРИВЕТ", true},
		{"digits are words", "room 4711 at noon", "4711", true},
		{"no-break space separates", "budget\u00a0meeting", "meeting", true},
		{"Devanagari marks stay in the word", "नमस्ते दुनिया", "नमस्ते", true},
		{"empty search matches nothing", "anything", "  ", false},
		{"empty body", "", "report", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := domain.MatchWords(tc.body, domain.SearchWords(tc.search)); got != tc.want {
				t.Errorf("MatchWords(%q, SearchWords(%q)) = %v, want %v", tc.body, tc.search, got, tc.want)
			}
		})
	}
}

func ExampleMatchWords() {
	words := domain.SearchWords("Budget, REPORT")
	fmt.Println(words)
	fmt.Println(domain.MatchWords("Here is the report on the budget.", words))
	fmt.Println(domain.MatchWords("Here is the report.", words))
	// Output:
	// [budget report]
	// true
	// false
}
