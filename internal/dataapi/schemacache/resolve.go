package schemacache

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"

	"github.com/grovedb/grove/internal/dataapi/apierr"
)

// Statuses of the errors this package returns (PostgREST's).
const (
	statusBadRequest      = 400
	statusMultipleChoices = 300
	statusNotFound        = 404
)

// Column returns the column called name, or nil.
func (t *Table) Column(name string) *Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// FindColumn returns the column called name, or PGRST204 (a write naming
// a column the table does not have).
func (t *Table) FindColumn(name string) (*Column, error) {
	if c := t.Column(name); c != nil {
		return c, nil
	}
	return nil, apierr.New(statusBadRequest, "PGRST204", "Could not find the '%s' column of '%s' in the schema cache", name, t.Name.Name)
}

// FindTable returns the table or view, or PGRST205 with a close name as
// hint.
func (s *Schema) FindTable(schema, name string) (*Table, error) {
	if t := s.Tables[QName{schema, name}]; t != nil {
		return t, nil
	}
	e := apierr.New(statusNotFound, "PGRST205", "Could not find the table '%s.%s' in the schema cache", schema, name)
	idx := s.tableNames
	if idx == nil {
		idx = nameIndex(s.Tables)
	}
	if m := idx[schema].one(name, nameMinScore); m != "" {
		e.WithHint("Perhaps you meant the table '%s.%s'", schema, m)
	}
	return nil, e
}

// nameIndex indexes the names of m's keys by schema, in name order.
func nameIndex[V any](m map[QName]V) map[string]*fuzzySet {
	qs := make([]QName, 0, len(m))
	for q := range m {
		qs = append(qs, q)
	}
	sort.Slice(qs, func(i, j int) bool { return qnameLess(qs[i], qs[j]) })
	names := map[string][]string{}
	for _, q := range qs {
		names[q.Schema] = append(names[q.Schema], q.Name)
	}
	idx := make(map[string]*fuzzySet, len(names))
	for schema, ns := range names {
		idx[schema] = newFuzzySet(ns)
	}
	return idx
}

// relsWithin are from's relationships to tables of its own schema, the
// only ones an embedding can name.
func (s *Schema) relsWithin(from QName) ([]*Relationship, bool) {
	var out []*Relationship
	found := false
	for _, r := range s.Relationships[from] {
		if r.Foreign.Schema == from.Schema {
			out = append(out, r)
			found = true
		}
	}
	return out, found
}

func (s *Schema) isView(q QName) bool {
	t := s.Tables[q]
	return t != nil && (t.Kind == KindView || t.Kind == KindMatView)
}

// singleCol reports whether r is a one-column key whose column on the
// Table side (foreign false) or the Foreign side (foreign true) is name.
func (r *Relationship) singleCol(name string, foreign bool) bool {
	if r.Junction != nil || len(r.Columns) != 1 {
		return false
	}
	if foreign {
		return r.ForeignColumns[0] == name
	}
	return r.Columns[0] == name
}

// FindRelationship resolves an embedding written target!hint(...) on
// from, as PostgREST does. target is a table or view name, or (on a
// table) a foreign key's name or a column of from holding a one-column
// foreign key; hint ("" for none) narrows by foreign key name, column on
// either side, or junction table name. A self-referencing key is found as
// one-to-many by the table's name and as many-to-one by its column's name.
// The errors are PGRST200 (no match) and PGRST201 (several).
func (s *Schema) FindRelationship(from QName, target, hint string) (*Relationship, error) {
	all, _ := s.relsWithin(from)
	var found []*Relationship
	for _, r := range all {
		if s.relMatches(r, target, hint) {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, s.noRelBetween(from, target, hint)
	}
	return nil, ambiguousRel(from.Name, target, found)
}

func (s *Schema) relMatches(r *Relationship, target, hint string) bool {
	if r.Computed() {
		return target == r.Function.Name
	}
	isCons := func(name string) bool { return r.Junction == nil && r.Constraint == name }
	if r.Self {
		if hint == "" {
			return target == r.Foreign.Name && r.Cardinality == OneToMany ||
				r.Cardinality == ManyToOne && r.singleCol(target, false)
		}
		return target == r.Foreign.Name && r.Cardinality == OneToMany && r.singleCol(hint, true)
	}
	if hint == "" {
		return target == r.Foreign.Name ||
			!s.isView(r.Foreign) && (isCons(target) || r.singleCol(target, false))
	}
	return target == r.Foreign.Name && (isCons(hint) || r.singleCol(hint, false) || r.singleCol(hint, true) ||
		r.Junction != nil && r.Junction.Table.Name == hint)
}

// noRelBetween is PGRST200, with a hint naming a close table: a close
// origin when from has no relationships, else a close target.
func (s *Schema) noRelBetween(from QName, target, hint string) error {
	using := ""
	if hint != "" {
		using = "' using the hint '" + hint
	}
	e := apierr.New(statusBadRequest, "PGRST200",
		"Could not find a relationship between '%s' and '%s' in the schema cache", from.Name, target).
		WithDetails("Searched for a foreign key relationship between '%s' and '%s%s' in the schema '%s', but no matches were found.",
			from.Name, target, using, from.Schema)
	rels, found := s.relsWithin(from)
	if found {
		var children []string
		for _, r := range rels {
			children = append(children, r.Foreign.Name)
		}
		// An exact match (score 1) means the target exists and the
		// hint is what failed: no suggestion then.
		if ms := newFuzzySet(children).get(target, fuzzyMinScore); len(ms) > 0 && ms[0].score < 1 {
			e.WithHint("Perhaps you meant '%s' instead of '%s'.", ms[0].value, target)
		}
		return e
	}
	var parents []string
	for _, q := range s.sortedRelOrigins() {
		if _, ok := s.relsWithin(q); ok && q.Schema == from.Schema {
			parents = append(parents, q.Name)
		}
	}
	if m := newFuzzySet(parents).one(from.Name, fuzzyMinScore); m != "" {
		e.WithHint("Perhaps you meant '%s' instead of '%s'.", m, from.Name)
	}
	return e
}

func (s *Schema) sortedRelOrigins() []QName {
	qs := make([]QName, 0, len(s.Relationships))
	for q := range s.Relationships {
		qs = append(qs, q)
	}
	sort.Slice(qs, func(i, j int) bool { return qnameLess(qs[i], qs[j]) })
	return qs
}

// ambiguousRel is PGRST201. Its details are a JSON array (PostgREST
// sends it as an array, not a string); the handler writes Details raw
// when it starts with '['.
func ambiguousRel(origin, target string, rels []*Relationship) error {
	type candidate struct {
		Cardinality  string `json:"cardinality"`
		Embedding    string `json:"embedding"`
		Relationship string `json:"relationship"`
	}
	paren := func(cols []string) string { return "(" + strings.Join(cols, ", ") + ")" }
	cands := make([]any, len(rels))
	hints := make([]string, len(rels))
	for i, r := range rels {
		if r.Computed() {
			// PostgREST shows a computed candidate as {} and an empty hint.
			cands[i] = struct{}{}
			continue
		}
		c := candidate{Embedding: r.Table.Name + " with " + r.Foreign.Name}
		switch r.Cardinality {
		case ManyToMany:
			j := r.Junction
			c.Cardinality = "many-to-many"
			c.Relationship = j.Table.Name + " using " + j.Constraint1 + paren(j.Columns1) + " and " + j.Constraint2 + paren(j.Columns2)
			hints[i] = "'" + r.Foreign.Name + "!" + j.Table.Name + "'"
		default:
			c.Cardinality = map[string]string{ManyToOne: "many-to-one", OneToMany: "one-to-many", OneToOne: "one-to-one"}[r.Cardinality]
			c.Relationship = r.Constraint + " using " + r.Table.Name + paren(r.Columns) + " and " + r.Foreign.Name + paren(r.ForeignColumns)
			hints[i] = "'" + r.Foreign.Name + "!" + r.Constraint + "'"
		}
		cands[i] = c
	}
	details, _ := json.Marshal(cands)
	e := apierr.New(statusMultipleChoices, "PGRST201",
		"Could not embed because more than one relationship was found for '%s' and '%s'", origin, target).
		WithHint("Try changing '%s' to one of the following: %s. Find the desired relationship in the 'details' key.",
			target, strings.Join(hints, ", "))
	e.Details = string(details)
	return e
}

// CallBody is how an /rpc call passes its arguments; it decides which
// overloads can take them and the wording of PGRST202.
type CallBody int

const (
	// CallArgs: GET or HEAD, arguments in the query string.
	CallArgs CallBody = iota
	// CallJSON: POST application/json; a JSON object's keys are the
	// arguments, or the whole body goes to a single unnamed json or
	// jsonb parameter.
	CallJSON
	// CallText, CallXML, CallBinary: POST text/plain, text/xml,
	// application/octet-stream; the body goes to a single unnamed text,
	// xml or bytea parameter.
	CallText
	CallXML
	CallBinary
	// CallOtherPost: POST of another media type (form, CSV): arguments
	// only.
	CallOtherPost
)

// FindFunction resolves an /rpc call by the set of argument names, as
// PostgREST does; singleUnnamed says the request is a POST of JSON, whose
// whole body a function with a single unnamed json or jsonb parameter may
// take. See FindFunctionCall for other bodies.
func (s *Schema) FindFunction(schema, name string, argNames []string, singleUnnamed bool) (*Function, error) {
	body := CallArgs
	if singleUnnamed {
		body = CallJSON
	}
	return s.FindFunctionCall(schema, name, argNames, body)
}

// FindFunctionCall resolves an /rpc call: among the overloads, those whose
// required parameters are all given and whose other arguments are optional
// parameters; failing those, one with a single unnamed parameter of the
// body's type. The errors are PGRST202 (none) and PGRST203 (several).
func (s *Schema) FindFunctionCall(schema, name string, argNames []string, body CallBody) (*Function, error) {
	args := slices.Clone(argNames)
	slices.Sort(args)
	args = slices.Compact(args)
	overloads := s.Functions[QName{schema, name}]
	var matched, fallback []*Function
	for _, f := range overloads {
		switch {
		case paramsMatch(f, args, body):
			matched = append(matched, f)
		case singleUnnamedFits(f, body):
			fallback = append(fallback, f)
		}
	}
	switch {
	case len(matched) == 1:
		return matched[0], nil
	case len(matched) > 1:
		return nil, ambiguousFunc(matched)
	case len(fallback) == 1:
		return fallback[0], nil
	case len(fallback) > 1:
		return nil, ambiguousFunc(fallback)
	}
	return nil, s.noFunc(schema, name, args, body, overloads)
}

func paramsMatch(f *Function, args []string, body CallBody) bool {
	if len(f.Params) == 0 {
		return len(args) == 0 && body != CallText && body != CallXML && body != CallBinary
	}
	var required, optional []string
	for _, p := range f.Params {
		if p.HasDefault {
			optional = append(optional, p.Name)
		} else {
			required = append(required, p.Name)
		}
	}
	for _, r := range required {
		if !slices.Contains(args, r) {
			return false
		}
	}
	for _, a := range args {
		if !slices.Contains(required, a) && !slices.Contains(optional, a) {
			return false
		}
	}
	return true
}

func singleUnnamedFits(f *Function, body CallBody) bool {
	if len(f.Params) != 1 || f.Params[0].Name != "" {
		return false
	}
	switch t := f.Params[0].Type; body {
	case CallJSON:
		return t == "json" || t == "jsonb"
	case CallText:
		return t == "text"
	case CallXML:
		return t == "xml"
	case CallBinary:
		return t == "bytea"
	}
	return false
}

// noFunc is PGRST202; the hint names a close function, or, when the name
// exists, the closest parameter list of its overloads.
func (s *Schema) noFunc(schema, name string, args []string, body CallBody, overloads []*Function) error {
	fn := schema + "." + name
	prms := strings.Join(args, ", ")
	orNone := func(x string) string {
		if len(args) == 0 {
			return " without parameters"
		}
		return x
	}
	plural := " "
	if len(args) > 1 {
		plural = "s "
	}
	withParams := orNone(" with parameter" + plural + prms)
	onlyBody := body == CallText || body == CallXML || body == CallBinary
	msgParams := orNone("(" + prms + ")")
	if onlyBody {
		msgParams = ""
	}
	var searched string
	switch body {
	case CallText:
		searched = " with a single unnamed text parameter"
	case CallXML:
		searched = " with a single unnamed xml parameter"
	case CallBinary:
		searched = " with a single unnamed bytea parameter"
	case CallJSON:
		searched = withParams + " or with a single unnamed json/jsonb parameter"
	default:
		searched = withParams
	}
	e := apierr.New(statusNotFound, "PGRST202", "Could not find the function %s%s in the schema cache", fn, msgParams).
		WithDetails("Searched for the function %s%s, but no matches were found in the schema cache.", fn, searched)
	if onlyBody {
		return e
	}
	if len(overloads) == 0 {
		idx := s.funcNames
		if idx == nil {
			idx = nameIndex(s.Functions)
		}
		if m := idx[schema].one(name, nameMinScore); m != "" {
			e.WithHint("Perhaps you meant to call the function %s.%s", schema, m)
		}
		return e
	}
	lists := make([]string, len(overloads))
	for i, f := range overloads {
		names := make([]string, len(f.Params))
		for j, p := range f.Params {
			names[j] = p.Name
		}
		lists[i] = paramList(names)
	}
	// Parameter lists keep the library's default score: PostgREST does not
	// mind revealing the parameters of a function the caller named.
	if m := newFuzzySet(lists).one(paramList(args), fuzzyMinScore); m != "" {
		e.WithHint("Perhaps you meant to call the function %s.%s%s", schema, name, m)
	}
	return e
}

// paramList is "(a, b)" of the sorted names.
func paramList(names []string) string {
	names = slices.Clone(names)
	slices.Sort(names)
	return "(" + strings.Join(names, ", ") + ")"
}

// ambiguousFunc is PGRST203.
func ambiguousFunc(fs []*Function) error {
	sigs := make([]string, len(fs))
	for i, f := range fs {
		ps := make([]string, len(f.Params))
		for j, p := range f.Params {
			ps[j] = p.Name + " => " + p.Type
		}
		sigs[i] = f.Name.Schema + "." + f.Name.Name + "(" + strings.Join(ps, ", ") + ")"
	}
	return apierr.New(statusMultipleChoices, "PGRST203", "Could not choose the best candidate function between: %s", strings.Join(sigs, ", ")).
		WithHint("Try renaming the parameters or the function itself in the database so function overloading can be resolved")
}
