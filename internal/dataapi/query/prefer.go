package query

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/grovedb/grove/internal/dataapi/apierr"
)

// Prefer is a request's Prefer header, as PostgREST reads it.
type Prefer struct {
	Return      string // minimal, headers-only, representation; "" = the method's default
	Count       string // exact, planned, estimated; "" = none
	Resolution  string // merge-duplicates, ignore-duplicates
	Missing     string // default, null
	Handling    string // strict, lenient
	Tx          string // commit, rollback
	Timezone    string
	MaxAffected int64 // 0 = none
	HasMax      bool
	// Applied are the preferences honoured, for Preference-Applied, in the
	// order they came.
	Applied []string
	// Invalid are the preferences not understood (an error under
	// handling=strict).
	Invalid []string
}

var preferValues = map[string]map[string]bool{
	"return":     {"minimal": true, "headers-only": true, "representation": true},
	"count":      {"exact": true, "planned": true, "estimated": true},
	"resolution": {"merge-duplicates": true, "ignore-duplicates": true},
	"missing":    {"default": true, "null": true},
	"handling":   {"strict": true, "lenient": true},
	"tx":         {"commit": true, "rollback": true},
}

// field is where preference k (a key of preferValues) is kept.
func (p *Prefer) field(k string) *string {
	return map[string]*string{"return": &p.Return, "count": &p.Count, "resolution": &p.Resolution,
		"missing": &p.Missing, "handling": &p.Handling, "tx": &p.Tx}[k]
}

// ParsePrefer reads every Prefer header of a request. Under
// handling=strict a preference it does not understand is PGRST122.
func ParsePrefer(values []string) (Prefer, error) {
	var p Prefer
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			k, val, _ := strings.Cut(part, "=")
			k, val = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(val), `"`)
			switch {
			case preferValues[k][val]:
				// As PostgREST: the first of a preference wins.
				if f := p.field(k); *f == "" {
					*f = val
				}
			case k == "timezone" && val != "":
				p.Timezone = val
			case k == "max-affected":
				n, err := strconv.ParseInt(val, 10, 64)
				if err != nil || n < 0 {
					p.Invalid = append(p.Invalid, part)
					continue
				}
				p.MaxAffected, p.HasMax = n, true
			case k == "params" && val == "single-object":
				// Deprecated and without effect today, as in PostgREST.
			default:
				p.Invalid = append(p.Invalid, part)
			}
		}
	}
	if p.Handling == "strict" && len(p.Invalid) > 0 {
		return p, &apierr.Error{Status: http.StatusBadRequest, Code: "PGRST122",
			Message: "Invalid preferences given with handling=strict",
			Details: "Invalid preferences: " + strings.Join(p.Invalid, ", ")}
	}
	return p, nil
}
