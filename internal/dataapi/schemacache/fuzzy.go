package schemacache

import (
	"math"
	"sort"
	"strings"
	"unicode"
)

// fuzzySet finds close names for the "Perhaps you meant" hints, scoring
// as the fuzzyset library PostgREST uses: cosine similarity of character
// 3-grams (then 2-grams when no 3-gram match scores enough), the best 50
// re-scored by normalized Levenshtein distance, at least a minimum score
// (0.33 by default) to count; a name equal but for case is an exact match
// (score 1).
type fuzzySet struct {
	entries []string          // lower-cased, in insertion order
	orig    map[string]string // lower-cased → as added
	// grams[size-2][i] are entries[i]'s n-grams of that size.
	grams [2][]map[string]int
	norms [2][]float64
}

// Minimum scores: the library's default, and the one PostgREST asks of
// table and function names (a stricter one, so that a guess reveals less
// of the schema).
const (
	fuzzyMinScore = 0.33
	nameMinScore  = 0.75
)

func newFuzzySet(values []string) *fuzzySet {
	f := &fuzzySet{orig: map[string]string{}}
	for _, v := range values {
		k := strings.ToLower(v)
		if _, dup := f.orig[k]; dup {
			continue
		}
		f.orig[k] = v
		f.entries = append(f.entries, k)
		for size := 2; size <= 3; size++ {
			g := gramVector(k, size)
			f.grams[size-2] = append(f.grams[size-2], g)
			f.norms[size-2] = append(f.norms[size-2], vectorNorm(g))
		}
	}
	return f
}

type fuzzyMatch struct {
	score float64
	value string
}

// get returns the matches scoring at least minScore, best first.
func (f *fuzzySet) get(q string, minScore float64) []fuzzyMatch {
	key := strings.ToLower(q)
	if v, ok := f.orig[key]; ok {
		return []fuzzyMatch{{1, v}}
	}
	for size := 3; size >= 2; size-- {
		if ms := f.matches(key, size, minScore); len(ms) > 0 {
			return ms
		}
	}
	return nil
}

// one returns the best match scoring at least minScore, "" when none (or
// when f is nil).
func (f *fuzzySet) one(q string, minScore float64) string {
	if f == nil {
		return ""
	}
	if ms := f.get(q, minScore); len(ms) > 0 {
		return ms[0].value
	}
	return ""
}

func (f *fuzzySet) matches(key string, size int, minScore float64) []fuzzyMatch {
	qv := gramVector(key, size)
	qn := vectorNorm(qv)
	var ms []fuzzyMatch
	for i, e := range f.entries {
		ev := f.grams[size-2][i]
		dot := 0
		for g, n := range qv {
			dot += n * ev[g]
		}
		if dot == 0 {
			continue
		}
		ms = append(ms, fuzzyMatch{float64(dot) / (qn * f.norms[size-2][i]), e})
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].score > ms[j].score })
	if len(ms) > 50 {
		ms = ms[:50]
	}
	for i := range ms {
		ms[i].score = levenshteinNorm(key, ms[i].value)
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].score > ms[j].score })
	out := ms[:0]
	for _, m := range ms {
		if m.score >= minScore {
			out = append(out, fuzzyMatch{m.score, f.orig[m.value]})
		}
	}
	return out
}

// gramVector counts the n-grams of s with everything but letters,
// digits, blanks and commas removed, enclosed in hyphens.
func gramVector(s string, n int) map[string]int {
	var b []rune
	b = append(b, '-')
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || r == ',' {
			b = append(b, r)
		}
	}
	b = append(b, '-')
	v := map[string]int{}
	for i := 0; i+n <= len(b); i++ {
		v[string(b[i:i+n])]++
	}
	return v
}

func vectorNorm(v map[string]int) float64 {
	sum := 0
	for _, n := range v {
		sum += n * n
	}
	return math.Sqrt(float64(sum))
}

// levenshteinNorm is 1 - distance/longer length (1 for two empty strings).
func levenshteinNorm(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	longest := max(len(ra), len(rb))
	if longest == 0 {
		return 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return 1 - float64(prev[len(rb)])/float64(longest)
}
