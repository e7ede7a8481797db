package schemacache_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/grovedb/grove/internal/dataapi/apierr"
	"github.com/grovedb/grove/internal/dataapi/schemacache"
	"github.com/grovedb/grove/internal/pgtest"
	"github.com/jackc/pgx/v5/pgconn"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

const fixtureDB = "dataapi"

// startFixture starts a server with the Data API's test database.
func startFixture(t testing.TB) *pgtest.Server {
	t.Helper()
	srv := pgtest.Start(t)
	sql, err := os.ReadFile(filepath.Join("..", "testdata", "fixture.sql"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Exec(t, "postgres", "CREATE DATABASE "+fixtureDB)
	srv.Exec(t, fixtureDB, string(sql))
	return srv
}

// connect opens a pgconn connection closed at the end of the test.
func connect(t testing.TB, dsn string) *pgconn.PgConn {
	t.Helper()
	conn, err := pgconn.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(t.Context()) })
	return conn
}

func load(t testing.TB, conn *pgconn.PgConn) *schemacache.Schema {
	t.Helper()
	s, err := schemacache.Load(t.Context(), conn, []string{"api"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dump is the cache as JSON with its maps keyed "schema.name", sorted.
func dump(t testing.TB, s *schemacache.Schema) []byte {
	t.Helper()
	key := func(q schemacache.QName) string { return q.Schema + "." + q.Name }
	out := struct {
		Schemas       []schemacache.SchemaInfo
		Tables        map[string]*schemacache.Table
		Functions     map[string][]*schemacache.Function
		Relationships map[string][]*schemacache.Relationship
	}{s.Schemas, map[string]*schemacache.Table{}, map[string][]*schemacache.Function{}, map[string][]*schemacache.Relationship{}}
	for q, v := range s.Tables {
		out.Tables[key(q)] = v
	}
	for q, v := range s.Functions {
		out.Functions[key(q)] = v
	}
	for q, v := range s.Relationships {
		out.Relationships[key(q)] = v
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestSchemaCache(t *testing.T) {
	pgtest.SkipShort(t, "needs PostgreSQL")
	srv := startFixture(t)
	s := load(t, connect(t, srv.AdminDSN(fixtureDB)))

	t.Run("golden", func(t *testing.T) {
		got := dump(t, s)
		path := filepath.Join("testdata", "schema.golden.json")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("cache differs from %s (run with -update and review the diff)", path)
		}
	})

	t.Run("unprivileged", func(t *testing.T) {
		srv.Exec(t, fixtureDB, `CREATE ROLE probe LOGIN PASSWORD 'probe'; GRANT USAGE ON SCHEMA api TO probe`)
		conn := connect(t, srv.DSN("probe", fixtureDB)+" password=probe")
		if got, want := dump(t, load(t, conn)), dump(t, s); !bytes.Equal(got, want) {
			t.Errorf("the cache read without privileges differs:\n%s", got)
		}
	})

	t.Run("two schemas", func(t *testing.T) {
		conn := connect(t, srv.AdminDSN(fixtureDB))
		s2, err := schemacache.Load(t.Context(), conn, []string{"private", "api", "missing"})
		if err != nil {
			t.Fatal(err)
		}
		if len(s2.Schemas) != 2 || s2.Schemas[0].Name != "private" || s2.Schemas[1].Name != "api" {
			t.Errorf("schemas %+v", s2.Schemas)
		}
		if _, err := s2.FindTable("private", "secrets"); err != nil {
			t.Error(err)
		}
		if _, err := s2.FindFunction("private", "secret_value", nil, false); err != nil {
			t.Error(err)
		}
		// Keys between schemas are relationships, but an embedding only
		// finds those within the origin's schema.
		audit := schemacache.QName{Schema: "private", Name: "audit_log"}
		if len(s2.Relationships[audit]) != 1 {
			t.Errorf("audit_log relationships %+v", s2.Relationships[audit])
		}
		if _, err := s2.FindRelationship(audit, "users", ""); err == nil {
			t.Error("found a relationship to another schema")
		}
	})

	t.Run("in transaction", func(t *testing.T) {
		conn := connect(t, srv.AdminDSN(fixtureDB))
		if err := conn.Exec(t.Context(), "BEGIN").Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := schemacache.Load(t.Context(), conn, []string{"api"}); err == nil {
			t.Fatal("Load inside a transaction succeeded")
		}
	})

	t.Run("tables", func(t *testing.T) { testTables(t, s) })
	t.Run("FindRelationship", func(t *testing.T) { testFindRelationship(t, s) })
	t.Run("FindRelationship errors", func(t *testing.T) { testRelationshipErrors(t, s) })
	t.Run("FindFunction", func(t *testing.T) { testFindFunction(t, s) })
	t.Run("FindTable", func(t *testing.T) { testFindTable(t, s) })
}

func testTables(t *testing.T, s *schemacache.Schema) {
	for _, tc := range []struct {
		table                            string
		kind                             string
		pk                               []string
		insertable, updatable, deletable bool
	}{
		{"users", schemacache.KindTable, []string{"id"}, true, true, true},
		{"order_items", schemacache.KindTable, []string{"order_id", "item_id"}, true, true, true},
		{"orders_view", schemacache.KindView, []string{"id"}, true, true, true},
		{"order_summaries", schemacache.KindView, []string{"order_id"}, false, false, false},
		{"paid_orders", schemacache.KindView, []string{"id"}, true, true, true},
		{"user_order_counts", schemacache.KindView, []string{}, false, false, false},
		{"item_names", schemacache.KindView, []string{"id"}, true, false, false},
		{"item_stats", schemacache.KindMatView, []string{"item_id"}, false, false, false},
	} {
		t.Run(tc.table, func(t *testing.T) {
			tb, err := s.FindTable("api", tc.table)
			if err != nil {
				t.Fatal(err)
			}
			if tb.Kind != tc.kind || !reflect.DeepEqual(tb.PrimaryKey, tc.pk) ||
				tb.Insertable != tc.insertable || tb.Updatable != tc.updatable || tb.Deletable != tc.deletable {
				t.Errorf("got kind %s pk %v ins/upd/del %v/%v/%v", tb.Kind, tb.PrimaryKey, tb.Insertable, tb.Updatable, tb.Deletable)
			}
		})
	}
	orders, _ := s.FindTable("api", "orders")
	for _, tc := range []struct {
		col  string
		want schemacache.Column
	}{
		{"id", schemacache.Column{Name: "id", Type: "integer", BaseType: "integer", Generated: true}},
		{"status", schemacache.Column{Name: "status", Type: "api.order_status", BaseType: "api.order_status",
			Default: "'pending'::api.order_status", Enum: []string{"pending", "paid", "shipped", "cancelled"}}},
		{"total", schemacache.Column{Name: "total", Type: "api.positive_price", BaseType: "numeric", Default: "0"}},
		{"code", schemacache.Column{Name: "code", Type: "api.short_code", BaseType: "character varying", Nullable: true, MaxLen: 8}},
		{"owner", schemacache.Column{Name: "owner", Type: "text", BaseType: "text", Default: "CURRENT_USER",
			Comment: "Role that placed the order (row-level security)"}},
		{"delivery", schemacache.Column{Name: "delivery", Type: "tstzrange", BaseType: "tstzrange", Nullable: true}},
	} {
		t.Run("orders."+tc.col, func(t *testing.T) {
			c := orders.Column(tc.col)
			if c == nil || !reflect.DeepEqual(*c, tc.want) {
				t.Errorf("got %+v, want %+v", c, tc.want)
			}
		})
	}
	if orders.Column("nope") != nil {
		t.Error("Column found a column that does not exist")
	}
	if _, err := orders.FindColumn("owner"); err != nil {
		t.Error(err)
	}
	_, err := orders.FindColumn("nope")
	want := decode(t, `{"status": 400, "code": "PGRST204",
		"message": "Could not find the 'nope' column of 'orders' in the schema cache", "details": null, "hint": null}`)
	if got := body(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("FindColumn: got %v", got)
	}
}

// rel is what a test expects of a relationship.
type rel struct {
	card, foreign, cons string
	cols, fcols         []string
	junction            string
}

func testFindRelationship(t *testing.T, s *schemacache.Schema) {
	for _, tc := range []struct {
		name, from, target, hint string
		want                     rel
	}{
		// Conformance cases 1112 (m2o), 1114 (o2m), 1117 (m2m), 1134 and
		// 1135 (o2o), 1122 (target as FK name), 1123 (target as column),
		// 1142 (hint by FK name), 1136 (computed relationship).
		{"m2o", "orders", "users", "", rel{"m2o", "users", "orders_user_id_fkey", []string{"user_id"}, []string{"id"}, ""}},
		{"o2m", "users", "orders", "", rel{"o2m", "orders", "orders_user_id_fkey", []string{"id"}, []string{"user_id"}, ""}},
		{"o2o from the referenced table", "users", "user_profiles", "",
			rel{"o2o", "user_profiles", "user_profiles_user_id_fkey", []string{"id"}, []string{"user_id"}, ""}},
		{"o2o from the referencing table", "user_profiles", "users", "",
			rel{"o2o", "users", "user_profiles_user_id_fkey", []string{"user_id"}, []string{"id"}, ""}},
		{"m2m", "orders", "items", "", rel{"m2m", "items", "", []string{"id"}, []string{"id"}, "order_items"}},
		{"m2m back", "items", "orders", "", rel{"m2m", "orders", "", []string{"id"}, []string{"id"}, "order_items"}},
		{"m2m second junction", "items", "tags", "", rel{"m2m", "tags", "", []string{"id"}, []string{"id"}, "item_tags"}},
		{"m2m junction hint", "orders", "items", "order_items", rel{"m2m", "items", "", []string{"id"}, []string{"id"}, "order_items"}},
		{"o2m to the junction", "orders", "order_items", "",
			rel{"o2m", "order_items", "order_items_order_id_fkey", []string{"id"}, []string{"order_id"}, ""}},
		// Self-reference: the table's name finds the children, the
		// column's name the parent; a hint on the referencing column
		// finds the children.
		{"self o2m by table", "employees", "employees", "",
			rel{"o2m", "employees", "employees_manager_id_fkey", []string{"id"}, []string{"manager_id"}, ""}},
		{"self m2o by column", "employees", "manager_id", "",
			rel{"m2o", "employees", "employees_manager_id_fkey", []string{"manager_id"}, []string{"id"}, ""}},
		{"self o2m by hint", "employees", "employees", "manager_id",
			rel{"o2m", "employees", "employees_manager_id_fkey", []string{"id"}, []string{"manager_id"}, ""}},
		// Disambiguation of two keys to the same table.
		{"hint by constraint", "shipments", "addresses", "shipments_origin_address_id_fkey",
			rel{"m2o", "addresses", "shipments_origin_address_id_fkey", []string{"origin_address_id"}, []string{"id"}, ""}},
		{"hint by column", "shipments", "addresses", "destination_address_id",
			rel{"m2o", "addresses", "shipments_destination_address_id_fkey", []string{"destination_address_id"}, []string{"id"}, ""}},
		{"o2m hint by referencing column", "addresses", "shipments", "origin_address_id",
			rel{"o2m", "shipments", "shipments_origin_address_id_fkey", []string{"id"}, []string{"origin_address_id"}, ""}},
		{"hint by referenced column", "orders", "users", "id",
			rel{"m2o", "users", "orders_user_id_fkey", []string{"user_id"}, []string{"id"}, ""}},
		// The target written as a constraint or a column of the origin.
		{"target as constraint", "orders", "orders_user_id_fkey", "",
			rel{"m2o", "users", "orders_user_id_fkey", []string{"user_id"}, []string{"id"}, ""}},
		{"target as column", "orders", "user_id", "",
			rel{"m2o", "users", "orders_user_id_fkey", []string{"user_id"}, []string{"id"}, ""}},
		{"target as column, the other key", "shipments", "origin_address_id", "",
			rel{"m2o", "addresses", "shipments_origin_address_id_fkey", []string{"origin_address_id"}, []string{"id"}, ""}},
		// Views keep their base tables' keys.
		{"view to table", "orders_view", "users", "",
			rel{"m2o", "users", "orders_user_id_fkey", []string{"user_id"}, []string{"id"}, ""}},
		{"table to view", "users", "orders_view", "",
			rel{"o2m", "orders_view", "orders_user_id_fkey", []string{"id"}, []string{"user_id"}, ""}},
		{"renamed view columns", "order_summaries", "users", "",
			rel{"m2o", "users", "orders_user_id_fkey", []string{"customer_id"}, []string{"id"}, ""}},
		{"view over a view", "paid_orders", "users", "",
			rel{"m2o", "users", "orders_user_id_fkey", []string{"user_id"}, []string{"id"}, ""}},
		{"view to view", "order_items", "paid_orders", "",
			rel{"m2o", "paid_orders", "order_items_order_id_fkey", []string{"order_id"}, []string{"id"}, ""}},
		{"m2m to a view", "items", "orders_view", "",
			rel{"m2m", "orders_view", "", []string{"id"}, []string{"id"}, "order_items"}},
		{"view of a private table", "user_audit", "users", "",
			rel{"m2o", "users", "audit_log_user_id_fkey", []string{"user_id"}, []string{"id"}, ""}},
		{"quoted names", "Order Lines", "orders", "",
			rel{"m2o", "orders", "order_items_order_id_fkey", []string{"order {id} (x)"}, []string{"id"}, ""}},
		{"quoted names back", "orders", "Order Lines", "",
			rel{"o2m", "Order Lines", "order_items_order_id_fkey", []string{"id"}, []string{"order {id} (x)"}, ""}},
		// Computed relationships, found by the function's name.
		{"computed to-one", "users", "last_order", "", rel{"m2o", "orders", "", nil, nil, ""}},
		{"computed to-many", "orders", "expensive_items", "", rel{"o2m", "items", "", nil, nil, ""}},
		{"computed replaces the key", "item_tags", "tags", "", rel{"m2o", "tags", "", nil, nil, ""}},
		{"materialized view", "item_stats", "tags", "",
			rel{"m2m", "tags", "", []string{"item_id"}, []string{"id"}, "item_tags"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := s.FindRelationship(schemacache.QName{Schema: "api", Name: tc.from}, tc.target, tc.hint)
			if err != nil {
				t.Fatal(err)
			}
			got := rel{r.Cardinality, r.Foreign.Name, r.Constraint, r.Columns, r.ForeignColumns, ""}
			if r.Computed() != (tc.want.cols == nil) {
				t.Errorf("computed: %v", r.Function)
			}
			if r.Junction != nil {
				got.junction = r.Junction.Table.Name
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// body is an error's body as PostgREST sends it, details decoded when
// they are JSON (PGRST201's array).
func body(t *testing.T, err error) map[string]any {
	t.Helper()
	var e *apierr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *apierr.Error", err)
	}
	m := map[string]any{"status": float64(e.Status), "code": e.Code, "message": e.Message, "details": nil, "hint": nil}
	if e.Details != "" {
		var v any
		if json.Unmarshal([]byte(e.Details), &v) == nil {
			m["details"] = v
		} else {
			m["details"] = e.Details
		}
	}
	if e.Hint != "" {
		m["hint"] = e.Hint
	}
	return m
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// ambiguousShipments is PGRST201 for shipments' two keys to addresses.
const ambiguousShipments = `{"status": 300, "code": "PGRST201",
	"message": "Could not embed because more than one relationship was found for 'shipments' and 'addresses'",
	"details": [
	  {"cardinality": "many-to-one", "embedding": "shipments with addresses",
	   "relationship": "shipments_destination_address_id_fkey using shipments(destination_address_id) and addresses(id)"},
	  {"cardinality": "many-to-one", "embedding": "shipments with addresses",
	   "relationship": "shipments_origin_address_id_fkey using shipments(origin_address_id) and addresses(id)"}],
	"hint": "Try changing 'addresses' to one of the following: 'addresses!shipments_destination_address_id_fkey', 'addresses!shipments_origin_address_id_fkey'. Find the desired relationship in the 'details' key."}`

func testRelationshipErrors(t *testing.T, s *schemacache.Schema) {
	for _, tc := range []struct {
		name, from, target, hint string
		want                     string
	}{
		// Two foreign keys to the same table (conformance case 1125,
		// EmbedDisambiguationSpec).
		{"ambiguous m2o", "shipments", "addresses", "", ambiguousShipments},
		{"ambiguous o2m", "addresses", "shipments", "", `{"status": 300, "code": "PGRST201",
			"message": "Could not embed because more than one relationship was found for 'addresses' and 'shipments'",
			"details": [
			  {"cardinality": "one-to-many", "embedding": "addresses with shipments",
			   "relationship": "shipments_destination_address_id_fkey using addresses(id) and shipments(destination_address_id)"},
			  {"cardinality": "one-to-many", "embedding": "addresses with shipments",
			   "relationship": "shipments_origin_address_id_fkey using addresses(id) and shipments(origin_address_id)"}],
			"hint": "Try changing 'shipments' to one of the following: 'shipments!shipments_destination_address_id_fkey', 'shipments!shipments_origin_address_id_fkey'. Find the desired relationship in the 'details' key."}`},
		// A hint matching both keys' referenced column stays ambiguous.
		{"ambiguous with a hint", "shipments", "addresses", "id", ambiguousShipments},
		// No relationship; a close target is suggested (Error.hs
		// noRelBetweenHint doctests).
		{"close target", "orders", "itemz", "", `{"status": 400, "code": "PGRST200",
			"message": "Could not find a relationship between 'orders' and 'itemz' in the schema cache",
			"details": "Searched for a foreign key relationship between 'orders' and 'itemz' in the schema 'api', but no matches were found.",
			"hint": "Perhaps you meant 'items' instead of 'itemz'."}`},
		{"close origin", "order", "users", "", `{"status": 400, "code": "PGRST200",
			"message": "Could not find a relationship between 'order' and 'users' in the schema cache",
			"details": "Searched for a foreign key relationship between 'order' and 'users' in the schema 'api', but no matches were found.",
			"hint": "Perhaps you meant 'orders' instead of 'order'."}`},
		// Conformance case 1124.
		{"bad hint", "orders", "users", "nope", `{"status": 400, "code": "PGRST200",
			"message": "Could not find a relationship between 'orders' and 'users' in the schema cache",
			"details": "Searched for a foreign key relationship between 'orders' and 'users' using the hint 'nope' in the schema 'api', but no matches were found.",
			"hint": null}`},
		{"no close name", "users", "zzzzzz", "", `{"status": 400, "code": "PGRST200",
			"message": "Could not find a relationship between 'users' and 'zzzzzz' in the schema cache",
			"details": "Searched for a foreign key relationship between 'users' and 'zzzzzz' in the schema 'api', but no matches were found.",
			"hint": null}`},
		// Tables of the private schema are no targets; nothing is close.
		{"private table", "users", "audit_log", "", `{"status": 400, "code": "PGRST200",
			"message": "Could not find a relationship between 'users' and 'audit_log' in the schema cache",
			"details": "Searched for a foreign key relationship between 'users' and 'audit_log' in the schema 'api', but no matches were found.",
			"hint": null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.FindRelationship(schemacache.QName{Schema: "api", Name: tc.from}, tc.target, tc.hint)
			if err == nil {
				t.Fatal("no error")
			}
			if got, want := body(t, err), decode(t, tc.want); !reflect.DeepEqual(got, want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				t.Errorf("got %s", g)
			}
		})
	}
}

func testFindFunction(t *testing.T, s *schemacache.Schema) {
	for _, tc := range []struct {
		name, fn      string
		args          []string
		singleUnnamed bool
		params        []string // of the function found
	}{
		{"exact", "add", []string{"a", "b"}, false, []string{"a", "b"}},
		{"overload by names", "search_items", []string{"name"}, false, []string{"name"}},
		{"other overload", "search_items", []string{"min_price", "max_price"}, false, []string{"min_price", "max_price"}},
		{"defaults omitted", "greet", []string{"name"}, false, []string{"name", "greeting", "punctuation"}},
		{"some defaults", "greet", []string{"name", "punctuation"}, false, []string{"name", "greeting", "punctuation"}},
		{"no parameters", "order_totals", nil, false, []string{}},
		{"single unnamed json", "process_json", []string{"x", "y"}, true, []string{""}},
		{"variadic", "sum_all", []string{"nums"}, false, []string{"nums"}},
		{"void", "touch_user", []string{"uid"}, false, []string{"uid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := s.FindFunction("api", tc.fn, tc.args, tc.singleUnnamed)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, p := range f.Params {
				got = append(got, p.Name)
			}
			if !reflect.DeepEqual(got, tc.params) {
				t.Errorf("got params %v, want %v", got, tc.params)
			}
		})
	}
	for _, tc := range []struct {
		name, fn      string
		args          []string
		singleUnnamed bool
		want          string
	}{
		// PostgREST's RpcSpec "overloaded functions": same names, two types.
		{"ambiguous", "echo", []string{"v"}, false, `{"status": 300, "code": "PGRST203",
			"message": "Could not choose the best candidate function between: api.echo(v => integer), api.echo(v => text)",
			"details": null,
			"hint": "Try renaming the parameters or the function itself in the database so function overloading can be resolved"}`},
		// Function names must score 0.75 to be suggested (conformance
		// case 1443, RpcSpec "sayhell"): "greets" does, "ad" does not.
		{"close function name", "greets", []string{"name"}, false, `{"status": 404, "code": "PGRST202",
			"message": "Could not find the function api.greets(name) in the schema cache",
			"details": "Searched for the function api.greets with parameter name, but no matches were found in the schema cache.",
			"hint": "Perhaps you meant to call the function api.greet"}`},
		{"function name not close enough", "ad", []string{"a", "b"}, false, `{"status": 404, "code": "PGRST202",
			"message": "Could not find the function api.ad(a, b) in the schema cache",
			"details": "Searched for the function api.ad with parameters a, b, but no matches were found in the schema cache.",
			"hint": null}`},
		// A known name: the closest parameter list (conformance 1433).
		{"close parameters", "search_items", []string{"nam"}, false, `{"status": 404, "code": "PGRST202",
			"message": "Could not find the function api.search_items(nam) in the schema cache",
			"details": "Searched for the function api.search_items with parameter nam, but no matches were found in the schema cache.",
			"hint": "Perhaps you meant to call the function api.search_items(name)"}`},
		{"without parameters, JSON body", "add", nil, true, `{"status": 404, "code": "PGRST202",
			"message": "Could not find the function api.add without parameters in the schema cache",
			"details": "Searched for the function api.add without parameters or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.",
			"hint": null}`},
		{"not exposed", "secret_value", nil, false, `{"status": 404, "code": "PGRST202",
			"message": "Could not find the function api.secret_value without parameters in the schema cache",
			"details": "Searched for the function api.secret_value without parameters, but no matches were found in the schema cache.",
			"hint": null}`},
		{"procedure", "reset_stock", nil, false, `{"status": 404, "code": "PGRST202",
			"message": "Could not find the function api.reset_stock without parameters in the schema cache",
			"details": "Searched for the function api.reset_stock without parameters, but no matches were found in the schema cache.",
			"hint": null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.FindFunction("api", tc.fn, tc.args, tc.singleUnnamed)
			if err == nil {
				t.Fatal("no error")
			}
			if got, want := body(t, err), decode(t, tc.want); !reflect.DeepEqual(got, want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				t.Errorf("got %s", g)
			}
		})
	}
	t.Run("text body", func(t *testing.T) {
		_, err := s.FindFunctionCall("api", "process_json", nil, schemacache.CallText)
		want := decode(t, `{"status": 404, "code": "PGRST202",
			"message": "Could not find the function api.process_json in the schema cache",
			"details": "Searched for the function api.process_json with a single unnamed text parameter, but no matches were found in the schema cache.",
			"hint": null}`)
		if got := body(t, err); !reflect.DeepEqual(got, want) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("skipped", func(t *testing.T) {
		var names []string
		for q := range s.Functions {
			names = append(names, q.Name)
		}
		sort.Strings(names)
		for _, n := range []string{"concat_two", "total_of", "reset_stock", "secret_value", "last_order"} {
			if s.Functions[schemacache.QName{Schema: "api", Name: n}] != nil {
				t.Errorf("%s is in the cache (%v)", n, names)
			}
		}
	})
}

func testFindTable(t *testing.T, s *schemacache.Schema) {
	if _, err := s.FindTable("api", "orders"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ schema, name, want string }{
		{"api", "order", `{"status": 404, "code": "PGRST205",
			"message": "Could not find the table 'api.order' in the schema cache",
			"details": null, "hint": "Perhaps you meant the table 'api.orders'"}`},
		{"api", "secrets", `{"status": 404, "code": "PGRST205",
			"message": "Could not find the table 'api.secrets' in the schema cache",
			"details": null, "hint": null}`},
		{"private", "secrets", `{"status": 404, "code": "PGRST205",
			"message": "Could not find the table 'private.secrets' in the schema cache",
			"details": null, "hint": null}`},
	} {
		t.Run(tc.schema+"."+tc.name, func(t *testing.T) {
			_, err := s.FindTable(tc.schema, tc.name)
			if got, want := body(t, err), decode(t, tc.want); !reflect.DeepEqual(got, want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				t.Errorf("got %s", g)
			}
		})
	}
}

// BenchmarkLoadLarge measures Load on 500 tables, each referencing the
// one before, and a view over every fifth table, next to the fixture.
func BenchmarkLoadLarge(b *testing.B) {
	srv := startFixture(b)
	var ddl strings.Builder
	ddl.WriteString("CREATE TABLE api.t0 (id int PRIMARY KEY, name text);\n")
	for i := 1; i < 500; i++ {
		fmt.Fprintf(&ddl, "CREATE TABLE api.t%d (id int PRIMARY KEY, prev_id int REFERENCES api.t%d, name text, note text);\n", i, i-1)
		fmt.Fprintf(&ddl, "COMMENT ON TABLE api.t%d IS 'table %d';\n", i, i)
		if i%5 == 0 {
			fmt.Fprintf(&ddl, "CREATE VIEW api.v%d AS SELECT id, prev_id, name FROM api.t%d;\n", i, i)
		}
	}
	srv.Exec(b, fixtureDB, ddl.String())
	conn := connect(b, srv.AdminDSN(fixtureDB))
	for b.Loop() {
		if _, err := schemacache.Load(b.Context(), conn, []string{"api"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad measures Load on the fixture database.
func BenchmarkLoad(b *testing.B) {
	srv := startFixture(b)
	conn := connect(b, srv.AdminDSN(fixtureDB))
	for b.Loop() {
		if _, err := schemacache.Load(b.Context(), conn, []string{"api"}); err != nil {
			b.Fatal(err)
		}
	}
}
