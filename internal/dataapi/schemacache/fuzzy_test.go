package schemacache

import (
	"math"
	"testing"
)

// TestFuzzySet replays the doctests of PostgREST's Error.hs hints
// (noRelBetweenHint, noRpcHint) and hints seen in PostgREST's answers.
func TestFuzzySet(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		query  string
		want   string
	}{
		{"origin", []string{"films"}, "film", "films"},
		{"target", []string{"directors", "roles", "actors"}, "role", "roles"},
		{"exact", []string{"directors", "roles", "actors"}, "actors", "actors"},
		{"case", []string{"directors", "roles", "actors"}, "Actors", "actors"},
		{"no close origin", []string{"films"}, "noclosealternative", ""},
		{"no close target", []string{"directors", "roles", "actors"}, "noclosealternative", ""},
		{"function", []string{"test", "another"}, "testt", "test"},
		{"function other", []string{"test", "another"}, "other", "another"},
		{"no close function", []string{"test", "another"}, "noclosealternative", ""},
		{"params", []string{"(name, param, val)", "(attr, id)"}, "(nam, pqaram, vall)", "(name, param, val)"},
		{"fewer params", []string{"(name, param, val)", "(attr, id)"}, "(param, val)", "(name, param, val)"},
		{"close params", []string{"(name, param, val)", "(attr, id)"}, "(attrs, id)", "(attr, id)"},
		{"one param", []string{"(name, param, val)", "(attr, id)"}, "(id)", "(attr, id)"},
		{"no close params", []string{"(name, param, val)", "(attr, id)"}, "(noclosealternative)", ""},
		{"prefix", []string{"signatory_submissions", "users"}, "signator", "signatory_submissions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := newFuzzySet(tc.values).one(tc.query); got != tc.want {
				t.Errorf("one(%q) = %q, want %q (matches %v)", tc.query, got, tc.want, newFuzzySet(tc.values).get(tc.query))
			}
		})
	}
}

func TestLevenshteinNorm(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"", "", 1}, {"abc", "abc", 1}, {"abc", "abd", 1 - 1.0/3}, {"kitten", "sitting", 1 - 3.0/7},
	} {
		if got := levenshteinNorm(tc.a, tc.b); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("levenshteinNorm(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
