package sqlhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/grovedb/grove/internal/computepool"

	"github.com/jackc/pgx/v5/pgconn"
)

// query is one statement of a request.
type query struct {
	Query     string            `json:"query"`
	Params    []json.RawMessage `json:"params"`
	ArrayMode *bool             `json:"arrayMode"`
}

// payload is a request body: one query, or a batch run as one transaction.
type payload struct {
	queries []query
	batch   bool
}

// readPayload reads and parses the body, bounded by limit; it returns the
// body's length for metering.
func readPayload(w http.ResponseWriter, r *http.Request, limit int) (payload, int, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(limit)))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return payload{}, 0, &httpError{Status: http.StatusRequestEntityTooLarge,
				Message: fmt.Sprintf("request is too large (max is %d bytes)", limit)}
		}
		return payload{}, 0, userErrorf("could not read the HTTP request body: %v", err)
	}
	pl, err := parsePayload(body)
	if err != nil {
		return payload{}, len(body), userErrorf("could not parse the HTTP request body: %v", err)
	}
	return pl, len(body), nil
}

// parsePayload accepts what Neon's proxy does: an object with "query"
// (and optional "params", "arrayMode"), else one with "queries".
func parsePayload(body []byte) (payload, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return payload{}, err
	}
	if _, ok := raw["query"]; ok {
		q, err := parseQuery(raw)
		return payload{queries: []query{q}}, err
	}
	if rq, ok := raw["queries"]; ok {
		var list []map[string]json.RawMessage
		if err := json.Unmarshal(rq, &list); err != nil {
			return payload{}, fmt.Errorf("queries: %w", err)
		}
		pl := payload{batch: true, queries: make([]query, 0, len(list))}
		for i, m := range list {
			if _, ok := m["query"]; !ok {
				return payload{}, fmt.Errorf("queries[%d]: missing field `query`", i)
			}
			q, err := parseQuery(m)
			if err != nil {
				return payload{}, fmt.Errorf("queries[%d]: %w", i, err)
			}
			pl.queries = append(pl.queries, q)
		}
		return pl, nil
	}
	return payload{}, errors.New("data did not match any variant of untagged enum Payload")
}

func parseQuery(m map[string]json.RawMessage) (query, error) {
	var q query
	if err := json.Unmarshal(m["query"], &q.Query); err != nil {
		return q, fmt.Errorf("query: %w", err)
	}
	if p, ok := m["params"]; ok && !bytes.Equal(bytes.TrimSpace(p), []byte("null")) {
		if err := json.Unmarshal(p, &q.Params); err != nil {
			return q, fmt.Errorf("params: %w", err)
		}
	}
	if a, ok := m["arrayMode"]; ok && !bytes.Equal(bytes.TrimSpace(a), []byte("null")) {
		var v bool
		if err := json.Unmarshal(a, &v); err != nil {
			return q, fmt.Errorf("arrayMode: %w", err)
		}
		q.ArrayMode = &v
	}
	return q, nil
}

// errStale marks a pooled connection found dead before it ran anything.
var errStale = errors.New("pooled connection unusable")

// rowBudget is what is left of a request's bytes of rows.
type rowBudget struct{ left, max int }

// errTooLarge is the 507 of a response over the limit.
func errTooLarge(limit int) error {
	return &httpError{Status: http.StatusInsufficientStorage, Message: fmt.Sprintf("response is too large (max is %d bytes)", limit)}
}

// run executes the payload on sc and returns the response body. A batch
// runs in one transaction, committed when every statement succeeded and
// rolled back at the first error.
func (h *Handler) run(ctx context.Context, sc *computepool.Conn, pl payload, o options) ([]byte, error) {
	// The limit on rows holds for the whole request, as in Neon's proxy.
	budget := &rowBudget{left: h.cfg.MaxResponseBytes, max: h.cfg.MaxResponseBytes}
	if !pl.batch {
		return runOne(ctx, sc, nil, pl.queries[0], o, budget)
	}
	begin := "BEGIN"
	if o.isolation != "" {
		begin += " ISOLATION LEVEL " + o.isolation
	}
	if o.readOnly {
		begin += " READ ONLY"
	}
	if o.deferrable {
		begin += " DEFERRABLE"
	}
	rr, done, err := execute(ctx, sc, begin, nil)
	if err != nil {
		return nil, err
	}
	if _, err := rr.Close(); err != nil {
		return nil, err
	}
	if err := done(); err != nil {
		return nil, err
	}
	pc := sc.PC
	b := []byte(`{"results":[`)
	for i, q := range pl.queries {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = runOne(ctx, sc, b, q, o, budget); err != nil {
			if pc.TxStatus() != 'I' && !pc.IsClosed() {
				if rerr := simple(ctx, pc, "ROLLBACK"); rerr != nil {
					return nil, errors.Join(err, rerr)
				}
			}
			return nil, err
		}
	}
	if err := simple(ctx, pc, "COMMIT"); err != nil {
		return nil, err
	}
	return append(b, "]}"...), nil
}

func simple(ctx context.Context, pc *pgconn.PgConn, sql string) error {
	_, err := pc.Exec(ctx, sql).ReadAll()
	return err
}

// execute starts one statement on sc. A connection an earlier request used
// is reset first, with DISCARD ALL, so that nothing of that request's
// session (settings, temporary tables, prepared statements, advisory
// locks, LISTENs) reaches this one; the reset is pipelined ahead of the
// statement, in the same round trip. done reads the end of the round trip
// once rr is read.
func execute(ctx context.Context, sc *computepool.Conn, sql string, params [][]byte) (rr *pgconn.ResultReader, done func() error, err error) {
	if !sc.Dirty {
		return sc.PC.ExecParams(ctx, sql, params, nil, nil, nil), func() error { return nil }, nil
	}
	sc.Dirty = false
	pl := sc.PC.StartPipeline(ctx)
	fail := func(err error) (*pgconn.ResultReader, func() error, error) {
		sc.Broken = true
		_ = pl.Close()
		// Not the client's error: %v keeps a Postgres error of the reset
		// from passing for one of the statement. Postgres answers in
		// order, so a connection that fails before the reset's answer
		// never ran the statement: the request may take another.
		return nil, nil, fmt.Errorf("%w: %v", errStale, err)
	}
	pl.SendQueryParams("DISCARD ALL", nil, nil, nil, nil)
	pl.Sync()
	pl.SendQueryParams(sql, params, nil, nil, nil)
	pl.Sync()
	if err := pl.Flush(); err != nil {
		return fail(err)
	}
	r, err := pl.GetResults()
	reset, ok := r.(*pgconn.ResultReader)
	if err != nil || !ok {
		return fail(fmt.Errorf("DISCARD ALL: %T, %v", r, err))
	}
	if _, err := reset.Close(); err != nil {
		return fail(err)
	}
	if r, err := pl.GetResults(); err != nil {
		return fail(err)
	} else if _, ok := r.(*pgconn.PipelineSync); !ok {
		return fail(fmt.Errorf("DISCARD ALL: %T before its sync", r))
	}
	done = func() error {
		for {
			r, err := pl.GetResults()
			if err != nil {
				sc.Broken = true
				_ = pl.Close()
				return fmt.Errorf("end of statement: %w", err)
			}
			if _, ok := r.(*pgconn.PipelineSync); ok || r == nil {
				return pl.Close()
			}
		}
	}
	r, err = pl.GetResults()
	if err != nil {
		// The statement's own error (a Parse or Bind refused); the rest
		// of its round trip is read so that the connection stays usable.
		if derr := done(); derr != nil {
			return nil, nil, errors.Join(err, derr)
		}
		return nil, nil, err
	}
	if rr, ok = r.(*pgconn.ResultReader); !ok {
		return fail(fmt.Errorf("statement: %T", r))
	}
	return rr, done, nil
}

// runOne runs one statement with the extended protocol (so one statement
// only, parameters as text) and appends its result, in node-postgres'
// shape, to b. Its rows take their bytes from budget; past it, 507.
func runOne(ctx context.Context, sc *computepool.Conn, b []byte, q query, o options, budget *rowBudget) ([]byte, error) {
	params, err := paramsText(q.Params)
	if err != nil {
		return nil, userErrorf("could not parse the HTTP request body: %v", err)
	}
	arrayMode := o.arrayMode
	if q.ArrayMode != nil {
		arrayMode = *q.ArrayMode
	}
	rr, done, err := execute(ctx, sc, q.Query, params)
	if err != nil {
		return nil, err
	}
	fds := rr.FieldDescriptions()
	b = append(b, `{"fields":[`...)
	for i, f := range fds {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendJSONString(b, []byte(f.Name))
		b = append(b, `,"dataTypeID":`...)
		b = strconv.AppendUint(b, uint64(f.DataTypeOID), 10)
		b = append(b, `,"tableID":`...)
		b = strconv.AppendUint(b, uint64(f.TableOID), 10)
		b = append(b, `,"columnID":`...)
		b = strconv.AppendUint(b, uint64(f.TableAttributeNumber), 10)
		b = append(b, `,"dataTypeSize":`...)
		b = strconv.AppendInt(b, int64(f.DataTypeSize), 10)
		b = append(b, `,"dataTypeModifier":`...)
		b = strconv.AppendInt(b, int64(f.TypeModifier), 10)
		b = append(b, `,"format":"text"}`...)
	}
	b = append(b, `],"rows":[`...)
	var convErr error
	for n := 0; rr.NextRow(); n++ {
		if convErr != nil {
			continue // drain
		}
		if n > 0 {
			b = append(b, ',')
		}
		vals := rr.Values()
		// The limit counts what Postgres sent, as Neon's proxy does: each
		// DataRow's body (a count, and a length and the bytes per value).
		budget.left -= 2
		for _, v := range vals {
			budget.left -= 4 + len(v)
		}
		if budget.left < 0 {
			// Stop here: the connection is closed rather than drained.
			return nil, errTooLarge(budget.max)
		}
		if b, convErr = appendRow(b, fds, vals, o.rawText, arrayMode); convErr != nil {
			continue
		}
	}
	tag, err := rr.Close()
	if derr := done(); derr != nil {
		return nil, errors.Join(err, derr)
	}
	if err != nil {
		return nil, err
	}
	if convErr != nil {
		return nil, fmt.Errorf("convert row: %w", convErr)
	}
	cmd, count := parseCommandTag(tag.String())
	b = append(b, `],"command":`...)
	b = appendJSONString(b, []byte(cmd))
	b = append(b, `,"rowCount":`...)
	if count < 0 {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, count, 10)
	}
	b = append(b, `,"rowAsArray":`...)
	b = strconv.AppendBool(b, arrayMode)
	return append(b, '}'), nil
}

func appendRow(b []byte, fds []pgconn.FieldDescription, vals [][]byte, raw, arrayMode bool) ([]byte, error) {
	if arrayMode {
		b = append(b, '[')
	} else {
		b = append(b, '{')
	}
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		if !arrayMode {
			b = appendJSONString(b, []byte(fds[i].Name))
			b = append(b, ':')
		}
		switch {
		case v == nil:
			b = append(b, "null"...)
		case raw:
			b = appendJSONString(b, v)
		default:
			var err error
			if b, err = appendValue(b, v, fds[i].DataTypeOID); err != nil {
				return nil, err
			}
		}
	}
	if arrayMode {
		return append(b, ']'), nil
	}
	return append(b, '}'), nil
}

// parseCommandTag splits a command tag into the command and its row count
// (-1 when it has none), as node-postgres does: INSERT's count is its
// second number.
func parseCommandTag(tag string) (string, int64) {
	name, rest, ok := strings.Cut(tag, " ")
	if !ok {
		return tag, -1
	}
	if name == "INSERT" {
		_, rest, ok = strings.Cut(rest, " ")
		if !ok {
			return name, -1
		}
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return name, -1
	}
	return name, n
}
