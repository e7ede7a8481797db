// Package query parses PostgREST's URL grammar: the select, filter, order,
// logic, range and column parameters of a Data API request, into a tree the
// SQL generator turns into one parameterized statement. It knows nothing of
// the database: names are checked against the schema cache later.
package query

// JSONStep is one arrow of a JSON path: ->key, ->0, ->>key, ->>-1.
type JSONStep struct {
	Text  bool   // ->> (text) rather than -> (json)
	Key   string // the key, or the index's digits with its sign
	Index bool   // Key is an array index
}

// Field is a column with an optional JSON path into it.
type Field struct {
	Name string
	Path []JSONStep
}

// Join types of an embedded resource.
const (
	JoinDefault = ""
	JoinInner   = "inner"
	JoinLeft    = "left"
)

// SelectItem is one element of select=. Exactly one of: Star, a column
// (Field), an aggregate (Aggregate, with or without Field), or an embedded
// resource (Relation).
type SelectItem struct {
	Star  bool
	Field Field
	Alias string
	// Cast applies to the column, or to the aggregate's result; FieldCast
	// applies to the column before an aggregate (col::int.sum()).
	Cast, FieldCast string
	// Aggregate is count, sum, avg, max or min; count() alone has no Field.
	Aggregate string

	Relation string // an embedded table, view or function's name
	Hint     string // !hint
	Join     string // !inner, !left
	Spread   bool   // ...rel(…)
	Children []SelectItem
}

// IsEmbed reports whether the item embeds a related resource.
func (s SelectItem) IsEmbed() bool { return s.Relation != "" }

// Operators of filters.
const (
	OpEq, OpNeq, OpGt, OpGte, OpLt, OpLte      = "eq", "neq", "gt", "gte", "lt", "lte"
	OpLike, OpILike, OpMatch, OpIMatch         = "like", "ilike", "match", "imatch"
	OpIn, OpIs, OpIsDistinct                   = "in", "is", "isdistinct"
	OpCs, OpCd, OpOv, OpSl, OpSr, OpNxr, OpNxl = "cs", "cd", "ov", "sl", "sr", "nxr", "nxl"
	OpAdj                                      = "adj"
	OpFts, OpPlFts, OpPhFts, OpWFts            = "fts", "plfts", "phfts", "wfts"
)

// simpleOps are the operators taking one value.
var simpleOps = map[string]bool{
	OpEq: true, OpNeq: true, OpGt: true, OpGte: true, OpLt: true, OpLte: true,
	OpLike: true, OpILike: true, OpMatch: true, OpIMatch: true, OpIsDistinct: true,
	OpCs: true, OpCd: true, OpOv: true, OpSl: true, OpSr: true, OpNxr: true, OpNxl: true, OpAdj: true,
}

// quantifiable are the operators accepting (any) and (all).
var quantifiable = map[string]bool{
	OpEq: true, OpGt: true, OpGte: true, OpLt: true, OpLte: true,
	OpLike: true, OpILike: true, OpMatch: true, OpIMatch: true,
}

var ftsOps = map[string]bool{OpFts: true, OpPlFts: true, OpPhFts: true, OpWFts: true}

// Values of is.
const (
	IsNull, IsNotNull, IsTrue, IsFalse, IsUnknown = "null", "not_null", "true", "false", "unknown"
)

// Operation is an operator with its operand.
type Operation struct {
	Op    string
	Quant string   // "any" or "all" for eq(any).{a,b}; "" otherwise
	Value string   // a single value; is: one of the Is constants
	List  []string // in.(…), and the elements of a quantified operator's {…}
	Lang  string   // fts(lang)
}

// Filter is a condition on a column of the resource at Path (nil: the
// request's own resource; else the embedded resources' names or aliases).
type Filter struct {
	Path   []string
	Field  Field
	Negate bool
	Op     Operation
}

// Logic is and=(…)/or=(…): a tree of filters.
type Logic struct {
	Negate   bool
	Or       bool
	Children []Logic
	Filter   *Filter // a leaf
}

// LogicParam is one and/or parameter, on the resource at Path.
type LogicParam struct {
	Path []string
	Tree Logic
}

// Order directions and null orders.
const (
	Asc, Desc             = "asc", "desc"
	NullsFirst, NullsLast = "nullsfirst", "nullslast"
)

// OrderTerm is one term of order=: a column, or a column of an embedded
// to-one resource (Relation).
type OrderTerm struct {
	Relation string
	Field    Field
	Dir      string // "" = the default (ascending)
	Nulls    string // "" = the default
}

// OrderParam is one order parameter, on the resource at Path.
type OrderParam struct {
	Path  []string
	Terms []OrderTerm
}

// Range is a window of rows: Offset, and Limit rows when HasLimit.
type Range struct {
	Offset   int64
	Limit    int64
	HasLimit bool
}

// Params are a request's parsed query parameters.
type Params struct {
	Select  []SelectItem // select=, or [*] when absent
	Filters []Filter
	Logic   []LogicParam
	Order   []OrderParam
	// Ranges are limit/offset per resource, keyed by the embedding path
	// joined with "." ("" = the request's resource).
	Ranges     map[string]Range
	Columns    []string // columns=, nil when absent
	OnConflict []string // on_conflict=, nil when absent
	// Args are the parameters that are neither filters nor reserved, in
	// order: a function's arguments on GET /rpc.
	Args [][2]string
}
