package domain

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"slices"
	"strings"

	"xmppd/stanza"
)

// XEP-0115 Entity Capabilities: a client's presence names its features
// by a hash (the 'ver'); the server learns the features behind a hash
// once, from a disco#info answer, and may share what it learnt between
// accounts only when the answer hashes to the 'ver' it came for (section
// 5.4 #3: otherwise "the processing application MUST NOT accept the
// disco#info result"; xmppd keeps such an answer for that one client).

// CapsVer computes the verification string of a disco#info result
// (XEP-0115 section 5.1) with hash algo ("sha-1" or "sha-256", the
// IANA names of section 5.1 #1); ok is false for another algorithm or for
// a result section 5.4 #3.3 to #3.5 rejects (duplicate identities or
// features, extended forms without a hidden FORM_TYPE or with two).
func CapsVer(query *stanza.Element, algo string) (ver string, ok bool) {
	var h hash.Hash
	switch algo {
	case "sha-1":
		h = sha1.New()
	case "sha-256":
		h = sha256.New()
	default:
		return "", false
	}
	var ids, features, forms []string
	for _, el := range query.Elements() {
		switch {
		case el.Name.Local == "identity" && el.Name.Space == stanza.NSDiscoInfo:
			// 5.1 #2: category/type/xml:lang/name.
			ids = append(ids, el.Attr("category")+"/"+el.Attr("type")+"/"+xmlLang(el)+"/"+el.Attr("name"))
		case el.Name.Local == "feature" && el.Name.Space == stanza.NSDiscoInfo:
			features = append(features, el.Attr("var"))
		case el.Name.Local == "x" && el.Name.Space == stanza.NSDataForms:
			f, ok := capsForm(el)
			if !ok {
				return "", false
			}
			forms = append(forms, f)
		}
	}
	for _, list := range [][]string{ids, features} {
		slices.Sort(list)
		if len(slices.Compact(slices.Clone(list))) != len(list) {
			return "", false // 5.4 #3.3, #3.4
		}
	}
	// 5.1 #6: forms sorted by FORM_TYPE; capsForm starts each with it.
	slices.Sort(forms)
	var b strings.Builder
	for _, s := range ids {
		b.WriteString(s + "<")
	}
	for _, s := range features {
		b.WriteString(s + "<")
	}
	for _, s := range forms {
		b.WriteString(s)
	}
	h.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), true
}

// capsForm is one extended form's part of the string (5.1 #6): the
// FORM_TYPE's value, then each field's var and its values, sorted.
func capsForm(x *stanza.Element) (string, bool) {
	formType, n := "", 0
	type field struct {
		v      string
		values []string
	}
	var fields []field
	for _, f := range x.Elements() {
		if f.Name.Local != "field" {
			continue
		}
		var values []string
		for _, v := range f.Elements() {
			if v.Name.Local == "value" {
				values = append(values, v.Text())
			}
		}
		if f.Attr("var") == "FORM_TYPE" {
			if f.Attr("type") != "hidden" || len(values) != 1 {
				return "", false // 5.4 #3.5
			}
			formType, n = values[0], n+1
			continue
		}
		slices.Sort(values)
		fields = append(fields, field{f.Attr("var"), values})
	}
	if n != 1 {
		return "", false
	}
	slices.SortFunc(fields, func(a, b field) int { return strings.Compare(a.v, b.v) })
	var b strings.Builder
	b.WriteString(formType + "<")
	for _, f := range fields {
		b.WriteString(f.v + "<")
		for _, v := range f.values {
			b.WriteString(v + "<")
		}
	}
	return b.String(), true
}

// NotifyNodes returns the PEP nodes a client asks notifications of: the
// NODE of each "NODE+notify" feature (XEP-0163 section 4.3.1).
func NotifyNodes(features []string) map[string]bool {
	out := map[string]bool{}
	for _, f := range features {
		if node, ok := strings.CutSuffix(f, "+notify"); ok && node != "" {
			out[node] = true
		}
	}
	return out
}

// xmlLang is el's xml:lang attribute.
func xmlLang(el *stanza.Element) string {
	for _, a := range el.Attrs {
		if a.Name.Local == "lang" && (a.Name.Space == "xml" || a.Name.Space == "http://www.w3.org/XML/1998/namespace") {
			return a.Value
		}
	}
	return ""
}
