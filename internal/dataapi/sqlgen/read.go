package sqlgen

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/grovedb/grove/internal/dataapi/apierr"
	"github.com/grovedb/grove/internal/dataapi/query"
	"github.com/grovedb/grove/internal/dataapi/schemacache"
)

// node is one resource of a request: the request's own (path nil) or an
// embedded one, with what select= asked of it.
type node struct {
	table *schemacache.Table // nil for a function's rows without a table
	name  schemacache.QName  // what the relationships are looked up from
	qual  string             // how its columns are qualified in SQL
	path  []string           // names or aliases from the root
	items []query.SelectItem
	rel   *schemacache.Relationship // how it joins its parent
	item  query.SelectItem          // the select item that embedded it
	kids  []*node
	lat   string // the lateral subquery's alias in the parent
}

// key is the node's name for filters, order and limits: its alias, else
// the relation as written.
func (n *node) key() string {
	if n.item.Alias != "" {
		return n.item.Alias
	}
	return n.item.Relation
}

// toOne reports whether the embedded resource is an object, not an array.
func (n *node) toOne() bool {
	return n.rel.Cardinality == schemacache.ManyToOne || n.rel.Cardinality == schemacache.OneToOne
}

// plan resolves the embedded resources under n, recursively.
func (b *builder) plan(n *node) error {
	for _, it := range n.items {
		if !it.IsEmbed() {
			continue
		}
		rel, err := b.s.FindRelationship(n.name, it.Relation, it.Hint)
		if err != nil {
			return err
		}
		child := &node{name: rel.Foreign, item: it, rel: rel, items: it.Children}
		child.table = b.s.Tables[rel.Foreign]
		child.path = append(slices.Clone(n.path), child.key())
		child.qual = b.alias(rel.Foreign.Name)
		child.lat = b.alias(n.name.Name + "_" + child.key())
		if it.Spread && !child.toOne() {
			return apierr.New(http.StatusBadRequest, "PGRST119",
				"A spread operation on '%s' is not possible", it.Relation).
				WithDetails("'%s' and '%s' do not form a many-to-one or one-to-one relationship", n.name.Name, rel.Foreign.Name)
		}
		if err := b.plan(child); err != nil {
			return err
		}
		n.kids = append(n.kids, child)
	}
	return nil
}

// kid is the embedded resource named key, or nil.
func (n *node) kid(key string) *node {
	for _, k := range n.kids {
		if k.key() == key {
			return k
		}
	}
	return nil
}

// find returns the node at path, or PostgREST's error for a filter or
// order on a resource the select did not embed.
func (n *node) find(path []string) (*node, error) {
	cur := n
	for _, p := range path {
		next := cur.kid(p)
		if next == nil {
			return nil, apierr.New(http.StatusBadRequest, "PGRST108",
				"'%s' is not an embedded resource in this request", p).
				WithHint("Verify that '%s' is included in the 'select' query parameter.", p)
		}
		cur = next
	}
	return cur, nil
}

// legacyTargets lets filters, orders and limits name an aliased embed by
// its relation, as PostgREST still does by default (its deprecated
// url-use-legacy-target-names): such a path is rewritten to the alias.
func (n *node) legacyTargets(p *query.Params) {
	for i := range p.Filters {
		p.Filters[i].Path = n.legacyPath(p.Filters[i].Path)
	}
	for i := range p.Logic {
		p.Logic[i].Path = n.legacyPath(p.Logic[i].Path)
	}
	for i := range p.Order {
		p.Order[i].Path = n.legacyPath(p.Order[i].Path)
	}
	for key, r := range p.Ranges {
		if key == "" {
			continue
		}
		if k := strings.Join(n.legacyPath(strings.Split(key, ".")), "."); k != key {
			if _, taken := p.Ranges[k]; !taken {
				delete(p.Ranges, key)
				p.Ranges[k] = r
			}
		}
	}
}

// legacyPath is path with each segment that names no embed but is the
// relation of exactly one aliased embed replaced by that alias.
func (n *node) legacyPath(path []string) []string {
	var out []string
	cur := n
	for i, seg := range path {
		next := cur.kid(seg)
		if next == nil {
			for _, k := range cur.kids {
				if k.item.Alias != "" && k.item.Relation == seg {
					if next != nil {
						return path // ambiguous: left for find to refuse
					}
					next = k
				}
			}
			if next == nil {
				return path
			}
			if out == nil {
				out = slices.Clone(path)
			}
			out[i] = next.key()
		}
		cur = next
	}
	if out == nil {
		return path
	}
	return out
}

// colExpr is a column, with its JSON path, of the resource qualified by
// qual.
func (b *builder) colExpr(qual string, f query.Field) string {
	e := qual + "." + quoteIdent(f.Name)
	for _, st := range f.Path {
		arrow := "->"
		if st.Text {
			arrow = "->>"
		}
		if st.Index {
			e += arrow + b.param(strings.TrimPrefix(st.Key, "+")) + "::integer"
		} else {
			e += arrow + b.param(st.Key) + "::text"
		}
	}
	return e
}

// outName is the name a selected column gets in the JSON: its alias, the
// last key of its JSON path, or the column's name.
func outName(it query.SelectItem) string {
	if it.Alias != "" {
		return it.Alias
	}
	if it.Aggregate != "" {
		return it.Aggregate
	}
	for i := len(it.Field.Path) - 1; i >= 0; i-- {
		if !it.Field.Path[i].Index {
			return it.Field.Path[i].Key
		}
	}
	return it.Field.Name
}

// selectList renders n's select items; groupBy lists the plain columns
// when an aggregate is among them.
func (b *builder) selectList(n *node) (cols, groupBy []string, err error) {
	hasAgg := false
	for _, it := range n.items {
		if it.Aggregate != "" {
			hasAgg = true
		}
	}
	if hasAgg && !b.req.AggregatesEnabled {
		return nil, nil, apierr.New(http.StatusBadRequest, "PGRST123", "Use of aggregate functions is not allowed")
	}
	for _, it := range n.items {
		switch {
		case it.Star:
			cols = append(cols, n.qual+".*")
			if hasAgg {
				groupBy = append(groupBy, n.qual+".*")
			}
		case it.IsEmbed():
			// Rendered from the lateral joins below.
		case it.Aggregate != "":
			arg := "*"
			if it.Field.Name != "" {
				arg = b.colExpr(n.qual, it.Field)
				if it.FieldCast != "" {
					if err := checkCast(it.FieldCast); err != nil {
						return nil, nil, err
					}
					arg = "CAST(" + arg + " AS " + it.FieldCast + ")"
				}
			}
			e := "pg_catalog." + it.Aggregate + "(" + arg + ")"
			if it.Cast != "" {
				if err := checkCast(it.Cast); err != nil {
					return nil, nil, err
				}
				e = "CAST(" + e + " AS " + it.Cast + ")"
			}
			cols = append(cols, e+" AS "+quoteIdent(outName(it)))
		default:
			e := b.colExpr(n.qual, it.Field)
			if hasAgg {
				groupBy = append(groupBy, e)
			}
			if it.Cast != "" {
				if err := checkCast(it.Cast); err != nil {
					return nil, nil, err
				}
				e = "CAST(" + e + " AS " + it.Cast + ")"
			}
			cols = append(cols, e+" AS "+quoteIdent(outName(it)))
		}
	}
	for _, k := range n.kids {
		if len(k.item.Children) == 0 {
			continue // rel() filters without showing anything
		}
		switch {
		case k.item.Spread:
			cols = append(cols, k.lat+".*")
		case k.toOne():
			cols = append(cols, k.lat+".pgrst_body AS "+quoteIdent(k.key()))
		default:
			cols = append(cols, "coalesce("+k.lat+".pgrst_body, '[]') AS "+quoteIdent(k.key()))
		}
		if hasAgg {
			groupBy = append(groupBy, k.lat+".pgrst_body")
		}
	}
	if len(cols) == 0 {
		// select=rel() only: PostgREST answers empty objects.
		cols = append(cols, "")
	}
	return cols, groupBy, nil
}

// joinCond is the condition tying child rows to their parent's.
func (b *builder) joinCond(parent, child *node) (from, where string) {
	r := child.rel
	if r.Computed() {
		// A computed relationship: the function of the parent's row.
		return qualified(r.Function) + "(ROW(" + parent.qual + ".*)::" + qualified(parent.name) + ") AS " + child.qual, ""
	}
	var conds []string
	from = qualified(r.Foreign) + " AS " + child.qual
	if r.Junction != nil {
		j := b.alias(r.Junction.Table.Name)
		var on []string
		for i, c := range r.Junction.Columns2 {
			on = append(on, j+"."+quoteIdent(c)+" = "+child.qual+"."+quoteIdent(r.ForeignColumns[i]))
		}
		from += " JOIN " + qualified(r.Junction.Table) + " AS " + j + " ON " + strings.Join(on, " AND ")
		for i, c := range r.Junction.Columns1 {
			conds = append(conds, j+"."+quoteIdent(c)+" = "+parent.qual+"."+quoteIdent(r.Columns[i]))
		}
		return from, strings.Join(conds, " AND ")
	}
	for i, c := range r.Columns {
		conds = append(conds, child.qual+"."+quoteIdent(r.ForeignColumns[i])+" = "+parent.qual+"."+quoteIdent(c))
	}
	return from, strings.Join(conds, " AND ")
}

// lateral renders the joins of n's embedded resources.
func (b *builder) laterals(n *node) (joins, wheres []string, err error) {
	for _, k := range n.kids {
		from, cond := b.joinCond(n, k)
		inner, err := b.selectFrom(k, from, []string{cond}, b.req.Params.Ranges[strings.Join(k.path, ".")], k.toOne())
		if err != nil {
			return nil, nil, err
		}
		var sub string
		switch {
		case k.item.Spread:
			sub = inner
		case k.toOne():
			sub = "SELECT row_to_json(pgrst_x)::jsonb AS pgrst_body, pgrst_x.* FROM (" + inner + ") AS pgrst_x"
		default:
			sub = "SELECT json_agg(pgrst_x)::jsonb AS pgrst_body FROM (" + inner + ") AS pgrst_x"
		}
		join := "LEFT JOIN LATERAL "
		if k.item.Join == query.JoinInner {
			if k.toOne() {
				join = "JOIN LATERAL "
			} else {
				wheres = append(wheres, k.lat+".pgrst_body IS NOT NULL")
			}
		}
		joins = append(joins, join+"("+sub+") AS "+k.lat+" ON TRUE")
	}
	return joins, wheres, nil
}

// selectFrom renders SELECT … FROM from WHERE … ORDER BY … LIMIT for a
// resource, its embedded ones included.
func (b *builder) selectFrom(n *node, from string, where []string, w query.Range, toOne bool) (string, error) {
	cols, groupBy, err := b.selectList(n)
	if err != nil {
		return "", err
	}
	joins, wheres, err := b.laterals(n)
	if err != nil {
		return "", err
	}
	conds, err := b.conditions(n)
	if err != nil {
		return "", err
	}
	where = append(append(where, conds...), wheres...)
	var sb strings.Builder
	sb.WriteString("SELECT " + strings.Join(cols, ", ") + " FROM " + from)
	for _, j := range joins {
		sb.WriteString(" " + j)
	}
	if ws := nonEmpty(where); len(ws) > 0 {
		sb.WriteString(" WHERE " + strings.Join(ws, " AND "))
	}
	if len(groupBy) > 0 {
		sb.WriteString(" GROUP BY " + strings.Join(groupBy, ", "))
	}
	order, err := b.orderBy(n)
	if err != nil {
		return "", err
	}
	sb.WriteString(order)
	if !toOne {
		sb.WriteString(limitSQL(b, w))
	}
	return sb.String(), nil
}

func nonEmpty(ss []string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// orderBy renders the order parameters of n.
func (b *builder) orderBy(n *node) (string, error) {
	var terms []string
	for _, op := range b.req.Params.Order {
		if !slices.Equal(op.Path, n.path) && !(len(op.Path) == 0 && len(n.path) == 0) {
			continue
		}
		for _, t := range op.Terms {
			qual := n.qual
			if t.Relation != "" {
				rel := n.kid(t.Relation)
				if rel == nil {
					return "", apierr.New(http.StatusBadRequest, "PGRST108",
						"'%s' is not an embedded resource in this request", t.Relation).
						WithHint("Verify that '%s' is included in the 'select' query parameter.", t.Relation)
				}
				if !rel.toOne() {
					return "", apierr.New(http.StatusBadRequest, "PGRST118",
						"A related order on '%s' is not possible", t.Relation).
						WithDetails("'%s' and '%s' do not form a many-to-one or one-to-one relationship", n.name.Name, rel.name.Name)
				}
				qual = rel.lat
			}
			e := b.colExpr(qual, t.Field)
			switch t.Dir {
			case query.Asc:
				e += " ASC"
			case query.Desc:
				e += " DESC"
			}
			switch t.Nulls {
			case query.NullsFirst:
				e += " NULLS FIRST"
			case query.NullsLast:
				e += " NULLS LAST"
			}
			terms = append(terms, e)
		}
	}
	if len(terms) == 0 {
		return "", nil
	}
	return " ORDER BY " + strings.Join(terms, ", "), nil
}

// root returns the request's own resource, planned.
func (b *builder) root(t *schemacache.Table, qual string) (*node, error) {
	n := &node{table: t, name: t.Name, qual: qual, items: b.req.Params.Select}
	if err := b.plan(n); err != nil {
		return nil, err
	}
	n.legacyTargets(b.req.Params)
	// Every filter, logic tree and order must name an embedded resource.
	for _, f := range b.req.Params.Filters {
		if _, err := n.find(f.Path); err != nil {
			return nil, err
		}
	}
	for _, l := range b.req.Params.Logic {
		if _, err := n.find(l.Path); err != nil {
			return nil, err
		}
	}
	for _, o := range b.req.Params.Order {
		if _, err := n.find(o.Path); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// read is GET and HEAD on a table or view.
func (b *builder) read(t *schemacache.Table) (*Statement, error) {
	n, err := b.root(t, qualified(t.Name))
	if err != nil {
		return nil, err
	}
	w := b.req.window()
	source, err := b.selectFrom(n, qualified(t.Name), nil, w, false)
	if err != nil {
		return nil, err
	}
	total, err := b.count(n, qualified(t.Name))
	if err != nil {
		return nil, err
	}
	st := &Statement{SQL: b.wrap(outer{source: source, total: total}), Args: b.args, Offset: w.Offset, Table: t}
	if c := b.req.Prefer.Count; c == "planned" || (c == "estimated" && b.req.MaxRows > 0) {
		// The planner's estimate of the rows the filters match, from an
		// EXPLAIN of its own (fresh parameters and aliases).
		pb := &builder{s: b.s, req: b.req}
		pn, err := pb.root(t, qualified(t.Name))
		if err != nil {
			return nil, err
		}
		rows, err := pb.matching(pn, qualified(t.Name), "1")
		if err != nil {
			return nil, err
		}
		st.PlanSQL, st.PlanArgs = "EXPLAIN (FORMAT JSON) "+rows, pb.args
	}
	return st, nil
}

// count is the total_result_set expression: the rows the filters match,
// without the window, when Prefer asks for an exact count.
func (b *builder) count(n *node, from string) (string, error) {
	switch {
	case b.req.Prefer.Count == "exact", b.req.Prefer.Count == "estimated" && b.req.MaxRows <= 0:
		rows, err := b.matching(n, from, "pg_catalog.count(*)")
		return "(" + rows + ")", err
	case b.req.Prefer.Count == "estimated":
		// Exact up to db_max_rows: counting stops one row past it, and the
		// handler takes the planner's estimate beyond.
		rows, err := b.matching(n, from, "1")
		limit := strconv.FormatInt(b.req.MaxRows+1, 10)
		return "(SELECT pg_catalog.count(*) FROM (" + rows + " LIMIT " + limit + ") AS pgrst_counted)", err
	}
	return "", nil
}

// matching renders SELECT sel over the rows of n the filters match,
// without the window: n's own conditions, and its embedded resources only
// where they remove rows (!inner, rel=is.null).
func (b *builder) matching(n *node, from, sel string) (string, error) {
	// A second rendering of the same resource: aliases and parameters of
	// its own.
	c := &node{table: n.table, name: n.name, qual: n.qual, items: []query.SelectItem{}}
	for _, k := range n.kids {
		if k.item.Join == query.JoinInner || b.nullFilterOn(n, k) {
			c.items = append(c.items, k.item)
		}
	}
	if err := b.plan(c); err != nil {
		return "", err
	}
	joins, wheres, err := b.laterals(c)
	if err != nil {
		return "", err
	}
	conds, err := b.conditions(c)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.WriteString("SELECT " + sel + " FROM " + from)
	for _, j := range joins {
		sb.WriteString(" " + j)
	}
	if ws := nonEmpty(append(conds, wheres...)); len(ws) > 0 {
		sb.WriteString(" WHERE " + strings.Join(ws, " AND "))
	}
	return sb.String(), nil
}

// nullFilterOn reports whether a filter of n tests whether k is null
// (?select=*,rel(*)&rel=not.is.null), which then counts too.
func (b *builder) nullFilterOn(n, k *node) bool {
	for _, f := range b.req.Params.Filters {
		if slices.Equal(f.Path, n.path) && f.Field.Name == k.key() && f.Op.Op == query.OpIs {
			return true
		}
	}
	return false
}
