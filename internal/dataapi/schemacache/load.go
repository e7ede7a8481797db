package schemacache

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Load reads the cache of the exposed schemas in one round trip: a single
// statement returns the catalogs as JSON, and Go derives the rest (view
// column origins, relationships). It reads only catalogs every role may
// read, so the unprivileged login role can run it. conn must not be inside
// a transaction: the statement runs in its own read-only transaction with
// an empty search_path, so that every type and table outside pg_catalog
// comes out schema-qualified whatever the role's search_path.
func Load(ctx context.Context, conn *pgconn.PgConn, schemas []string) (*Schema, error) {
	if st := conn.TxStatus(); st != 'I' {
		return nil, fmt.Errorf("load schema cache: connection is in a transaction (status %c)", st)
	}
	lits := make([]string, len(schemas))
	for i, s := range schemas {
		if strings.ContainsRune(s, 0) {
			return nil, fmt.Errorf("load schema cache: schema name %q has a NUL byte", s)
		}
		lits[i] = quoteLiteral(s)
	}
	q := "BEGIN READ ONLY; SET LOCAL search_path TO ''; " +
		strings.ReplaceAll(introspection, "$schemas", "ARRAY["+strings.Join(lits, ",")+"]::text[]") +
		"; COMMIT"
	results, err := conn.Exec(ctx, q).ReadAll()
	if err != nil {
		if conn.TxStatus() == 'E' || conn.TxStatus() == 'T' {
			_ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK").Close()
		}
		return nil, fmt.Errorf("load schema cache of %v: %w", schemas, err)
	}
	if len(results) != 4 || len(results[2].Rows) != 1 || len(results[2].Rows[0]) != 1 {
		return nil, fmt.Errorf("load schema cache of %v: unexpected result shape", schemas)
	}
	var cat catalog
	if err := json.Unmarshal(results[2].Rows[0][0], &cat); err != nil {
		return nil, fmt.Errorf("load schema cache of %v: decode: %w", schemas, err)
	}
	s, err := build(&cat, schemas)
	if err != nil {
		return nil, fmt.Errorf("load schema cache of %v: %w", schemas, err)
	}
	return s, nil
}

// quoteLiteral quotes s as an escape-string literal, safe whatever
// standard_conforming_strings says.
func quoteLiteral(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `'`, `''`)
	return "E'" + s + "'"
}

// catalog is the introspection statement's JSON.
type catalog struct {
	Schemas     []SchemaInfo  `json:"schemas"`
	Tables      []catTable    `json:"tables"`
	Constraints []catCons     `json:"constraints"`
	Views       []catView     `json:"views"`
	Functions   []catFunc     `json:"functions"`
	Computed    []catComputed `json:"computed"`
}

type catTable struct {
	OID       int64       `json:"oid"`
	Schema    string      `json:"schema"`
	Name      string      `json:"name"`
	Kind      string      `json:"kind"`
	Comment   string      `json:"comment"`
	Updatable int         `json:"updatable"` // pg_relation_is_updatable's bits
	Columns   []catColumn `json:"columns"`
}

type catColumn struct {
	Num       int      `json:"num"`
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	BaseType  string   `json:"base"`
	Nullable  bool     `json:"nullable"`
	Default   *string  `json:"default"`
	Generated bool     `json:"generated"`
	MaxLen    int      `json:"maxlen"`
	Enum      []string `json:"enum"`
	Comment   string   `json:"comment"`
}

// catCons is a primary key, unique or foreign key constraint; key columns
// are [attnum, name] pairs.
type catCons struct {
	Type    string   `json:"type"` // p, u, f
	Name    string   `json:"name"`
	Rel     int64    `json:"rel"`
	Schema  string   `json:"schema"`
	Table   string   `json:"table"`
	Cols    [][2]any `json:"cols"`
	FRel    int64    `json:"frel"`
	FSchema string   `json:"fschema"`
	FTable  string   `json:"ftable"`
	FCols   [][2]any `json:"fcols"`
}

type catView struct {
	OID int64  `json:"oid"`
	Def string `json:"def"` // pg_rewrite.ev_action as text
}

type catFunc struct {
	Schema      string   `json:"schema"`
	Name        string   `json:"name"`
	Comment     string   `json:"comment"`
	Args        []catArg `json:"args"`
	NDefaults   int      `json:"ndefaults"`
	RetSchema   string   `json:"retschema"`
	RetName     string   `json:"retname"`
	RetSet      bool     `json:"retset"`
	Composite   bool     `json:"composite"`
	Void        bool     `json:"void"`
	Volatility  string   `json:"volatility"`
	HasVariadic bool     `json:"variadic"`
}

// catComputed is a function of one table row returning rows of a table:
// a computed relationship.
type catComputed struct {
	Schema  string `json:"schema"`
	Name    string `json:"name"`
	TSchema string `json:"tschema"`
	Table   string `json:"table"`
	FSchema string `json:"fschema"`
	FTable  string `json:"ftable"`
	ToOne   bool   `json:"toone"`
}

type catArg struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Mode string `json:"mode"` // i, o, b, v, t
}

// keyCols splits [attnum, name] pairs.
func keyCols(pairs [][2]any) ([]int, []string) {
	nums := make([]int, len(pairs))
	names := make([]string, len(pairs))
	for i, p := range pairs {
		if f, ok := p[0].(float64); ok {
			nums[i] = int(f)
		}
		names[i], _ = p[1].(string)
	}
	return nums, names
}

// build turns the catalog into the cache.
func build(cat *catalog, exposed []string) (*Schema, error) {
	s := &Schema{
		Schemas:       cat.Schemas,
		Tables:        map[QName]*Table{},
		Functions:     map[QName][]*Function{},
		Relationships: map[QName][]*Relationship{},
	}
	if s.Schemas == nil {
		s.Schemas = []SchemaInfo{}
	}
	for _, ct := range cat.Tables {
		t := &Table{
			Name:    QName{ct.Schema, ct.Name},
			Kind:    kindName(ct.Kind),
			Comment: ct.Comment,
			Columns: make([]*Column, 0, len(ct.Columns)),
		}
		switch ct.Kind {
		case "r", "p":
			t.Insertable, t.Updatable, t.Deletable = true, true, true
		case "v", "f":
			// CMD_UPDATE, CMD_INSERT and CMD_DELETE bits.
			t.Updatable = ct.Updatable&(1<<2) != 0
			t.Insertable = ct.Updatable&(1<<3) != 0
			t.Deletable = ct.Updatable&(1<<4) != 0
		}
		for _, cc := range ct.Columns {
			c := &Column{Name: cc.Name, Type: cc.Type, BaseType: cc.BaseType, Nullable: cc.Nullable,
				Generated: cc.Generated, MaxLen: cc.MaxLen, Enum: cc.Enum, Comment: cc.Comment}
			if cc.Default != nil {
				c.Default = *cc.Default
			}
			t.Columns = append(t.Columns, c)
		}
		s.Tables[t.Name] = t
	}
	for _, cf := range cat.Functions {
		if f := function(cf); f != nil {
			s.Functions[f.Name] = append(s.Functions[f.Name], f)
		}
	}
	for _, fs := range s.Functions {
		// Fewest parameters first, as PostgREST orders overloads; the
		// statement's order (by oid) breaks ties.
		sort.SliceStable(fs, func(i, j int) bool { return len(fs[i].Params) < len(fs[j].Params) })
	}
	s.tableNames, s.funcNames = nameIndex(s.Tables), nameIndex(s.Functions)
	g := newGraph(cat)
	g.primaryKeys(s)
	g.relationships(s, exposed, cat.Computed)
	return s, nil
}

func kindName(relkind string) string {
	switch relkind {
	case "v":
		return KindView
	case "m":
		return KindMatView
	case "f":
		return KindForeign
	case "p":
		return KindPartitioned
	}
	return KindTable
}

// callableUnnamed are the types a function's single unnamed parameter may
// have for PostgREST to call it with the whole request body.
var callableUnnamed = map[string]bool{"bytea": true, "json": true, "jsonb": true, "text": true, "xml": true}

// function converts a catalog function, or returns nil for one PostgREST
// cannot call: more than one unnamed input parameter, or a single one of a
// type a request body cannot be passed as.
func function(cf catFunc) *Function {
	f := &Function{
		Name:             QName{cf.Schema, cf.Name},
		Comment:          cf.Comment,
		Params:           []Param{},
		ReturnType:       QName{cf.RetSchema, cf.RetName},
		ReturnsSet:       cf.RetSet,
		ReturnsComposite: cf.Composite,
		ReturnsVoid:      cf.Void,
		Variadic:         cf.HasVariadic,
	}
	if cf.Volatility != "" {
		f.Volatility = cf.Volatility[0]
	}
	unnamed := 0
	for _, a := range cf.Args {
		switch a.Mode {
		case "i", "b", "v":
		default:
			continue
		}
		f.Params = append(f.Params, Param{Name: a.Name, Type: a.Type, Variadic: a.Mode == "v"})
		if a.Name == "" {
			unnamed++
		}
	}
	for i := len(f.Params) - cf.NDefaults; i < len(f.Params); i++ {
		if i >= 0 {
			f.Params[i].HasDefault = true
		}
	}
	// PostgREST checks the first input parameter's type.
	if unnamed > 1 || unnamed == 1 && !callableUnnamed[f.Params[0].Type] {
		return nil
	}
	return f
}

// introspection is the one statement Load runs; $schemas is replaced by
// the exposed schemas' array literal.
const introspection = `WITH RECURSIVE
domains(oid, base, typmod, nn, def) AS (
  SELECT t.oid, t.typbasetype, t.typtypmod, t.typnotnull, pg_get_expr(t.typdefaultbin, 0)
  FROM pg_type t WHERE t.typtype = 'd'
  UNION ALL
  SELECT d.oid, b.typbasetype, CASE WHEN d.typmod <> -1 THEN d.typmod ELSE b.typtypmod END,
         d.nn OR b.typnotnull, coalesce(d.def, pg_get_expr(b.typdefaultbin, 0))
  FROM domains d JOIN pg_type b ON b.oid = d.base AND b.typtype = 'd'
),
base_types AS (
  SELECT d.oid, d.base, d.typmod, d.nn, d.def
  FROM domains d JOIN pg_type b ON b.oid = d.base WHERE b.typtype <> 'd'
),
exposed AS (
  SELECT s.name, s.ord FROM unnest($schemas) WITH ORDINALITY AS s(name, ord)
)
SELECT json_build_object(
'schemas', (
  SELECT coalesce(json_agg(json_build_object('Name', n.nspname, 'Comment', coalesce(d.description, '')) ORDER BY e.ord), '[]')
  FROM exposed e
  JOIN pg_namespace n ON n.nspname = e.name
  LEFT JOIN pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass AND d.objsubid = 0
),
'tables', (
  SELECT coalesce(json_agg(json_build_object(
    'oid', c.oid::int8,
    'schema', n.nspname,
    'name', c.relname,
    'kind', c.relkind,
    'comment', coalesce((SELECT d.description FROM pg_description d
                         WHERE d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0), ''),
    'updatable', CASE WHEN c.relkind IN ('v', 'f') THEN pg_relation_is_updatable(c.oid::regclass, true) ELSE 0 END,
    'columns', (
      SELECT coalesce(json_agg(json_build_object(
        'num', a.attnum,
        'name', a.attname,
        'type', format_type(a.atttypid, a.atttypmod),
        'base', format_type(coalesce(bt.base, a.atttypid), NULL),
        'nullable', NOT (a.attnotnull OR coalesce(bt.nn, false)),
        'default', CASE
          WHEN a.attgenerated <> '' THEN NULL
          WHEN a.attidentity = 'd' THEN format('nextval(%L)', pg_get_serial_sequence(c.oid::regclass::text, a.attname))
          ELSE coalesce(pg_get_expr(ad.adbin, ad.adrelid), bt.def)
        END,
        'generated', a.attidentity = 'a' OR a.attgenerated <> '',
        'maxlen', CASE
          WHEN coalesce(bt.base, a.atttypid) IN ('bpchar'::regtype, 'varchar'::regtype)
           AND (CASE WHEN bt.oid IS NULL THEN a.atttypmod ELSE bt.typmod END) > 4
          THEN (CASE WHEN bt.oid IS NULL THEN a.atttypmod ELSE bt.typmod END) - 4
          ELSE 0 END,
        'enum', (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = coalesce(bt.base, a.atttypid)),
        'comment', coalesce((SELECT cd.description FROM pg_description cd
                             WHERE cd.objoid = a.attrelid AND cd.classoid = 'pg_class'::regclass AND cd.objsubid = a.attnum), '')
      ) ORDER BY a.attnum), '[]')
      FROM pg_attribute a
      LEFT JOIN base_types bt ON bt.oid = a.atttypid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    )
  ) ORDER BY n.nspname, c.relname), '[]')
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p') AND NOT c.relispartition
    AND n.nspname IN (SELECT name FROM exposed)
),
'constraints', (
  SELECT coalesce(json_agg(json_build_object(
    'type', k.contype,
    'name', k.conname,
    'rel', k.conrelid::int8,
    'schema', n.nspname,
    'table', r.relname,
    'cols', (SELECT json_agg(json_build_array(a.attnum, a.attname) ORDER BY x.ord)
             FROM unnest(k.conkey) WITH ORDINALITY AS x(num, ord)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.num),
    'frel', k.confrelid::int8,
    'fschema', fn.nspname,
    'ftable', f.relname,
    'fcols', (SELECT json_agg(json_build_array(a.attnum, a.attname) ORDER BY x.ord)
              FROM unnest(k.confkey) WITH ORDINALITY AS x(num, ord)
              JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = x.num)
  ) ORDER BY n.nspname, r.relname, k.conname), '[]')
  FROM pg_constraint k
  JOIN pg_class r ON r.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = r.relnamespace
  LEFT JOIN pg_class f ON f.oid = k.confrelid
  LEFT JOIN pg_namespace fn ON fn.oid = f.relnamespace
  WHERE k.contype IN ('p', 'u', 'f') AND k.conparentid = 0 AND NOT r.relispartition
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
),
'views', (
  SELECT coalesce(json_agg(json_build_object('oid', c.oid::int8, 'def', w.ev_action::text) ORDER BY c.oid), '[]')
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_rewrite w ON w.ev_class = c.oid AND w.rulename = '_RETURN'
  WHERE c.relkind IN ('v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
),
'computed', (
  SELECT coalesce(json_agg(json_build_object(
    'schema', n.nspname,
    'name', p.proname,
    'tschema', tn.nspname,
    'table', tc.relname,
    'fschema', fn.nspname,
    'ftable', fc.relname,
    'toone', NOT p.proretset OR p.prorows = 1
  ) ORDER BY n.nspname, p.proname, p.oid), '[]')
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_class tc ON tc.reltype = p.proargtypes[0] AND tc.relkind IN ('r', 'v', 'm', 'f', 'p')
  JOIN pg_namespace tn ON tn.oid = tc.relnamespace
  JOIN pg_class fc ON fc.reltype = p.prorettype AND fc.relkind IN ('r', 'v', 'm', 'f', 'p')
  JOIN pg_namespace fn ON fn.oid = fc.relnamespace
  WHERE p.pronargs = 1
    AND tn.nspname IN (SELECT name FROM exposed) AND fn.nspname IN (SELECT name FROM exposed)
),
'functions', (
  SELECT coalesce(json_agg(json_build_object(
    'schema', n.nspname,
    'name', p.proname,
    'comment', coalesce((SELECT d.description FROM pg_description d
                         WHERE d.objoid = p.oid AND d.classoid = 'pg_proc'::regclass AND d.objsubid = 0), ''),
    'args', (SELECT coalesce(json_agg(json_build_object(
               'name', coalesce(p.proargnames[x.i], ''),
               'type', format_type(x.t, NULL),
               'mode', coalesce(p.proargmodes[x.i]::text, 'i')) ORDER BY x.i), '[]')
             FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY AS x(t, i)),
    'ndefaults', p.pronargdefaults,
    'retschema', tn.nspname,
    'retname', coalesce(comp.relname, t.typname),
    'retset', p.proretset,
    'composite', t.typtype = 'c' OR coalesce(p.proargmodes::text[] && '{t,b,o}', false),
    'void', p.prorettype = 'void'::regtype,
    'volatility', p.provolatile,
    'variadic', p.provariadic <> 0
  ) ORDER BY n.nspname, p.proname, p.oid), '[]')
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  LEFT JOIN base_types bt ON bt.oid = p.prorettype
  JOIN pg_type t ON t.oid = coalesce(bt.base, p.prorettype)
  JOIN pg_namespace tn ON tn.oid = t.typnamespace
  LEFT JOIN pg_class comp ON comp.oid = t.typrelid AND t.typtype = 'c'
  WHERE p.prokind = 'f' AND p.prorettype <> 'trigger'::regtype AND p.prorettype <> 'event_trigger'::regtype
    AND n.nspname IN (SELECT name FROM exposed)
))`
