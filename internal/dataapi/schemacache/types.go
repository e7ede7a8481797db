// Package schemacache reads what the Data API serves from a database: the
// tables, views and functions of the exposed schemas, their columns, keys
// and the relationships between them, as PostgREST's schema cache does.
package schemacache

// QName is a schema-qualified name.
type QName struct{ Schema, Name string }

// Schema is one database's cache.
type Schema struct {
	// Schemas are the exposed schemas, in configured order, with their
	// comments ("" when none).
	Schemas []SchemaInfo
	// Tables holds tables, views, materialized views, foreign and
	// partitioned tables of the exposed schemas.
	Tables map[QName]*Table
	// Functions holds every overload, by name.
	Functions map[QName][]*Function
	// Relationships are those from each table or view, in a stable order.
	Relationships map[QName][]*Relationship

	// tableNames and funcNames index the names of each schema for the
	// not-found hints; Load builds them, a Schema built otherwise gets
	// them computed on each miss.
	tableNames, funcNames map[string]*fuzzySet
}

// SchemaInfo is an exposed schema.
type SchemaInfo struct {
	Name, Comment string
}

// Table kinds.
const (
	KindTable       = "table"
	KindView        = "view"
	KindMatView     = "materialized_view"
	KindForeign     = "foreign_table"
	KindPartitioned = "partitioned_table"
)

// Table is a table or a view.
type Table struct {
	Name    QName
	Kind    string
	Comment string
	// Insertable, Updatable and Deletable say what the table or view
	// accepts (an auto-updatable view, or one with INSTEAD triggers).
	Insertable, Updatable, Deletable bool
	Columns                          []*Column // in attnum order
	// PrimaryKey are the primary key's columns; for a view, the base
	// table's key when the view shows all of its columns.
	PrimaryKey []string
}

// Column is a table's column.
type Column struct {
	Name string
	// Type is format_type of the column ("character varying(20)",
	// "integer[]", a domain's own name); BaseType is the type with domains
	// resolved and without modifiers ("character varying", "integer[]").
	Type, BaseType string
	Nullable       bool
	Default        string // pg_get_expr of the default, "" when none
	Generated      bool   // GENERATED ALWAYS (identity or stored)
	MaxLen         int    // character types' length, 0 when none
	Enum           []string
	Comment        string
}

// Cardinalities of a relationship, seen from its Table.
const (
	ManyToOne  = "m2o"
	OneToMany  = "o2m"
	OneToOne   = "o2o"
	ManyToMany = "m2m"
)

// Relationship leads from Table to Foreign. For m2o, o2m and o2o it is
// one foreign key, Columns (on Table) pairwise equal to ForeignColumns (on
// Foreign). For m2m it goes through Junction: Columns are Table's columns
// that Junction.Columns1 reference and ForeignColumns are Foreign's that
// Junction.Columns2 reference.
type Relationship struct {
	Table, Foreign QName
	Self           bool // Table == Foreign
	Cardinality    string
	Constraint     string // the foreign key's name; m2m: "" (see Junction)
	Columns        []string
	ForeignColumns []string
	Junction       *Junction
	// Function is set for a computed relationship: a function taking
	// Table's row and returning Foreign's rows, embedded by the
	// function's name (cardinality m2o when it returns one row, o2m
	// otherwise; no Constraint, Columns or Junction).
	Function QName
}

// Computed reports whether r is a computed relationship.
func (r *Relationship) Computed() bool { return r.Function != QName{} }

// Junction is the table through which a many-to-many relationship goes.
type Junction struct {
	Table       QName
	Constraint1 string   // foreign key from the junction to Relationship.Table
	Constraint2 string   // foreign key from the junction to Relationship.Foreign
	Columns1    []string // junction columns referencing Relationship.Columns
	Columns2    []string // junction columns referencing Relationship.ForeignColumns
}

// Function is a function or procedure callable at /rpc.
type Function struct {
	Name    QName
	Comment string
	Params  []Param // IN, INOUT and VARIADIC parameters, in order
	// ReturnType is the return type's name; for a function returning a
	// table's row type (or SETOF it), that table.
	ReturnType QName
	ReturnsSet bool
	// ReturnsComposite is set when the result has columns: a table's row
	// type, a composite type, RETURNS TABLE or OUT parameters.
	ReturnsComposite bool
	// ReturnsVoid is set for RETURNS void.
	ReturnsVoid bool
	Volatility  byte // 'i' immutable, 's' stable, 'v' volatile
	Variadic    bool // the last parameter is VARIADIC
}

// Param is a function's input parameter.
type Param struct {
	Name       string // "" when unnamed
	Type       string // format_type
	HasDefault bool
	Variadic   bool
}
