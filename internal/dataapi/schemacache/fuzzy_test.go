package schemacache

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/grovedb/grove/internal/dataapi/apierr"
)

// TestFuzzySet replays the doctests of PostgREST's Error.hs hints
// (noRelBetweenHint, noRpcHint) and hints seen in PostgREST's answers.
func TestFuzzySet(t *testing.T) {
	for _, tc := range []struct {
		name     string
		values   []string
		query    string
		minScore float64
		want     string
	}{
		{"origin", []string{"films"}, "film", fuzzyMinScore, "films"},
		{"target", []string{"directors", "roles", "actors"}, "role", fuzzyMinScore, "roles"},
		{"exact", []string{"directors", "roles", "actors"}, "actors", fuzzyMinScore, "actors"},
		{"case", []string{"directors", "roles", "actors"}, "Actors", fuzzyMinScore, "actors"},
		{"no close origin", []string{"films"}, "noclosealternative", fuzzyMinScore, ""},
		{"no close target", []string{"directors", "roles", "actors"}, "noclosealternative", fuzzyMinScore, ""},
		{"function", []string{"test", "another"}, "testt", fuzzyMinScore, "test"},
		{"function other", []string{"test", "another"}, "other", fuzzyMinScore, "another"},
		{"no close function", []string{"test", "another"}, "noclosealternative", fuzzyMinScore, ""},
		{"params", []string{"(name, param, val)", "(attr, id)"}, "(nam, pqaram, vall)", fuzzyMinScore, "(name, param, val)"},
		{"fewer params", []string{"(name, param, val)", "(attr, id)"}, "(param, val)", fuzzyMinScore, "(name, param, val)"},
		{"close params", []string{"(name, param, val)", "(attr, id)"}, "(attrs, id)", fuzzyMinScore, "(attr, id)"},
		{"one param", []string{"(name, param, val)", "(attr, id)"}, "(id)", fuzzyMinScore, "(attr, id)"},
		{"no close params", []string{"(name, param, val)", "(attr, id)"}, "(noclosealternative)", fuzzyMinScore, ""},
		{"prefix", []string{"signatory_submissions", "users"}, "signator", fuzzyMinScore, "signatory_submissions"},
		// Function and table names need 0.75 (RpcSpec "sayhell").
		{"strict function", []string{"test", "another"}, "testt", nameMinScore, "test"},
		{"strict other", []string{"test", "another"}, "other", nameMinScore, ""},
		{"strict sayhell", []string{"sayhello", "add_them"}, "sayhell", nameMinScore, "sayhello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := newFuzzySet(tc.values).one(tc.query, tc.minScore); got != tc.want {
				t.Errorf("one(%q) = %q, want %q (matches %v)", tc.query, got, tc.want, newFuzzySet(tc.values).get(tc.query, 0))
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

// TestHintsWithoutIndex: a Schema not made by Load still gets hints.
func TestHintsWithoutIndex(t *testing.T) {
	s := &Schema{
		Tables:    map[QName]*Table{{"api", "orders"}: {Name: QName{"api", "orders"}}},
		Functions: map[QName][]*Function{{"api", "sayhello"}: {{Name: QName{"api", "sayhello"}}}},
	}
	_, err := s.FindTable("api", "order")
	if err == nil || !strings.Contains(err.Error(), "PGRST205") {
		t.Fatalf("FindTable: %v", err)
	}
	if got := hintOf(err); got != "Perhaps you meant the table 'api.orders'" {
		t.Errorf("table hint %q", got)
	}
	_, err = s.FindFunction("api", "sayhell", nil, false)
	if got := hintOf(err); got != "Perhaps you meant to call the function api.sayhello" {
		t.Errorf("function hint %q", got)
	}
}

func hintOf(err error) string {
	var e *apierr.Error
	if errors.As(err, &e) {
		return e.Hint
	}
	return ""
}
