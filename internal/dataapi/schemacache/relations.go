package schemacache

import (
	"slices"
	"sort"
)

// graph derives keys and relationships from the catalog as PostgREST
// does: every foreign key both ways, one-to-one when the referencing
// columns are a primary key or unique, many-to-many through junctions, and
// all of these again for views that show the key columns of their base
// tables.
type graph struct {
	names   map[int64]QName // tables and views of every schema, by oid
	pks     map[int64]*catCons
	uniques map[int64][]*catCons // primary keys and unique constraints
	fks     []*catCons
	// shown[table][column] lists, by view, the names of the exposed
	// views' columns that show that base table column (following views
	// over views down to the table).
	shown map[int64]map[int]map[int64][]string
	// viewCols[view][attnum] is the view's column name (exposed views).
	viewCols map[int64]map[int]string
	views    []int64 // exposed views and materialized views, in oid order
}

func newGraph(cat *catalog) *graph {
	g := &graph{names: map[int64]QName{}, pks: map[int64]*catCons{}, uniques: map[int64][]*catCons{},
		shown: map[int64]map[int]map[int64][]string{}, viewCols: map[int64]map[int]string{}}
	for i := range cat.Constraints {
		k := &cat.Constraints[i]
		g.names[k.Rel] = QName{k.Schema, k.Table}
		switch k.Type {
		case "p":
			g.pks[k.Rel] = k
			g.uniques[k.Rel] = append(g.uniques[k.Rel], k)
		case "u":
			g.uniques[k.Rel] = append(g.uniques[k.Rel], k)
		case "f":
			g.names[k.FRel] = QName{k.FSchema, k.FTable}
			g.fks = append(g.fks, k)
		}
	}
	for _, t := range cat.Tables {
		g.names[t.OID] = QName{t.Schema, t.Name}
		if t.Kind == "v" || t.Kind == "m" {
			cols := map[int]string{}
			for _, c := range t.Columns {
				cols[c.Num] = c.Name
			}
			g.viewCols[t.OID] = cols
		}
	}
	raw := map[int64]map[int]origin{}
	for _, v := range cat.Views {
		o, err := targetOrigins(v.Def)
		if err != nil {
			// A rule this parser cannot read only costs the view its
			// relationships, as PostgREST's own parsing would.
			continue
		}
		raw[v.OID] = o
	}
	// Follow views over views down to base tables.
	var resolve func(o origin, depth int) origin
	resolve = func(o origin, depth int) origin {
		next, isView := raw[o.Rel]
		if !isView {
			return o
		}
		if depth > 32 {
			return origin{}
		}
		return resolve(next[o.Col], depth+1)
	}
	for oid, names := range g.viewCols {
		g.views = append(g.views, oid)
		for col, o := range raw[oid] {
			if o.Rel == 0 {
				continue
			}
			r := resolve(o, 0)
			if r.Rel == 0 {
				continue
			}
			byCol := g.shown[r.Rel]
			if byCol == nil {
				byCol = map[int]map[int64][]string{}
				g.shown[r.Rel] = byCol
			}
			if byCol[r.Col] == nil {
				byCol[r.Col] = map[int64][]string{}
			}
			byCol[r.Col][oid] = append(byCol[r.Col][oid], names[col])
		}
	}
	slices.Sort(g.views)
	return g
}

// keyDep is a key of a base table that a view shows: for each key column
// (in key order), the view columns that show it.
type keyDep struct {
	view int64
	cols [][]string
}

// viewKeyDeps returns the views showing every column of the key (nums are
// the key's attnums on table rel).
func (g *graph) viewKeyDeps(rel int64, nums []int) []keyDep {
	byCol := g.shown[rel]
	if len(nums) == 0 || byCol == nil {
		return nil
	}
	var deps []keyDep
	for _, v := range g.views {
		if byCol[nums[0]][v] == nil {
			continue
		}
		cols := make([][]string, len(nums))
		complete := true
		for i, n := range nums {
			cols[i] = slices.Sorted(slices.Values(byCol[n][v]))
			if len(cols[i]) == 0 {
				complete = false
				break
			}
		}
		if complete {
			deps = append(deps, keyDep{view: v, cols: cols})
		}
	}
	return deps
}

// expand returns every choice of one view column per key column: a key
// column shown twice gives two relationships.
func (d keyDep) expand() [][]string {
	out := [][]string{{}}
	for _, choices := range d.cols {
		var next [][]string
		for _, prefix := range out {
			for _, c := range choices {
				next = append(next, append(slices.Clone(prefix), c))
			}
		}
		out = next
	}
	return out
}

// primaryKeys fills the tables' keys; a view gets the keys of the base
// tables it shows whole (the first view column for a key column shown
// twice).
func (g *graph) primaryKeys(s *Schema) {
	for oid, k := range g.pks {
		if t := s.Tables[g.names[oid]]; t != nil {
			_, t.PrimaryKey = keyCols(k.Cols)
		}
	}
	for _, oid := range sortedKeys(g.pks) {
		k := g.pks[oid]
		nums, _ := keyCols(k.Cols)
		for _, d := range g.viewKeyDeps(oid, nums) {
			t := s.Tables[g.names[d.view]]
			if t == nil {
				continue
			}
			for _, c := range d.cols {
				t.PrimaryKey = append(t.PrimaryKey, c[0])
			}
		}
	}
	for _, t := range s.Tables {
		if t.PrimaryKey == nil {
			t.PrimaryKey = []string{}
		}
	}
}

func sortedKeys[V any](m map[int64]V) []int64 {
	ks := make([]int64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// relationships fills s.Relationships. A computed relationship named
// like a table of its schema replaces the foreign key relationships to
// that table, as in PostgREST.
func (g *graph) relationships(s *Schema, exposed []string, computed []catComputed) {
	var rels []*Relationship
	for _, k := range g.fks {
		nums, cols := keyCols(k.Cols)
		fnums, fcols := keyCols(k.FCols)
		card := ManyToOne
		for _, u := range g.uniques[k.Rel] {
			unums, _ := keyCols(u.Cols)
			if sameSet(nums, unums) {
				card = OneToOne
				break
			}
		}
		t, f := g.names[k.Rel], g.names[k.FRel]
		rels = append(rels, &Relationship{Table: t, Foreign: f, Cardinality: card, Constraint: k.Name,
			Columns: cols, ForeignColumns: fcols})
		// The same key seen through views: view to table, table to view,
		// view to view.
		from := g.viewKeyDeps(k.Rel, nums)
		to := g.viewKeyDeps(k.FRel, fnums)
		for _, vd := range from {
			for _, vcols := range vd.expand() {
				rels = append(rels, &Relationship{Table: g.names[vd.view], Foreign: f, Cardinality: card,
					Constraint: k.Name, Columns: vcols, ForeignColumns: fcols})
			}
		}
		for _, td := range to {
			for _, tcols := range td.expand() {
				rels = append(rels, &Relationship{Table: t, Foreign: g.names[td.view], Cardinality: card,
					Constraint: k.Name, Columns: cols, ForeignColumns: tcols})
			}
		}
		for _, vd := range from {
			for _, vcols := range vd.expand() {
				for _, td := range to {
					for _, tcols := range td.expand() {
						rels = append(rels, &Relationship{Table: g.names[vd.view], Foreign: g.names[td.view],
							Cardinality: card, Constraint: k.Name, Columns: vcols, ForeignColumns: tcols})
					}
				}
			}
		}
	}
	rels = append(rels, g.manyToMany(s, rels)...)
	// The inverses of the direct ones.
	n := len(rels)
	for _, r := range rels[:n] {
		var card string
		switch r.Cardinality {
		case ManyToOne:
			card = OneToMany
		case OneToOne:
			card = OneToOne
		default:
			continue
		}
		rels = append(rels, &Relationship{Table: r.Foreign, Foreign: r.Table, Cardinality: card,
			Constraint: r.Constraint, Columns: r.ForeignColumns, ForeignColumns: r.Columns})
	}
	overridden := map[[2]QName]bool{}
	for _, c := range computed {
		r := &Relationship{Table: QName{c.TSchema, c.Table}, Foreign: QName{c.FSchema, c.FTable},
			Cardinality: OneToMany, Function: QName{c.Schema, c.Name}}
		if c.ToOne {
			r.Cardinality = ManyToOne
		}
		overridden[[2]QName{r.Table, r.Function}] = true
		rels = append(rels, r)
	}
	isExposed := func(q QName) bool { return slices.Contains(exposed, q.Schema) }
	for _, r := range rels {
		if !isExposed(r.Table) || !isExposed(r.Foreign) || r.Junction != nil && !isExposed(r.Junction.Table) {
			continue
		}
		if !r.Computed() && overridden[[2]QName{r.Table, r.Foreign}] {
			continue
		}
		r.Self = r.Table == r.Foreign
		s.Relationships[r.Table] = append(s.Relationships[r.Table], r)
	}
	for _, rs := range s.Relationships {
		sort.SliceStable(rs, func(i, j int) bool { return relLess(rs[i], rs[j]) })
	}
}

// manyToMany pairs the many-to-one relationships leaving the same table
// (or view) by two different foreign keys whose columns are all part of
// its primary key: that table is a junction between the two targets.
func (g *graph) manyToMany(s *Schema, rels []*Relationship) []*Relationship {
	byTable := map[QName][]*Relationship{}
	var order []QName
	for _, r := range rels {
		if r.Cardinality != ManyToOne {
			continue
		}
		if _, seen := byTable[r.Table]; !seen {
			order = append(order, r.Table)
		}
		byTable[r.Table] = append(byTable[r.Table], r)
	}
	pkOf := func(q QName) []string {
		if t := s.Tables[q]; t != nil {
			return t.PrimaryKey
		}
		for oid, k := range g.pks {
			if g.names[oid] == q {
				_, cols := keyCols(k.Cols)
				return cols
			}
		}
		return nil
	}
	var out []*Relationship
	for _, jt := range order {
		pk := pkOf(jt)
		for _, r1 := range byTable[jt] {
			for _, r2 := range byTable[jt] {
				if r1.Constraint == r2.Constraint {
					continue
				}
				if !subset(r1.Columns, pk) || !subset(r2.Columns, pk) {
					continue
				}
				out = append(out, &Relationship{Table: r1.Foreign, Foreign: r2.Foreign, Cardinality: ManyToMany,
					Columns: r1.ForeignColumns, ForeignColumns: r2.ForeignColumns,
					Junction: &Junction{Table: jt, Constraint1: r1.Constraint, Constraint2: r2.Constraint,
						Columns1: r1.Columns, Columns2: r2.Columns}})
			}
		}
	}
	return out
}

func sameSet[T comparable](a, b []T) bool {
	return len(a) == len(b) && subset(a, b)
}

func subset[T comparable](a, b []T) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// cardOrder is PostgREST's order of cardinalities.
var cardOrder = map[string]int{OneToMany: 0, ManyToOne: 1, OneToOne: 2, ManyToMany: 3}

// relLess orders relationships as PostgREST sorts them (the order of
// candidates in an ambiguity error).
func relLess(a, b *Relationship) bool {
	if a.Computed() != b.Computed() {
		return b.Computed()
	}
	if a.Function != b.Function {
		return qnameLess(a.Function, b.Function)
	}
	if a.Foreign != b.Foreign {
		return qnameLess(a.Foreign, b.Foreign)
	}
	if a.Cardinality != b.Cardinality {
		return cardOrder[a.Cardinality] < cardOrder[b.Cardinality]
	}
	if a.Junction != nil && b.Junction != nil {
		ja, jb := a.Junction, b.Junction
		if ja.Table != jb.Table {
			return qnameLess(ja.Table, jb.Table)
		}
		if ja.Constraint1 != jb.Constraint1 {
			return ja.Constraint1 < jb.Constraint1
		}
		if ja.Constraint2 != jb.Constraint2 {
			return ja.Constraint2 < jb.Constraint2
		}
	}
	if a.Constraint != b.Constraint {
		return a.Constraint < b.Constraint
	}
	if c := slices.Compare(a.Columns, b.Columns); c != 0 {
		return c < 0
	}
	return slices.Compare(a.ForeignColumns, b.ForeignColumns) < 0
}

func qnameLess(a, b QName) bool {
	if a.Schema != b.Schema {
		return a.Schema < b.Schema
	}
	return a.Name < b.Name
}
