// Prints random (pattern, template, value) cases with what Go 1.19's regexp and strings
// make of them, one line each, every field hex-encoded (values may be invalid UTF-8):
//
//	pattern template value replaced replaced_all lower upper matched
//
// `replaced` is "-" when FindStringSubmatchIndex finds no match. Prometheus 2.42 uses
// github.com/grafana/regexp, a faster fork of the standard regexp with the same results.
// Run by run.sh.
package main

import (
	"encoding/hex"
	"fmt"
	"math/rand"
	"os"
	"regexp"
	"strconv"
	"strings"
)

var atoms = []string{"a", "b", "ab", ".", "[a-c]", "[^a]", "[^x]", `\d`, `\w`, `\pL`, "é", "x",
	"_", "-", "(a)", "(b*)", "(?P<n>a+)", "(a|ab)", "(a*?)", "(?:ab)+", "(.)", "(.)(.)",
	"(?s:.)", "^", "$", `\b`, "(?i)A", "(?i)é", "(ä|b)", "\uFFFD"}
var quantifiers = []string{"", "", "", "*", "+", "?", "*?", "{1,2}"}
var templateParts = []string{"$1", "${1}", "$2", "$n", "${n}", "$$", "$", "x", "_", "$0", "$1x",
	"${2}y", "é", "$10", "-"}
var valueParts = []string{"a", "b", "c", "1", "_", "-", "é", "ä", "x", "\n", "A", "ab", "İ", "ß",
	"€", "\uFFFD", "\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80"}

func pick(r *rand.Rand, parts []string, max int) string {
	var sb strings.Builder
	for i := r.Intn(max + 1); i > 0; i-- {
		sb.WriteString(parts[r.Intn(len(parts))])
	}
	return sb.String()
}

func pattern(r *rand.Rand) string {
	var sb strings.Builder
	for i := 1 + r.Intn(4); i > 0; i-- {
		sb.WriteString(atoms[r.Intn(len(atoms))])
		sb.WriteString(quantifiers[r.Intn(len(quantifiers))])
		if r.Intn(6) == 0 {
			sb.WriteString("|")
		}
	}
	return sb.String()
}

func main() {
	count, seed := 50000, int64(1)
	if len(os.Args) > 2 {
		count, _ = strconv.Atoi(os.Args[1])
		seed, _ = strconv.ParseInt(os.Args[2], 10, 64)
	}
	r := rand.New(rand.NewSource(seed))
	h := func(s string) string { return "+" + hex.EncodeToString([]byte(s)) }
	for n := 0; n < count; {
		p := pattern(r)
		re, err := regexp.Compile("^(?:" + p + ")$")
		if err != nil {
			continue
		}
		t, v := pick(r, templateParts, 4), pick(r, valueParts, 6)
		replaced := "-"
		if idx := re.FindStringSubmatchIndex(v); idx != nil {
			replaced = h(string(re.ExpandString(nil, t, v, idx)))
		}
		matched := 0
		if re.MatchString(v) {
			matched = 1
		}
		fmt.Println(h(p), h(t), h(v), replaced, h(re.ReplaceAllString(v, t)), h(strings.ToLower(v)),
			h(strings.ToUpper(v)), matched)
		n++
	}
}
