package domain

import (
	"strings"
	"unicode"
)

// MatchWords reports whether text holds every word of query (XEP-0431
// 3.2 leaves the matching to the server): both are split into words at
// every character that is neither a letter nor a digit and compared
// case-insensitively (Unicode simple folding), in any order. A query word
// matches a whole word of the text, not part of one: "art" does not find
// "party". A query with no words matches nothing, so that an empty search
// is not a way to list every message.
func MatchWords(text, query string) bool {
	want := words(query)
	if len(want) == 0 {
		return false
	}
	have := make(map[string]struct{})
	for _, w := range words(text) {
		have[w] = struct{}{}
	}
	for _, w := range want {
		if _, ok := have[w]; !ok {
			return false
		}
	}
	return true
}

// words splits s into folded words.
func words(s string) []string {
	fs := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i, f := range fs {
		fs[i] = fold(f)
	}
	return fs
}

// fold maps each rune of w to the smallest rune of its case-folding
// orbit, so that words equal under strings.EqualFold fold alike.
func fold(w string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, w)
}
