package sqlgen

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/grovedb/grove/internal/dataapi/apierr"
	"github.com/grovedb/grove/internal/dataapi/schemacache"
)

// rpc is a call of a function at /rpc/name: GET with its arguments in the
// query string (in a read-only transaction), POST with a JSON
// object of them or, for a single unnamed json, jsonb, text, bytea or xml
// parameter, the body whole. A function returning rows is filtered,
// ordered, limited and embedded like a table.
func (b *builder) rpc() (*Statement, error) {
	r := b.req
	args := map[string]json.RawMessage{}
	var names []string
	whole := false
	multi := map[string][]string{}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		for _, a := range r.Params.Args {
			if _, ok := multi[a[0]]; !ok {
				names = append(names, a[0])
			}
			multi[a[0]] = append(multi[a[0]], a[1])
		}
		for k, vs := range multi {
			var raw []byte
			if len(vs) == 1 {
				raw, _ = json.Marshal(vs[0])
			} else {
				raw, _ = json.Marshal(vs) // repeated: a variadic argument
			}
			args[k] = raw
		}
	case http.MethodPost:
		body := bytes.TrimSpace(r.Body)
		if len(body) == 0 {
			body = []byte("{}")
		}
		if body[0] == '[' {
			// As PostgREST: an array's first object names the arguments.
			var rows []json.RawMessage
			if json.Unmarshal(body, &rows) == nil && len(rows) > 0 {
				if first := bytes.TrimSpace(rows[0]); len(first) > 0 && first[0] == '{' {
					body = first
				}
			}
		}
		if body[0] == '{' {
			if err := json.Unmarshal(body, &args); err != nil {
				return nil, errInvalidBody("")
			}
			names = objectKeys(body)
		}
		whole = true
	default:
		return nil, apierr.New(http.StatusMethodNotAllowed, "PGRST101", "Cannot use the %s method on RPC", r.Method)
	}
	fn, err := b.s.FindFunction(r.Schema, r.Name, names, whole)
	if err != nil {
		return nil, err
	}
	if r.Prefer.HasMax && r.Prefer.Handling == "strict" && !fn.ReturnsSet {
		return nil, apierr.New(http.StatusBadRequest, "PGRST128",
			"Function must return SETOF or TABLE when max-affected preference is used with handling=strict")
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		// A repeated parameter is an array only for a variadic one;
		// otherwise its last value counts.
		for _, p := range fn.Params {
			if vs := multi[p.Name]; len(vs) > 1 && !p.Variadic {
				args[p.Name], _ = json.Marshal(vs[len(vs)-1])
			}
		}
	}
	args_, call, err := b.callArgs(fn, args)
	if err != nil {
		return nil, err
	}
	callSQL := qualified(fn.Name) + "(" + call + ")"
	// GET runs any function in a read-only transaction, as PostgREST does:
	// a volatile one that writes fails there (25006, 405).
	st := &Statement{Write: fn.Volatility == 'v' && r.Method == http.MethodPost, Void: fn.ReturnsVoid}
	if !fn.ReturnsComposite {
		source := "SELECT " + callSQL + " AS pgrst_scalar"
		if args_ != "" {
			source += " FROM " + args_
		}
		o := outer{source: source, scalar: true, setOf: fn.ReturnsSet, noBody: fn.ReturnsVoid}
		if c := r.Prefer.Count; c == "exact" || c == "estimated" {
			o.total = "(SELECT pg_catalog.count(*) FROM pgrst_source)"
		}
		st.SQL = b.wrap(o)
		st.Args = b.args
		return st, nil
	}
	// Rows: the function's result is the resource, named like the
	// function, with the relationships of the table whose rows it returns.
	alias := quoteIdent(fn.Name.Name)
	t := b.s.Tables[fn.ReturnType]
	n := &node{table: t, name: fn.ReturnType, qual: alias, items: r.Params.Select}
	if err := b.plan(n); err != nil {
		return nil, err
	}
	from := callSQL + " AS " + alias
	if args_ != "" {
		from = args_ + " CROSS JOIN LATERAL " + from
	}
	w := r.window()
	source, err := b.selectFrom(n, from, nil, w, false)
	if err != nil {
		return nil, err
	}
	o := outer{source: source}
	if c := r.Prefer.Count; c == "exact" || c == "estimated" {
		o.total = "(SELECT pg_catalog.count(*) FROM " + from + ")"
	}
	st.SQL = b.wrap(o)
	if !fn.ReturnsSet {
		// One row: a JSON object, not an array, as PostgREST answers.
		st.SQL = strings.Replace(st.SQL, `coalesce(json_agg(_postgrest_t), '[]')::text`, `coalesce((json_agg(_postgrest_t)->0)::text, 'null')`, 1)
	}
	st.Args, st.Offset, st.Table = b.args, w.Offset, t
	return st, nil
}

// callArgs renders a call's arguments: the body whole for a single
// unnamed parameter, else each given argument from a typed record built
// out of the JSON (so that JSON arrays become Postgres arrays and strings
// go through their type's input function). from is the record's FROM item
// ("" when none).
func (b *builder) callArgs(fn *schemacache.Function, args map[string]json.RawMessage) (from, call string, err error) {
	if len(fn.Params) == 1 && fn.Params[0].Name == "" {
		raw := bytes.TrimSpace(b.req.Body)
		if b.req.Method != http.MethodPost || len(raw) == 0 {
			if raw, err = json.Marshal(args); err != nil {
				return "", "", errInvalidBody(err.Error())
			}
		}
		return "", b.param(string(raw)) + "::" + fn.Params[0].Type, nil
	}
	var defs, calls []string
	for _, p := range fn.Params {
		v, given := args[p.Name]
		if !given {
			continue // left to its default
		}
		if p.Variadic && len(v) > 0 && v[0] != '[' {
			args[p.Name] = json.RawMessage("[" + string(v) + "]")
		}
		defs = append(defs, quoteIdent(p.Name)+" "+p.Type)
		call := quoteIdent(p.Name) + " := pgrst_args." + quoteIdent(p.Name)
		if p.Variadic {
			call = "VARIADIC " + call
		}
		calls = append(calls, call)
	}
	if len(defs) == 0 {
		return "", "", nil
	}
	rec, err := json.Marshal(args)
	if err != nil {
		return "", "", errInvalidBody(err.Error())
	}
	return "json_to_record(" + b.param(string(rec)) + "::json) AS pgrst_args(" + strings.Join(defs, ", ") + ")", strings.Join(calls, ", "), nil
}
