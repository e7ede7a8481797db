package sqlgen_test

import (
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/grovedb/grove/internal/dataapi/apierr"
	"github.com/grovedb/grove/internal/dataapi/query"
	"github.com/grovedb/grove/internal/dataapi/schemacache"
	"github.com/grovedb/grove/internal/dataapi/sqlgen"
	"github.com/grovedb/grove/internal/pgtest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// genCase is one request: its SQL, parameters and what running it in a
// rolled-back transaction returns go to testdata/<group>.golden.
type genCase struct {
	method, path, query string
	prefer              string
	media               string
	body                string
	rangeHdr            string
	maxRows             int64
	stripNulls          bool
}

var genCases = map[string][]genCase{
	"read": {
		{method: "GET", path: "users", query: "select=id,name&order=id"},
		{method: "GET", path: "users", query: "id=eq.1"},
		{method: "GET", path: "users", query: "select=id&id=in.(1,2)&order=id.desc"},
		{method: "GET", path: "users", query: "select=id,name&name=like.*a*&order=id"},
		{method: "GET", path: "users", query: "select=id&or=(id.eq.1,name.ilike.B*)&order=id"},
		{method: "GET", path: "users", query: "select=id&not.and=(id.gt.1,id.lt.3)&order=id"},
		{method: "GET", path: "users", query: "select=id,theme:settings->>theme&order=id&limit=2"},
		{method: "GET", path: "users", query: "select=id,name::text&tags=cs.{vip}"},
		{method: "GET", path: "users", query: "select=id&nickname=is.null&order=id"},
		{method: "GET", path: "users", query: "select=id&limit=1&offset=1&order=id", prefer: "count=exact"},
		{method: "GET", path: "users", query: "select=id&order=id", rangeHdr: "0-0"},
		{method: "GET", path: "users", query: "select=id&id=gt.1&order=id&limit=1", prefer: "count=planned"},
		{method: "GET", path: "users", query: "select=id&order=id&limit=1", prefer: "count=estimated", maxRows: 2},
		{method: "GET", path: "users", query: "select=id&order=id&limit=1", prefer: "count=estimated"},
		{method: "GET", path: "users", query: "select=id&order=id", maxRows: 1},
		{method: "GET", path: "users", query: "id=eq.1&select=id,name", media: sqlgen.MediaObject},
		{method: "GET", path: "users", query: "select=id,name&order=id&limit=2", media: sqlgen.MediaCSV},
		{method: "GET", path: "users", query: "select=id,nickname&order=id", stripNulls: true},
		{method: "GET", path: "users", query: "select=id,nickname&id=eq.2", media: sqlgen.MediaObject, stripNulls: true},
		{method: "GET", path: "users", query: "select=id&id=eq(any).{1,3}"},
		{method: "GET", path: "items", query: "select=name&search=fts(english).lamp"},
		{method: "GET", path: "items", query: "select=name&name=wfts.lamp"},
		{method: "GET", path: "items", query: "select=name&stock=ov.[0,5)&order=name"},
		{method: "GET", path: "users", query: "select=count()"},
		{method: "GET", path: "orders", query: "select=user_id,total.sum()&order=user_id"},
		{method: "GET", path: "users", query: "select=nope"},
		{method: "GET", path: "nope", query: ""},
	},
	"embed": {
		{method: "GET", path: "orders", query: "select=id,users(name)&order=id&limit=2"},
		{method: "GET", path: "orders", query: "select=id,buyer:users(name)&order=id&limit=2"},
		{method: "GET", path: "users", query: "select=id,o:orders(id)&orders.status=eq.paid&orders.order=id.desc&orders.limit=1&order=id&limit=2"},
		{method: "GET", path: "users", query: "select=name,orders(id,status)&order=id&orders.order=id.desc"},
		{method: "GET", path: "users", query: "select=name,orders(id)&orders.status=eq.paid&order=id"},
		{method: "GET", path: "users", query: "select=name,orders!inner(id)&orders.status=eq.paid&order=id", prefer: "count=exact"},
		{method: "GET", path: "orders", query: "select=id,items(name)&order=id&items.order=name&limit=2"},
		{method: "GET", path: "items", query: "select=name,tags(name)&order=id&limit=3"},
		{method: "GET", path: "employees", query: "select=name,manager:employees!manager_id(name)&order=id"},
		{method: "GET", path: "shipments", query: "select=id,addresses(city)"},
		{method: "GET", path: "shipments", query: "select=id,origin:addresses!origin_address_id(city),dest:addresses!destination_address_id(city)"},
		{method: "GET", path: "orders", query: "select=id,...users(name)&order=id&limit=2"},
		{method: "GET", path: "users", query: "select=name,user_profiles(bio)&order=id"},
		{method: "GET", path: "orders", query: "select=id,users(name)&order=users(name).desc,id&limit=3"},
		{method: "GET", path: "users", query: "select=name,orders(id,order_items(quantity,items(name)))&id=eq.1"},
		{method: "GET", path: "orders_view", query: "select=id,users(name)&order=id&limit=2"},
		{method: "GET", path: "users", query: "select=name,orders()&orders=not.is.null&order=id"},
		{method: "GET", path: "users", query: "select=name,orders(id)&orders.limit=1&order=id"},
		{method: "GET", path: "users", query: "select=name,last_order(id,status)&order=id"},
		{method: "GET", path: "orders", query: "select=id,expensive_items(name)&id=eq.1"},
		{method: "GET", path: "users", query: "select=name&nothere.id=eq.1"},
		{method: "GET", path: "users", query: "select=name,nothere(id)"},
	},
	"write": {
		{method: "POST", path: "tags", body: `{"name":"new"}`},
		{method: "POST", path: "tags", body: `{"name":"new"}`, prefer: "return=representation"},
		{method: "POST", path: "tags", body: `[{"name":"a"},{"name":"b"}]`, prefer: "return=representation"},
		{method: "POST", path: "tags", body: `[{"name":"a"},{"nome":"b"}]`},
		{method: "POST", path: "tags", body: `{"name":"x","nope":1}`},
		{method: "POST", path: "tags", query: "columns=name", body: `[{"name":"a","junk":1},{"name":"b"}]`, prefer: "return=representation"},
		{method: "POST", path: "users", body: `{"name":"Zed"}`, prefer: "return=representation,missing=default"},
		{method: "POST", path: "tags", body: `{"id":1,"name":"renamed"}`, prefer: "return=representation,resolution=merge-duplicates"},
		{method: "POST", path: "tags", body: `{"id":1,"name":"renamed"}`, prefer: "return=representation,resolution=ignore-duplicates"},
		{method: "POST", path: "tags", body: `not json`},
		{method: "POST", path: "orders", body: `{"user_id":1,"total":3}`, prefer: "return=representation", query: "select=id,users(name)"},
		{method: "PATCH", path: "tags", query: "id=eq.1", body: `{"name":"patched"}`, prefer: "return=representation"},
		{method: "PATCH", path: "tags", query: "id=gt.100", body: `{"name":"none"}`},
		{method: "PUT", path: "tags", query: "id=eq.1", body: `{"id":1,"name":"put"}`, prefer: "return=representation"},
		{method: "PUT", path: "tags", query: "id=eq.1", body: `{"id":2,"name":"put"}`},
		{method: "DELETE", path: "item_tags", query: "item_id=eq.1", prefer: "return=representation"},
		{method: "DELETE", path: "tags", query: "name=eq.nothing"},
	},
	"rpc": {
		{method: "GET", path: "rpc/add", query: "a=1&b=2"},
		{method: "POST", path: "rpc/add", body: `{"a":1,"b":2}`},
		{method: "GET", path: "rpc/user_orders", query: "uid=1&select=id,status&order=id"},
		{method: "GET", path: "rpc/user_orders", query: "uid=1&select=id,users(name)&status=eq.paid"},
		{method: "GET", path: "rpc/order_totals", query: "order=user_id"},
		{method: "POST", path: "rpc/create_tag", body: `{"name":"fromrpc"}`},
		{method: "GET", path: "rpc/create_tag", query: "name=x"},
		{method: "GET", path: "rpc/greet", query: "name=Ann"},
		{method: "GET", path: "rpc/sum_all", query: "nums=1&nums=2&nums=3"},
		{method: "POST", path: "rpc/sum_all", body: `{"nums":[4,5]}`},
		{method: "POST", path: "rpc/process_json", body: `{"any":"thing"}`},
		{method: "POST", path: "rpc/touch_user", body: `{"uid":1}`},
		{method: "GET", path: "rpc/split_price", query: "price=3.25"},
		{method: "GET", path: "rpc/nope", query: ""},
	},
}

func TestGenerate(t *testing.T) {
	pgtest.SkipShort(t, "needs PostgreSQL")
	srv := pgtest.Start(t)
	fixture, err := os.ReadFile(filepath.Join("..", "testdata", "fixture.sql"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Exec(t, "postgres", "CREATE DATABASE dataapi")
	srv.Exec(t, "dataapi", string(fixture))
	conn, err := pgconn.Connect(t.Context(), srv.AdminDSN("dataapi"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(t.Context()) })
	s, err := schemacache.Load(t.Context(), conn, []string{"api"})
	if err != nil {
		t.Fatal(err)
	}
	// In a fixed order: the groups share the database, whose sequences
	// the rolled-back writes still advance.
	for _, group := range slices.Sorted(maps.Keys(genCases)) {
		cases := genCases[group]
		t.Run(group, func(t *testing.T) {
			var out strings.Builder
			for _, c := range cases {
				fmt.Fprintf(&out, "### %s /%s?%s", c.method, c.path, c.query)
				if c.prefer != "" {
					fmt.Fprintf(&out, " Prefer: %s", c.prefer)
				}
				if c.media != "" {
					fmt.Fprintf(&out, " Accept: %s", c.media)
				}
				if c.rangeHdr != "" {
					fmt.Fprintf(&out, " Range: %s", c.rangeHdr)
				}
				if c.maxRows > 0 {
					fmt.Fprintf(&out, " max-rows: %d", c.maxRows)
				}
				if c.stripNulls {
					out.WriteString(" nulls=stripped")
				}
				if c.body != "" {
					fmt.Fprintf(&out, "\n%s", c.body)
				}
				out.WriteString("\n")
				st, err := build(s, c)
				if err != nil {
					out.WriteString(errText(t, err) + "\n\n")
					continue
				}
				fmt.Fprintf(&out, "%s\n", st.SQL)
				for i, a := range st.Args {
					fmt.Fprintf(&out, "  $%d = %s\n", i+1, a)
				}
				out.WriteString("=> " + run(t, conn, st) + "\n")
				if st.PlanSQL != "" {
					fmt.Fprintf(&out, "plan: %s\n", st.PlanSQL)
					for i, a := range st.PlanArgs {
						fmt.Fprintf(&out, "  $%d = %s\n", i+1, a)
					}
					plan := &sqlgen.Statement{SQL: st.PlanSQL, Args: st.PlanArgs}
					res := conn.ExecParams(t.Context(), plan.SQL, plan.Args, nil, nil, nil).Read()
					if res.Err != nil || len(res.Rows) != 1 {
						t.Fatalf("plan: %v", res.Err)
					}
					out.WriteString("=> a plan\n")
				}
				out.WriteString("\n")
			}
			golden(t, filepath.Join("testdata", group+".golden"), out.String())
		})
	}
}

func build(s *schemacache.Schema, c genCase) (*sqlgen.Statement, error) {
	params, err := query.Parse(c.query)
	if err != nil {
		return nil, err
	}
	prefer, err := query.ParsePrefer([]string{c.prefer})
	if err != nil {
		return nil, err
	}
	r := &sqlgen.Request{Method: c.method, Schema: "api", Name: c.path, Params: params, Prefer: prefer,
		Media: sqlgen.MediaJSON, MaxRows: c.maxRows, AggregatesEnabled: true}
	if name, ok := strings.CutPrefix(c.path, "rpc/"); ok {
		r.Name, r.RPC = name, true
	}
	if c.media != "" {
		r.Media = c.media
	}
	r.StripNulls = c.stripNulls
	if c.body != "" {
		r.Body = []byte(c.body)
	}
	if c.rangeHdr != "" {
		var from, to int64
		if _, err := fmt.Sscanf(c.rangeHdr, "%d-%d", &from, &to); err != nil {
			return nil, err
		}
		r.Range, r.HasRange = query.Range{Offset: from, Limit: to - from + 1, HasLimit: true}, true
	}
	return sqlgen.Build(s, r)
}

func errText(t *testing.T, err error) string {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an apierr.Error", err)
	}
	return fmt.Sprintf("error %d %s", ae.Status, ae.Body())
}

// run executes the statement in a transaction it rolls back and returns
// the result row, or Postgres' error.
func run(t *testing.T, conn *pgconn.PgConn, st *sqlgen.Statement) string {
	t.Helper()
	if err := conn.Exec(t.Context(), "BEGIN").Close(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := conn.Exec(t.Context(), "ROLLBACK").Close(); err != nil {
			t.Fatal(err)
		}
	}()
	res := conn.ExecParams(t.Context(), st.SQL, st.Args, nil, nil, nil).Read()
	if res.Err != nil {
		var pe *pgconn.PgError
		if errors.As(res.Err, &pe) {
			return fmt.Sprintf("postgres error %s: %s", pe.Code, pe.Message)
		}
		t.Fatalf("run: %v", res.Err)
	}
	if len(res.Rows) != 1 {
		t.Fatalf("%d result rows", len(res.Rows))
	}
	cols := []string{}
	for i, v := range res.Rows[0] {
		name := string(res.FieldDescriptions[i].Name)
		if v == nil {
			cols = append(cols, name+"=NULL")
			continue
		}
		cols = append(cols, name+"="+string(v))
	}
	return strings.Join(cols, " | ")
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update and review the diff)", path)
	}
}
