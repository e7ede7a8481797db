package dataapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/grovedb/grove/internal/computepool"
	"github.com/grovedb/grove/internal/dataapi/apierr"
	"github.com/grovedb/grove/internal/dataapi/query"
	"github.com/grovedb/grove/internal/dataapi/schemacache"
	"github.com/grovedb/grove/internal/dataapi/sqlgen"
	"github.com/grovedb/grove/internal/dataapispec"
)

// serve runs one request and returns its response.
func (h *Handler) serve(r *http.Request, rt route, s dataapispec.Served) (*response, error) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete, http.MethodOptions:
	default:
		return nil, apierr.New(http.StatusMethodNotAllowed, "PGRST117", "Unsupported HTTP method: %s", r.Method)
	}
	timing := newTimings(s.ServerTiming)
	id, err := h.authenticate(r, s)
	timing.mark("jwt")
	if err != nil {
		return nil, err
	}
	schema, profiled, err := profile(r, s)
	if err != nil {
		return nil, err
	}
	document := rt.rest == "/" || rt.rest == "/openapi.json"
	if document && (s.OpenAPIMode == "" || s.OpenAPIMode == openAPIDisabled) {
		return nil, errOpenAPIDisabled
	}
	mt, err := media(r)
	if err != nil && !document {
		return nil, err
	}
	timing.mark("")
	params, err := query.Parse(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	prefer, err := query.ParsePrefer(r.Header.Values("Prefer"))
	if err != nil {
		return nil, err
	}
	rng, hasRange, err := parseRange(r)
	if err != nil {
		return nil, err
	}
	body, err := h.readBody(r)
	if err != nil {
		return nil, err
	}
	name := strings.TrimPrefix(rt.rest, "/")
	req := &sqlgen.Request{Method: r.Method, Schema: schema, Name: name, Params: params, Prefer: prefer,
		Media: mt.media, StripNulls: mt.stripNulls, Range: rng, HasRange: hasRange, MaxRows: int64(s.MaxRows), AggregatesEnabled: s.AggregatesEnabled}
	if fn, ok := strings.CutPrefix(name, "rpc/"); ok {
		req.Name, req.RPC = fn, true
	}
	if !document && (strings.Contains(req.Name, "/") || req.Name == "") {
		return nil, &apierr.Error{Status: http.StatusNotFound, Code: "PGRST125", Message: "Invalid path specified in request URL"}
	}
	if len(body) > 0 || r.Method == http.MethodPost || r.Method == http.MethodPatch || r.Method == http.MethodPut {
		req.Body = body
	}

	h.cfg.Backend.ConnOpened(rt.endpoint)
	defer h.cfg.Backend.ConnClosed(rt.endpoint, r.ContentLength, 0)

	ctx := r.Context()
	key := computepool.Key{Database: rt.database, Role: authenticator, User: poolUser}
	var cache *schemacache.Schema
	var st *sqlgen.Statement
	var res result
	for attempt := 0; ; attempt++ {
		sc, err := h.connect(ctx, rt.endpoint, key, s)
		if err != nil {
			return nil, err
		}
		reused := sc.Dirty
		if cache, err = h.caches.get(ctx, rt.endpoint, rt.database, s, sc); err != nil {
			h.cfg.Pool.Release(sc, false)
			if reused && attempt < 2 {
				continue // the pooled connection had died: another
			}
			return nil, err
		}
		if r.Method == http.MethodOptions {
			h.cfg.Pool.Release(sc, true)
			return options(cache, schema, req)
		}
		if document {
			st = openAPIStatement(s.OpenAPIMode, schema)
		} else if st, err = sqlgen.Build(cache, req); err != nil {
			h.cfg.Pool.Release(sc, true)
			return nil, err
		}
		timing.mark("parse")
		res, err = h.execute(ctx, sc, r, req, st, id, s, schema)
		timing.mark("transaction")
		h.cfg.Pool.Release(sc, sc.PC.TxStatus() == 'I' && !sc.PC.IsClosed())
		if err != nil {
			// A pooled connection found dead (its compute restarted) is
			// replaced when nothing can have been applied: a read, or a
			// request that never reached the server.
			if reused && attempt < 2 && ctx.Err() == nil && deadConn(err) && (req.Method == http.MethodGet || req.Method == http.MethodHead || pgconn.SafeToRetry(err)) {
				continue
			}
			return nil, h.pgError(err, id)
		}
		break
	}
	if document {
		base := strings.TrimSuffix(strings.TrimSuffix(r.URL.Path, "/openapi.json"), "/")
		doc, err := openAPIDocument(cache, schema, s.OpenAPIMode, r.Host, base, res.body)
		if err != nil {
			return nil, err
		}
		return &response{status: http.StatusOK, contentType: "application/openapi+json; charset=utf-8",
			headers: map[string]string{}, body: doc}, nil
	}
	resp, err := respond(r, req, st, res)
	if err != nil {
		return nil, err
	}
	if profiled || len(s.Schemas) > 1 {
		resp.headers["Content-Profile"] = schema
	}
	timing.mark("response")
	timing.header(resp.headers)
	return resp, nil
}

// connect returns a pooled connection as authenticator, waking the compute
// when a new one is needed.
func (h *Handler) connect(ctx context.Context, endpoint string, key computepool.Key, s dataapispec.Served) (*computepool.Conn, error) {
	limit := DefaultMaxConns
	if h.cfg.MaxConns != nil {
		if n := h.cfg.MaxConns(endpoint); n > 0 {
			limit = n
		}
	}
	dial := func(ctx context.Context) (*pgconn.PgConn, error) {
		socket, err := h.cfg.Backend.Connect(ctx, endpoint, false)
		if err != nil {
			return nil, &apierr.Error{Status: http.StatusServiceUnavailable, Code: "PGRST001",
				Message: "Database client error. Retrying the connection.", Err: err}
		}
		pc, err := computepool.Dial(ctx, socket, key, s.AuthenticatorPassword, "data api")
		if err != nil {
			return nil, &apierr.Error{Status: http.StatusServiceUnavailable, Code: "PGRST001",
				Message: "Database client error. Retrying the connection.", Err: err}
		}
		return pc, nil
	}
	cctx, cancel := context.WithTimeout(ctx, h.cfg.ConnectTimeout)
	defer cancel()
	sc, err := h.cfg.Pool.Acquire(cctx, endpoint, key, limit, dial)
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return nil, ae
		}
		return nil, &apierr.Error{Status: http.StatusServiceUnavailable, Code: "PGRST001",
			Message: "Database client error. Retrying the connection.", Err: err}
	}
	return sc, nil
}

// deadConn reports whether an error is the connection's, not Postgres'.
func deadConn(err error) bool {
	var pe *pgconn.PgError
	var ae *apierr.Error
	return !errors.As(err, &pe) && !errors.As(err, &ae)
}

// poolUser keeps the Data API's connections apart from SQL over HTTP's.
const poolUser = "data api"

// maxPrepared bounds the statements prepared on one connection; past it
// statements run unnamed.
const maxPrepared = 256

// result is the statement's one row.
type result struct {
	total     int64
	hasTotal  bool
	pageTotal int64
	body      []byte
	location  []byte
	// inserted counts an upsert's new rows (201 rather than 200).
	inserted    int64
	hasInserted bool
}

// execute runs the request's transaction: its settings, the statement,
// and its end, pipelined in one round trip unless the result decides
// between commit and rollback.
func (h *Handler) execute(ctx context.Context, sc *computepool.Conn, r *http.Request, req *sqlgen.Request,
	st *sqlgen.Statement, id identity, s dataapispec.Served, schema string) (result, error) {
	sc.Dirty = true
	begin := "BEGIN ISOLATION LEVEL READ COMMITTED"
	readOnly := !st.Write && (r.Method == http.MethodGet || r.Method == http.MethodHead || req.RPC)
	if readOnly {
		begin += " READ ONLY"
	}
	search := []string{quoteIdent(schema)}
	for _, p := range s.ExtraSearchPath {
		search = append(search, quoteIdent(p))
	}
	headers := map[string]string{}
	for k, v := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	hdrJSON, _ := json.Marshal(headers)
	cookies := map[string]string{}
	for _, c := range r.Cookies() {
		cookies[c.Name] = c.Value
	}
	cookieJSON, _ := json.Marshal(cookies)
	settings := [][]byte{[]byte(strings.Join(search, ", ")), []byte(id.role), id.claims, []byte(r.Method),
		[]byte(r.URL.Path), hdrJSON, cookieJSON}
	const setSQL = "SELECT set_config('search_path', $1, true), set_config('role', $2, true), set_config('request.jwt.claims', $3, true), " +
		"set_config('request.method', $4, true), set_config('request.path', $5, true), set_config('request.headers', $6, true), " +
		"set_config('request.cookies', $7, true)"
	// A read, or a write whose result cannot undo it, commits in the same
	// round trip.
	decide := req.Media == sqlgen.MediaObject || req.Prefer.HasMax || req.Prefer.Tx == "rollback"
	pl := sc.PC.StartPipeline(ctx)
	pl.SendQueryParams(begin, nil, nil, nil, nil)
	// The settings and the statement run prepared: a repeated request
	// shape is parsed once per connection, and planned from its cache.
	var preparing [][2]string // SQL and name, in the order sent
	send := func(sql string, args [][]byte) {
		if sc.Prepared == nil {
			sc.Prepared = map[string]string{}
		}
		name, ok := sc.Prepared[sql]
		if !ok && len(sc.Prepared)+len(preparing) < maxPrepared {
			name = "pgrst_" + strconv.Itoa(len(sc.Prepared)+len(preparing))
			pl.SendPrepare(name, sql, nil)
			preparing = append(preparing, [2]string{sql, name})
			ok = true
		}
		if ok {
			pl.SendQueryPrepared(name, args, nil, nil)
		} else {
			pl.SendQueryParams(sql, args, nil, nil, nil)
		}
	}
	send(setSQL, settings)
	mainStep := 2
	if st.PlanSQL != "" {
		send(st.PlanSQL, st.PlanArgs)
		mainStep = 3
	}
	send(st.SQL, st.Args)
	if !decide {
		pl.SendQueryParams("COMMIT", nil, nil, nil, nil)
	}
	if err := pl.Sync(); err != nil {
		_ = pl.Close()
		return result{}, err
	}
	var res result
	var planned int64
	var firstErr error
	step := 0
	for {
		out, err := pl.GetResults()
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			var pe *pgconn.PgError
			if !errors.As(err, &pe) {
				break
			}
			continue
		}
		if out == nil {
			break
		}
		switch rr := out.(type) {
		case *pgconn.StatementDescription:
			sc.Prepared[preparing[0][0]] = preparing[0][1]
			preparing = preparing[1:]
		case *pgconn.ResultReader:
			switch step {
			case mainStep:
				res, err = readResult(rr, h.cfg.MaxResponseBytes)
			case 2:
				planned, err = plannedRows(rr)
			default:
				_, err = rr.Close()
			}
			step++
			if err != nil && firstErr == nil {
				firstErr = err
			}
		case *pgconn.PipelineSync:
		}
	}
	if err := pl.Close(); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr != nil {
		h.rollback(ctx, sc)
		return result{}, firstErr
	}
	switch {
	case st.PlanSQL == "":
	case req.Prefer.Count == "planned", res.hasTotal && res.total > req.MaxRows:
		// count=estimated is exact up to db_max_rows, the planner's past it.
		res.total, res.hasTotal = planned, true
	}
	if !decide {
		return res, nil
	}
	end := "COMMIT"
	var verdict error
	switch {
	case req.Media == sqlgen.MediaObject && res.pageTotal != 1 && !st.Void:
		verdict = &apierr.Error{Status: http.StatusNotAcceptable, Code: "PGRST116",
			Message: "Cannot coerce the result to a single JSON object",
			Details: "The result contains " + strconv.FormatInt(res.pageTotal, 10) + " rows"}
	case req.Prefer.HasMax && req.Prefer.Handling == "strict" && res.pageTotal > req.Prefer.MaxAffected:
		verdict = &apierr.Error{Status: http.StatusBadRequest, Code: "PGRST124",
			Message: "Query result exceeds max-affected preference constraint",
			Details: "The query affects " + strconv.FormatInt(res.pageTotal, 10) + " rows"}
	case req.Prefer.Tx == "rollback":
		end = "ROLLBACK"
	}
	if verdict != nil {
		end = "ROLLBACK"
	}
	if err := sc.PC.Exec(ctx, end).Close(); err != nil {
		return result{}, err
	}
	return res, verdict
}

func (h *Handler) rollback(ctx context.Context, sc *computepool.Conn) {
	if sc.PC.IsClosed() || sc.PC.TxStatus() == 'I' {
		return
	}
	if err := sc.PC.Exec(ctx, "ROLLBACK").Close(); err != nil {
		sc.Broken = true
	}
}

func readResult(rr *pgconn.ResultReader, maxBody int) (result, error) {
	var res result
	for rr.NextRow() {
		v := rr.Values()
		if len(v) < 4 {
			continue
		}
		if v[0] != nil {
			res.total, _ = strconv.ParseInt(string(v[0]), 10, 64)
			res.hasTotal = true
		}
		res.pageTotal, _ = strconv.ParseInt(string(v[1]), 10, 64)
		if len(v[2]) > maxBody {
			_, _ = rr.Close()
			return res, &apierr.Error{Status: http.StatusInsufficientStorage, Code: "PGRST507",
				Message: "response is too large (max is " + strconv.Itoa(maxBody) + " bytes)"}
		}
		res.body = bytes.Clone(v[2])
		if v[3] != nil {
			res.location = bytes.Clone(v[3])
		}
		if len(v) > 4 && v[4] != nil {
			res.inserted, _ = strconv.ParseInt(string(v[4]), 10, 64)
			res.hasInserted = true
		}
	}
	_, err := rr.Close()
	return res, err
}

// respond turns the statement's result into PostgREST's status, headers
// and body.
func respond(r *http.Request, req *sqlgen.Request, st *sqlgen.Statement, res result) (*response, error) {
	resp := &response{status: http.StatusOK, headers: map[string]string{}, body: res.body}
	switch req.Media {
	case sqlgen.MediaCSV:
		resp.contentType = "text/csv; charset=utf-8"
	case sqlgen.MediaObject:
		resp.contentType = "application/vnd.pgrst.object+json; charset=utf-8"
		if req.StripNulls {
			resp.contentType = "application/vnd.pgrst.object+json;nulls=stripped; charset=utf-8"
		}
	default:
		resp.contentType = "application/json; charset=utf-8"
		if req.StripNulls {
			resp.contentType = mediaArray + ";nulls=stripped; charset=utf-8"
		}
	}
	total := "*"
	if res.hasTotal {
		total = strconv.FormatInt(res.total, 10)
	}
	// Preference-Applied lists what was honoured in PostgREST's fixed
	// order, whatever the order of the request.
	var applied []string
	write := !req.RPC && r.Method != http.MethodGet && r.Method != http.MethodHead
	if write {
		if req.Prefer.Resolution != "" && r.Method == http.MethodPost {
			applied = append(applied, "resolution="+req.Prefer.Resolution)
		}
		if req.Prefer.Missing != "" {
			applied = append(applied, "missing="+req.Prefer.Missing)
		}
		if req.Prefer.Return != "" {
			applied = append(applied, "return="+req.Prefer.Return)
		}
	}
	if req.Prefer.Count != "" && res.hasTotal {
		applied = append(applied, "count="+req.Prefer.Count)
	}
	if req.Prefer.Tx != "" {
		applied = append(applied, "tx="+req.Prefer.Tx)
	}
	if req.Prefer.Handling != "" {
		applied = append(applied, "handling="+req.Prefer.Handling)
	}
	if write && req.Prefer.HasMax && req.Prefer.Handling == "strict" {
		applied = append(applied, "max-affected="+strconv.FormatInt(req.Prefer.MaxAffected, 10))
	}
	if len(applied) > 0 {
		resp.headers["Preference-Applied"] = strings.Join(applied, ", ")
	}
	switch {
	case req.RPC && st.Void:
		resp.status, resp.body, resp.contentType = http.StatusNoContent, nil, ""
	case write:
		representation := req.Prefer.Return == "representation"
		switch r.Method {
		case http.MethodPost:
			resp.status = http.StatusCreated
			if req.Prefer.Resolution == "merge-duplicates" && res.hasInserted && res.inserted == 0 {
				resp.status = http.StatusOK
			}
			if req.Prefer.Return == "headers-only" && res.location != nil {
				resp.headers["Location"] = location(req.Name, res.location)
			}
			resp.headers["Content-Range"] = "*/" + total
		case http.MethodPut:
			// No Content-Range: PUT addresses one row.
			resp.status = http.StatusNoContent
			if representation {
				resp.status = http.StatusOK
				if res.inserted > 0 {
					resp.status = http.StatusCreated
				}
			}
		case http.MethodDelete:
			resp.status = http.StatusNoContent
			if representation {
				resp.status = http.StatusOK
			}
			resp.headers["Content-Range"] = "*/" + total
		default:
			resp.status = http.StatusNoContent
			if representation {
				resp.status = http.StatusOK
			}
			resp.headers["Content-Range"] = contentRange(0, res.pageTotal, total)
		}
		if !representation {
			resp.body, resp.contentType = nil, ""
			if resp.status == http.StatusOK && r.Method != http.MethodPost {
				resp.status = http.StatusNoContent
			}
		}
	default:
		resp.headers["Content-Range"] = contentRange(st.Offset, res.pageTotal, total)
		if res.hasTotal {
			switch {
			case st.Offset > 0 && st.Offset >= res.total && res.total > 0 || (st.Offset > 0 && res.total == 0):
				return nil, &apierr.Error{Status: http.StatusRequestedRangeNotSatisfiable, Code: "PGRST103",
					Message: "Requested range not satisfiable",
					Details: "An offset of " + strconv.FormatInt(st.Offset, 10) + " was requested, but there are only " +
						strconv.FormatInt(res.total, 10) + " rows.",
					// PostgREST answers this one inline: no Proxy-Status.
					Headers: map[string]string{"Content-Range": "*/" + total, "Proxy-Status": ""}}
			case res.pageTotal < res.total:
				// PostgREST's rangeStatus: the window is smaller than the
				// whole, wherever it starts.
				resp.status = http.StatusPartialContent
			}
		}
	}
	if req.Media == sqlgen.MediaObject && len(resp.body) == 0 && resp.status == http.StatusOK {
		resp.body = []byte("null")
	}
	return resp, nil
}

func contentRange(offset, n int64, total string) string {
	if n <= 0 {
		return "*/" + total
	}
	return strconv.FormatInt(offset, 10) + "-" + strconv.FormatInt(offset+n-1, 10) + "/" + total
}

// location renders the Location of an inserted row from its key's
// [name, value, …] pairs.
func location(table string, pairs []byte) string {
	var kv []string
	if json.Unmarshal(pairs, &kv) != nil {
		return "/" + table
	}
	q := make([]string, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		q = append(q, url.QueryEscape(kv[i])+"=eq."+url.QueryEscape(kv[i+1]))
	}
	return "/" + table + "?" + strings.Join(q, "&")
}

// pgError maps a Postgres error to PostgREST's status and body.
func (h *Handler) pgError(err error, id identity) error {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return &apierr.Error{Status: http.StatusServiceUnavailable, Code: "PGRST001",
			Message: "Database client error. Retrying the connection.", Err: err}
	}
	if pe.Code == "PGRST" {
		return raised(pe)
	}
	return &apierr.Error{Status: statusOf(pe.Code, pe.Message, id.token), Code: pe.Code, Message: pe.Message,
		Details: pe.Detail, Hint: pe.Hint}
}

// statusOf is PostgREST's mapping from SQLSTATE to HTTP status.
func statusOf(code, message string, token bool) int {
	switch code {
	case "23503", "23505":
		return http.StatusConflict
	case "25006":
		return http.StatusMethodNotAllowed
	case "21000":
		// pg-safeupdate's refusal is the client's doing; any other
		// cardinality violation is the server's.
		if strings.HasSuffix(message, "requires a WHERE clause") {
			return http.StatusBadRequest
		}
		return http.StatusInternalServerError
	case "22023":
		if strings.HasPrefix(message, "role") && strings.HasSuffix(message, "does not exist") {
			return http.StatusUnauthorized
		}
		return http.StatusBadRequest
	case "53400", "42P17":
		return http.StatusInternalServerError
	case "57P01":
		return http.StatusServiceUnavailable
	case "42883":
		if strings.HasPrefix(message, "function xmlagg(") {
			return http.StatusNotAcceptable
		}
		return http.StatusNotFound
	case "42P01":
		return http.StatusNotFound
	case "42501":
		if token {
			return http.StatusForbidden
		}
		return http.StatusUnauthorized
	case "P0001":
		return http.StatusBadRequest
	}
	if strings.HasPrefix(code, "PT") {
		// RAISE SQLSTATE 'PTnnn' answers nnn; a code that is not a status
		// is the server's error.
		if n, err := strconv.Atoi(code[2:]); err == nil && n >= 100 && n < 600 {
			return n
		}
		return http.StatusInternalServerError
	}
	if len(code) < 2 {
		return http.StatusBadRequest
	}
	switch code[:2] {
	case "08", "53":
		return http.StatusServiceUnavailable
	case "09", "25", "2D", "38", "39", "3B", "40", "54", "55", "57", "58", "F0", "HV", "P0", "XX":
		return http.StatusInternalServerError
	case "0L", "0P", "28":
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// raised is the response a function asked for with RAISE SQLSTATE
// 'PGRST': its MESSAGE the body ({code, message, details, hint}), its
// DETAIL the status and headers ({status, headers}).
func raised(pe *pgconn.PgError) error {
	const (
		msgHint    = "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'."
		detailHint = "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'."
	)
	parseErr := func(details, hint string) error {
		return &apierr.Error{Status: http.StatusInternalServerError, Code: "PGRST121",
			Message: `Could not parse JSON in the "RAISE SQLSTATE 'PGRST'" error`, Details: details, Hint: hint}
	}
	var body struct {
		Code    *string `json:"code"`
		Message *string `json:"message"`
		Details *string `json:"details"`
		Hint    *string `json:"hint"`
	}
	if json.Unmarshal([]byte(pe.Message), &body) != nil || body.Code == nil || body.Message == nil {
		return parseErr("Invalid JSON value for MESSAGE: '"+pe.Message+"'", msgHint)
	}
	if pe.Detail == "" {
		return parseErr("DETAIL is missing in the RAISE statement", detailHint)
	}
	var detail struct {
		Status  *int              `json:"status"`
		Headers map[string]string `json:"headers"`
	}
	if json.Unmarshal([]byte(pe.Detail), &detail) != nil || detail.Status == nil || detail.Headers == nil ||
		*detail.Status < 100 || *detail.Status > 999 {
		return parseErr("Invalid JSON value for DETAIL: '"+pe.Detail+"'", detailHint)
	}
	e := &apierr.Error{Status: *detail.Status, Code: *body.Code, Message: *body.Message, Headers: detail.Headers}
	if body.Details != nil {
		e.Details = *body.Details
	}
	if body.Hint != nil {
		e.Hint = *body.Hint
	}
	return e
}

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, "\x00", ""), `"`, `""`) + `"`
}

// csvToJSON converts a CSV body (a header of column names, then rows;
// NULL for a null) to a JSON array of objects of strings.
func csvToJSON(b []byte) ([]byte, error) {
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) == 0 {
		return nil, &apierr.Error{Status: http.StatusBadRequest, Code: "PGRST102", Message: "Empty or invalid csv", Err: err}
	}
	rows := make([]map[string]any, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		row := map[string]any{}
		for i, col := range recs[0] {
			if i >= len(rec) || rec[i] == "NULL" {
				row[col] = nil
				continue
			}
			row[col] = rec[i]
		}
		rows = append(rows, row)
	}
	return json.Marshal(rows)
}

// formToJSON converts a urlencoded body to a JSON object of strings.
func formToJSON(b []byte) ([]byte, error) {
	vals, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, &apierr.Error{Status: http.StatusBadRequest, Code: "PGRST102", Message: "Empty or invalid json", Err: err}
	}
	// A repeated key is an array, as PostgREST passes it to a variadic
	// parameter.
	obj := map[string]any{}
	for k, v := range vals {
		if len(v) == 1 {
			obj[k] = v[0]
		} else {
			obj[k] = v
		}
	}
	return json.Marshal(obj)
}

// timings are PostgREST's Server-Timing phases of a request, when the
// settings ask for them.
type timings struct {
	on     bool
	last   time.Time
	phases []string
	durs   []time.Duration
}

func newTimings(on bool) *timings { return &timings{on: on, last: time.Now()} }

// mark ends the phase under way, recording it under name ("" drops it).
func (t *timings) mark(name string) {
	if !t.on {
		return
	}
	now := time.Now()
	if name != "" {
		if i := slices.Index(t.phases, name); i >= 0 {
			t.durs[i] += now.Sub(t.last)
		} else {
			t.phases = append(t.phases, name)
			t.durs = append(t.durs, now.Sub(t.last))
		}
	}
	t.last = now
}

func (t *timings) header(h map[string]string) {
	if !t.on || len(t.phases) == 0 {
		return
	}
	parts := make([]string, len(t.phases))
	for i, p := range t.phases {
		parts[i] = p + ";dur=" + strconv.FormatFloat(float64(t.durs[i].Microseconds())/1000, 'f', 1, 64)
	}
	h["Server-Timing"] = strings.Join(parts, ", ")
}

// options answers OPTIONS on a resource with the methods it accepts, as
// PostgREST's Allow: a table all of them, a view those its rules and
// triggers allow, a function POST (and GET unless it is volatile).
func options(cache *schemacache.Schema, schema string, req *sqlgen.Request) (*response, error) {
	allow := "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"
	if req.RPC {
		fns := cache.Functions[schemacache.QName{Schema: schema, Name: req.Name}]
		if len(fns) == 0 {
			_, err := cache.FindFunction(schema, req.Name, nil, false)
			return nil, err
		}
		allow = "OPTIONS,GET,HEAD,POST"
		if fns[0].Volatility == 'v' {
			allow = "OPTIONS,POST"
		}
	} else {
		t, err := cache.FindTable(schema, req.Name)
		if err != nil {
			return nil, err
		}
		if t.Kind != schemacache.KindTable && t.Kind != schemacache.KindPartitioned {
			allow = "OPTIONS,GET,HEAD"
			if t.Insertable {
				allow += ",POST"
			}
			if t.Updatable {
				allow += ",PUT,PATCH"
			}
			if t.Deletable {
				allow += ",DELETE"
			}
		}
	}
	return &response{status: http.StatusOK, headers: map[string]string{"Allow": allow}}, nil
}

// plannedRows reads the top plan's row estimate from EXPLAIN (FORMAT JSON).
func plannedRows(rr *pgconn.ResultReader) (int64, error) {
	var text []byte
	for rr.NextRow() {
		if v := rr.Values(); len(v) == 1 {
			text = append(text, v[0]...)
		}
	}
	if _, err := rr.Close(); err != nil {
		return 0, err
	}
	var plans []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(text, &plans); err != nil {
		return 0, fmt.Errorf("read the plan's row estimate: %w", err)
	}
	if len(plans) == 0 {
		return 0, errors.New("read the plan's row estimate: no plan")
	}
	return int64(plans[0].Plan.Rows), nil
}
