package sqlgen

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/grovedb/grove/internal/dataapi/apierr"
	"github.com/grovedb/grove/internal/dataapi/query"
	"github.com/grovedb/grove/internal/dataapi/schemacache"
)

// payload is a request body: one object or an array of them, with the
// keys the objects carry (the first object's, in order).
type payload struct {
	rows []map[string]json.RawMessage
	keys []string
	raw  []byte // the rows as a JSON array
}

func errInvalidBody(details string) *apierr.Error {
	e := apierr.New(http.StatusBadRequest, "PGRST102", "Empty or invalid json")
	e.Details = details
	return e
}

// parsePayload reads the body. Every object must carry the same keys
// unless missing=default or columns= says which to take (PostgREST's
// "All object keys must match").
func parsePayload(body []byte, lenient bool) (*payload, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errInvalidBody("")
	}
	var rows []map[string]json.RawMessage
	if body[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(body, &elems); err != nil {
			return nil, errInvalidBody("")
		}
		for _, e := range elems {
			// Valid JSON that is not all objects is PostgREST's key mismatch.
			if e = bytes.TrimSpace(e); len(e) == 0 || e[0] != '{' {
				return nil, apierr.New(http.StatusBadRequest, "PGRST102", "All object keys must match")
			}
		}
		if err := json.Unmarshal(body, &rows); err != nil {
			return nil, errInvalidBody("")
		}
	} else {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(body, &one); err != nil || one == nil {
			return nil, errInvalidBody("")
		}
		rows = []map[string]json.RawMessage{one}
	}
	p := &payload{rows: rows}
	if len(rows) > 0 {
		keys := objectKeys(body)
		p.keys = keys
		for _, r := range rows[1:] {
			if lenient {
				for k := range r {
					if !slices.Contains(p.keys, k) {
						p.keys = append(p.keys, k)
					}
				}
				continue
			}
			if len(r) != len(keys) || !hasAll(r, keys) {
				return nil, apierr.New(http.StatusBadRequest, "PGRST102", "All object keys must match")
			}
		}
	}
	raw, err := json.Marshal(rows)
	if err != nil {
		return nil, errInvalidBody(err.Error())
	}
	p.raw = raw
	return p, nil
}

func hasAll(r map[string]json.RawMessage, keys []string) bool {
	for _, k := range keys {
		if _, ok := r[k]; !ok {
			return false
		}
	}
	return true
}

// objectKeys returns the keys of the body's first object in the order
// they were written, so that columns keep the client's order.
func objectKeys(body []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	t, err := dec.Token()
	if err == nil && t == json.Delim('[') {
		t, err = dec.Token()
	}
	if err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		if k, ok := t.(string); ok && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
	}
	return keys
}

// columnsOf returns the columns to write: columns= when given, else the
// payload's keys; each must be a column of the table (PGRST204).
func (b *builder) columnsOf(t *schemacache.Table, p *payload) ([]*schemacache.Column, error) {
	names := p.keys
	if b.req.Params.Columns != nil {
		names = b.req.Params.Columns
	}
	cols := make([]*schemacache.Column, 0, len(names))
	for _, n := range names {
		c := t.Column(n)
		if c == nil {
			return nil, apierr.New(http.StatusBadRequest, "PGRST204",
				"Could not find the '%s' column of '%s' in the schema cache", n, t.Name.Name)
		}
		cols = append(cols, c)
	}
	return cols, nil
}

// rowsSource renders the payload as rows of the table's columns: a value
// the JSON left out is the column's default under missing=default, else
// NULL.
func (b *builder) rowsSource(t *schemacache.Table, cols []*schemacache.Column, p *payload) string {
	body := b.param(string(p.raw))
	defaults := b.req.Prefer.Missing == "default"
	sel := make([]string, 0, len(cols))
	for _, c := range cols {
		v := "pgrst_rec." + quoteIdent(c.Name)
		if defaults && c.Default != "" {
			v = "CASE WHEN pgrst_elem.value ? " + b.param(c.Name) + " THEN " + v + " ELSE (" + c.Default + ") END"
		}
		sel = append(sel, v)
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM jsonb_array_elements(" + body + "::jsonb) AS pgrst_elem, " +
		"LATERAL jsonb_populate_record(NULL::" + qualified(t.Name) + ", pgrst_elem.value) AS pgrst_rec"
}

// insert is POST (and PUT, a single row's upsert by its primary key).
func (b *builder) insert(t *schemacache.Table, put bool) (*Statement, error) {
	lenient := b.req.Prefer.Missing == "default" || b.req.Params.Columns != nil
	p, err := parsePayload(b.req.Body, lenient)
	if err != nil {
		return nil, err
	}
	if put {
		if err := b.checkPut(t, p); err != nil {
			return nil, err
		}
	}
	cols, err := b.columnsOf(t, p)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.Name)
	}
	var dml strings.Builder
	if len(cols) == 0 {
		// {} or [{}]: one row of defaults per object.
		if len(p.rows) == 1 {
			dml.WriteString("INSERT INTO " + qualified(t.Name) + " DEFAULT VALUES")
		} else {
			dml.WriteString("INSERT INTO " + qualified(t.Name) + " SELECT FROM jsonb_array_elements(" + b.param(string(p.raw)) + "::jsonb)")
		}
	} else {
		dml.WriteString("INSERT INTO " + qualified(t.Name) + " (" + strings.Join(names, ", ") + ") " + b.rowsSource(t, cols, p))
	}
	conflict := b.req.Params.OnConflict
	if conflict == nil {
		conflict = t.PrimaryKey
	}
	resolution := b.req.Prefer.Resolution
	if put {
		resolution = "merge-duplicates"
	}
	upsert := false
	switch resolution {
	case "merge-duplicates", "ignore-duplicates":
		upsert = true
		if len(conflict) == 0 {
			return nil, apierr.New(http.StatusBadRequest, "PGRST100", "an upsert needs a primary key or on_conflict")
		}
		qc := make([]string, len(conflict))
		for i, c := range conflict {
			qc[i] = quoteIdent(c)
		}
		dml.WriteString(" ON CONFLICT (" + strings.Join(qc, ", ") + ")")
		if resolution == "ignore-duplicates" || len(cols) == 0 {
			dml.WriteString(" DO NOTHING")
		} else {
			sets := make([]string, len(names))
			for i, n := range names {
				sets[i] = n + " = EXCLUDED." + n
			}
			dml.WriteString(" DO UPDATE SET " + strings.Join(sets, ", "))
		}
	}
	if upsert {
		return b.upsertStatement(t, dml.String())
	}
	return b.writeStatement(t, dml.String())
}

// upsertStatement is writeStatement for an INSERT … ON CONFLICT, which
// also counts the rows it inserted rather than updated (201 or 200): only
// RETURNING sees that (xmax is 0 on a new row), so the DML returns each
// row's flag beside its columns, and pgrst_dml keeps the columns.
func (b *builder) upsertStatement(t *schemacache.Table, dml string) (*Statement, error) {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = quoteIdent(c.Name)
	}
	ctes := "pgrst_upsert AS (" + dml + " RETURNING " + qualified(t.Name) + ".*, (xmax = 0) AS pgrst_inserted), " +
		"pgrst_dml AS (SELECT " + strings.Join(cols, ", ") + " FROM pgrst_upsert), "
	return b.dmlStatement(t, ctes, "(SELECT pg_catalog.count(*) FROM pgrst_upsert WHERE pgrst_inserted)")
}

// checkPut holds PUT to PostgREST's rules: one object, filters eq on
// every primary key column, and the body carrying the same values.
func (b *builder) checkPut(t *schemacache.Table, p *payload) error {
	if len(p.rows) != 1 {
		return apierr.New(http.StatusBadRequest, "PGRST102", "PUT payload must contain a single row")
	}
	if len(t.PrimaryKey) == 0 {
		return apierr.New(http.StatusMethodNotAllowed, "PGRST105", "Filters must include all and only primary key columns with 'eq' operators")
	}
	eq := map[string]string{}
	for _, f := range b.req.Params.Filters {
		if len(f.Path) > 0 || len(f.Field.Path) > 0 || f.Negate || f.Op.Op != query.OpEq || !slices.Contains(t.PrimaryKey, f.Field.Name) {
			return apierr.New(http.StatusMethodNotAllowed, "PGRST105", "Filters must include all and only primary key columns with 'eq' operators")
		}
		eq[f.Field.Name] = f.Op.Value
	}
	if len(eq) != len(t.PrimaryKey) || len(b.req.Params.Logic) > 0 {
		return apierr.New(http.StatusMethodNotAllowed, "PGRST105", "Filters must include all and only primary key columns with 'eq' operators")
	}
	for k, v := range eq {
		raw, ok := p.rows[0][k]
		if !ok {
			return apierr.New(http.StatusBadRequest, "PGRST115", "Payload values do not match URL in primary key column(s)")
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			s = string(raw)
		}
		if s != v {
			return apierr.New(http.StatusBadRequest, "PGRST115", "Payload values do not match URL in primary key column(s)")
		}
	}
	return nil
}

// update is PATCH: the payload's columns set on every row the filters
// match.
func (b *builder) update(t *schemacache.Table) (*Statement, error) {
	p, err := parsePayload(b.req.Body, false)
	if err != nil {
		return nil, err
	}
	if len(p.rows) != 1 && b.req.Params.Columns == nil {
		return nil, apierr.New(http.StatusBadRequest, "PGRST102", "PATCH payload must be a single object")
	}
	cols, err := b.columnsOf(t, p)
	if err != nil {
		return nil, err
	}
	qual := qualified(t.Name)
	if len(cols) == 0 {
		// PATCH with {}: nothing to set; PostgREST answers as if no row
		// matched. (Before the filters, whose parameters it would not use.)
		return b.writeStatement(t, "SELECT "+qual+".* FROM "+qual+" WHERE false")
	}
	n := &node{table: t, name: t.Name, qual: qual}
	conds, err := b.conditions(n)
	if err != nil {
		return nil, err
	}
	body := b.param(string(p.raw))
	sets := make([]string, len(cols))
	for i, c := range cols {
		sets[i] = quoteIdent(c.Name) + " = pgrst_body." + quoteIdent(c.Name)
	}
	dml := "UPDATE " + qual + " SET " + strings.Join(sets, ", ") +
		" FROM (SELECT * FROM jsonb_populate_record(NULL::" + qual + ", (" + body + "::jsonb)->0)) AS pgrst_body"
	if where := b.limitedWhere(t, n, conds); len(where) > 0 {
		dml += " WHERE " + strings.Join(where, " AND ")
	}
	return b.writeStatement(t, dml)
}

// delete is DELETE of every row the filters match.
func (b *builder) delete(t *schemacache.Table) (*Statement, error) {
	qual := qualified(t.Name)
	n := &node{table: t, name: t.Name, qual: qual}
	conds, err := b.conditions(n)
	if err != nil {
		return nil, err
	}
	dml := "DELETE FROM " + qual
	if where := b.limitedWhere(t, n, conds); len(where) > 0 {
		dml += " WHERE " + strings.Join(where, " AND ")
	}
	return b.writeStatement(t, dml)
}

// limitedWhere adds limit/order to a PATCH or DELETE the way PostgREST
// does: the rows are picked by ctid in a subquery.
func (b *builder) limitedWhere(t *schemacache.Table, n *node, conds []string) []string {
	w, ok := b.req.Params.Ranges[""]
	if !ok || (!w.HasLimit && w.Offset == 0) {
		return conds
	}
	order, err := b.orderBy(n)
	if err != nil {
		return conds
	}
	sub := "SELECT " + n.qual + ".ctid FROM " + qualified(t.Name)
	if len(conds) > 0 {
		sub += " WHERE " + strings.Join(conds, " AND ")
	}
	sub += order + limitSQL(b, w)
	return []string{n.qual + ".ctid = ANY(ARRAY(" + sub + "))"}
}

// writeStatement wraps a DML statement: its rows, with select= applied
// (embedding included) when the response shows them, and the Location of
// the first row's primary key.
func (b *builder) writeStatement(t *schemacache.Table, dml string) (*Statement, error) {
	ret := " RETURNING " + qualified(t.Name) + ".*"
	if strings.HasPrefix(dml, "SELECT ") {
		ret = ""
	}
	return b.dmlStatement(t, "pgrst_dml AS ("+dml+ret+"), ", "")
}

// dmlStatement answers with the rows of CTE pgrst_dml, which ctes define.
func (b *builder) dmlStatement(t *schemacache.Table, ctes, inserted string) (*Statement, error) {
	alias := quoteIdent(t.Name.Name)
	n, err := b.root(t, alias)
	if err != nil {
		return nil, err
	}
	showRows := b.req.Prefer.Return == "representation"
	source := "SELECT " + alias + ".* FROM pgrst_dml AS " + alias
	if showRows {
		// The filters chose the rows already; select= shapes them.
		saved := b.req.Params
		p := *saved
		p.Filters, p.Logic = embeddedOnly(saved.Filters), embeddedLogic(saved.Logic)
		p.Order = nil
		b.req.Params = &p
		source, err = b.selectFrom(n, "pgrst_dml AS "+alias, nil, query.Range{}, false)
		b.req.Params = saved
		if err != nil {
			return nil, err
		}
	}
	location := ""
	if len(t.PrimaryKey) > 0 && b.req.Method == http.MethodPost {
		// As PostgREST: a Location only for exactly one row written.
		parts := make([]string, len(t.PrimaryKey))
		for i, k := range t.PrimaryKey {
			parts[i] = b.param(k) + "::text, " + quoteIdent(k) + "::text"
		}
		location = "(SELECT json_build_array(" + strings.Join(parts, ", ") + ")::text FROM pgrst_dml" +
			" WHERE (SELECT pg_catalog.count(*) FROM pgrst_dml) = 1)"
	}
	total := ""
	if c := b.req.Prefer.Count; c == "exact" || c == "estimated" {
		total = "(SELECT pg_catalog.count(*) FROM pgrst_dml)"
	}
	sqlText := b.wrap(outer{ctes: ctes, source: source, total: total, location: location, inserted: inserted, noBody: !showRows})
	return &Statement{SQL: sqlText, Args: b.args, Write: true, Table: t}, nil
}

func embeddedOnly(fs []query.Filter) []query.Filter {
	var out []query.Filter
	for _, f := range fs {
		if len(f.Path) > 0 {
			out = append(out, f)
		}
	}
	return out
}

func embeddedLogic(ls []query.LogicParam) []query.LogicParam {
	var out []query.LogicParam
	for _, l := range ls {
		if len(l.Path) > 0 {
			out = append(out, l)
		}
	}
	return out
}
