package domain

import (
	"slices"
	"strings"
	"unicode"
)

// The rule of a full-text search of the message archive (issue 13):
// `xmppd archive search --text WORDS` uses it, and so may MAM's XEP-0431
// full-text search, which leaves the matching rule to the server (XEP-0431
// section 4: "the server's own full text search implementation"), so that
// an administrator and a client searching the same archive for the same
// words find the same messages.
//
// A message matches when every word searched for is one of the words of
// its body: whole words, not substrings ("chat" does not find "chatter"),
// in any order, compared without regard to case. Words are runs of
// letters, digits and combining marks (Unicode categories L, N and M), so
// punctuation and every kind of Unicode space separate them, and text in
// any script splits the same way. Case is folded as strings.EqualFold
// folds it (Unicode simple case folding: "STRASSE" is not "straße", but
// "ΣΊΣΥΦΟΣ" is "σίσυφος"). Text is not normalised: a word typed with a
// precomposed "é" does not match one with "e" and a combining accent
// (NFC versus NFD); xmppd's clients send NFC in practice.

// SearchWords splits text into the words a search looks for, folded:
// the form MatchWords takes. Repeated words count once.
func SearchWords(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(text, notWordRune) {
		w = foldWord(w)
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// MatchWords reports whether body holds every one of words, which are
// SearchWords' output. No words match nothing: an empty search is a
// mistake to report, not a request for everything.
func MatchWords(body string, words []string) bool {
	if len(words) == 0 {
		return false
	}
	have := strings.FieldsFunc(body, notWordRune)
	for i, w := range have {
		have[i] = foldWord(w)
	}
	for _, w := range words {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func notWordRune(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsNumber(r) && !unicode.IsMark(r)
}

// foldWord maps each rune of w to the lower case of the smallest rune of
// its simple case folding orbit (one rune per orbit), so two words are
// equal after foldWord exactly when strings.EqualFold says they are.
func foldWord(w string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return unicode.ToLower(least)
	}, w)
}
