// Package sqlgen turns a parsed Data API request into one SQL statement:
// every value the client sent travels as a parameter, every name it sent
// is quoted, and the response body is built as JSON (or CSV) inside
// Postgres, in PostgREST's shape.
package sqlgen

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/grovedb/grove/internal/dataapi/apierr"
	"github.com/grovedb/grove/internal/dataapi/query"
	"github.com/grovedb/grove/internal/dataapi/schemacache"
)

// Media types of a response.
const (
	MediaJSON   = "application/json"
	MediaObject = "application/vnd.pgrst.object+json"
	MediaCSV    = "text/csv"
)

// Request is what the statement is built from.
type Request struct {
	Method string // GET, HEAD, POST, PATCH, PUT, DELETE
	Schema string // the profile's schema
	Name   string // the table, view or function
	RPC    bool
	Params *query.Params
	Prefer query.Prefer
	// Body is the request's JSON (CSV already converted), nil when none.
	Body []byte
	// Media is the response's media type; StripNulls drops the null
	// members of its objects (nulls=stripped).
	Media      string
	StripNulls bool
	// Range is the Range header's window, when HasRange.
	Range    query.Range
	HasRange bool
	// MaxRows caps the rows a read returns (0 = no cap).
	MaxRows           int64
	AggregatesEnabled bool
}

// Statement is the SQL to run and how to read its one row of results:
// total_result_set (bigint or NULL), page_total (bigint), body (text),
// location (text or NULL), inserted (bigint or NULL: the rows an upsert
// inserted rather than updated).
type Statement struct {
	SQL  string
	Args [][]byte // text format; nil is NULL
	// Offset is the first row's position, for Content-Range.
	Offset int64
	// Write is set for POST, PATCH, PUT and DELETE on tables, and RPC
	// calls of volatile functions.
	Write bool
	// Void is set for a function returning void (204).
	Void bool
	// Table is the resource read or written (nil for a function without
	// columns).
	Table *schemacache.Table
	// PlanSQL, when set, is an EXPLAIN (FORMAT JSON) of the rows the
	// filters match, with its own parameters: its top plan's rows are the
	// total for count=planned, and for count=estimated past MaxRows.
	PlanSQL  string
	PlanArgs [][]byte
}

// builder collects a statement's parameters and names its aliases.
type builder struct {
	s    *schemacache.Schema
	req  *Request
	args [][]byte
	n    int
}

func (b *builder) param(v string) string {
	b.args = append(b.args, []byte(v))
	return "$" + strconv.Itoa(len(b.args))
}

func (b *builder) alias(base string) string {
	b.n++
	return quoteIdent(base + "_" + strconv.Itoa(b.n))
}

// quoteIdent quotes a name for SQL; NUL cannot be in a name, so it is
// dropped rather than let through.
func quoteIdent(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func qualified(q schemacache.QName) string { return quoteIdent(q.Schema) + "." + quoteIdent(q.Name) }

// castRe is what a cast in select= may name: PostgREST's identifier
// characters, which cannot end the cast.
var castRe = regexp.MustCompile(`^[\pL_][\pL\pN_ ]*$`)

func checkCast(c string) error {
	if !castRe.MatchString(c) {
		return apierr.New(http.StatusBadRequest, "PGRST100", "invalid cast %q", c)
	}
	return nil
}

// Build returns the statement for a request.
func Build(s *schemacache.Schema, r *Request) (*Statement, error) {
	b := &builder{s: s, req: r}
	// PUT replaces the rows its filters name: a window would make that
	// ambiguous, so PostgREST refuses it before looking anything up.
	if w := r.Params.Ranges[""]; r.Method == http.MethodPut && !r.RPC && (w.HasLimit || w.Offset > 0) {
		return nil, apierr.New(http.StatusBadRequest, "PGRST114", "limit/offset querystring parameters are not allowed for PUT")
	}
	if r.RPC {
		return b.rpc()
	}
	if err := r.Params.CheckArgsAsFilters(); err != nil {
		return nil, err
	}
	t, err := s.FindTable(r.Schema, r.Name)
	if err != nil {
		return nil, err
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return b.read(t)
	case http.MethodPost:
		return b.insert(t, false)
	case http.MethodPut:
		return b.insert(t, true)
	case http.MethodPatch:
		return b.update(t)
	case http.MethodDelete:
		return b.delete(t)
	}
	return nil, apierr.New(http.StatusMethodNotAllowed, "PGRST117", "Unsupported HTTP method: %s", r.Method)
}

// window is the rows a read returns: the limit and offset parameters
// within the Range header, capped by MaxRows.
func (r *Request) window() query.Range {
	w := r.Params.Ranges[""]
	if r.HasRange {
		off := max(w.Offset, 0) + r.Range.Offset
		lim, has := r.Range.Limit, r.Range.HasLimit
		if w.HasLimit {
			end := w.Offset + w.Limit
			if !has || r.Range.Offset+lim > end {
				lim, has = max(end-off, 0), true
			}
		}
		w = query.Range{Offset: off, Limit: lim, HasLimit: has}
	}
	if r.MaxRows > 0 && (!w.HasLimit || w.Limit > r.MaxRows) {
		w.Limit, w.HasLimit = r.MaxRows, true
	}
	return w
}

func limitSQL(b *builder, w query.Range) string {
	var sb strings.Builder
	if w.HasLimit {
		sb.WriteString(" LIMIT " + strconv.FormatInt(w.Limit, 10))
	}
	if w.Offset > 0 {
		sb.WriteString(" OFFSET " + strconv.FormatInt(w.Offset, 10))
	}
	return sb.String()
}

// outer is the statement's outer query: pgrst_source holds the rows to
// return with their selected columns; the outer query counts them and
// builds the body in PostgREST's shape.
type outer struct {
	ctes     string // CTEs before pgrst_source ("pgrst_dml AS (…), ")
	source   string
	total    string // total_result_set; "" = NULL
	location string // the first written row's key, as a JSON array; "" = NULL
	inserted string // the rows an upsert inserted; "" = NULL
	noBody   bool
	scalar   bool // a function's scalar result, in pgrst_scalar
	setOf    bool
}

func (b *builder) wrap(o outer) string {
	var body string
	switch {
	case o.noBody:
		body = "''"
	case o.scalar && o.setOf:
		body = `coalesce(json_agg(_postgrest_t.pgrst_scalar), '[]')::text`
	case o.scalar:
		body = `coalesce((json_agg(_postgrest_t.pgrst_scalar)->0)::text, 'null')`
	case b.req.Media == MediaObject && b.req.StripNulls:
		body = `coalesce((json_agg(json_strip_nulls(to_json(_postgrest_t)))->0)::text, '')`
	case b.req.Media == MediaObject:
		body = `coalesce((json_agg(_postgrest_t)->0)::text, '')`
	case b.req.Media == MediaCSV:
		body = `(SELECT coalesce(string_agg(a.k, ','), '') FROM (SELECT json_object_keys(r) AS k FROM (SELECT r FROM json_array_elements(json_agg(_postgrest_t)) AS r LIMIT 1) AS f) AS a)` +
			` || chr(10) || coalesce(string_agg(substring(_postgrest_t::text, 2, length(_postgrest_t::text) - 2), chr(10)), '')`
	case b.req.StripNulls:
		body = `coalesce(json_agg(json_strip_nulls(to_json(_postgrest_t))), '[]')::text`
	default:
		body = `coalesce(json_agg(_postgrest_t), '[]')::text`
	}
	total, location, inserted := o.total, o.location, o.inserted
	if total == "" {
		total = "NULL::bigint"
	}
	if location == "" {
		location = "NULL::text"
	}
	if inserted == "" {
		inserted = "NULL::bigint"
	}
	return "WITH " + o.ctes + "pgrst_source AS (" + o.source + ") SELECT " + total + " AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, " +
		body + " AS body, " + location + " AS location, " + inserted + " AS inserted FROM (SELECT * FROM pgrst_source) AS _postgrest_t"
}
