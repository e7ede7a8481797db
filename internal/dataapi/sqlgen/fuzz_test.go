package sqlgen_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/grovedb/grove/internal/dataapi/apierr"
	"github.com/grovedb/grove/internal/dataapi/query"
	"github.com/grovedb/grove/internal/dataapi/schemacache"
	"github.com/grovedb/grove/internal/dataapi/sqlgen"
)

// fuzzSchema is a small schema cache made by hand: users, their orders,
// and a function returning orders.
func fuzzSchema() *schemacache.Schema {
	users := schemacache.QName{Schema: "api", Name: "users"}
	orders := schemacache.QName{Schema: "api", Name: "orders"}
	col := func(name, typ string) *schemacache.Column {
		return &schemacache.Column{Name: name, Type: typ, BaseType: typ, Nullable: true}
	}
	return &schemacache.Schema{
		Schemas: []schemacache.SchemaInfo{{Name: "api"}},
		Tables: map[schemacache.QName]*schemacache.Table{
			users: {Name: users, Kind: schemacache.KindTable, Insertable: true, Updatable: true, Deletable: true,
				Columns: []*schemacache.Column{col("id", "integer"), col("name", "text"), col("data", "jsonb")}, PrimaryKey: []string{"id"}},
			orders: {Name: orders, Kind: schemacache.KindTable, Insertable: true, Updatable: true, Deletable: true,
				Columns: []*schemacache.Column{col("id", "integer"), col("user_id", "integer"), col("total", "numeric")}, PrimaryKey: []string{"id"}},
		},
		Functions: map[schemacache.QName][]*schemacache.Function{
			{Schema: "api", Name: "user_orders"}: {{Name: schemacache.QName{Schema: "api", Name: "user_orders"},
				Params: []schemacache.Param{{Name: "uid", Type: "integer"}}, ReturnType: orders, ReturnsSet: true,
				ReturnsComposite: true, Volatility: 's'}},
		},
		Relationships: map[schemacache.QName][]*schemacache.Relationship{
			orders: {{Table: orders, Foreign: users, Cardinality: schemacache.ManyToOne, Constraint: "orders_user_id_fkey",
				Columns: []string{"user_id"}, ForeignColumns: []string{"id"}}},
			users: {{Table: users, Foreign: orders, Cardinality: schemacache.OneToMany, Constraint: "orders_user_id_fkey",
				Columns: []string{"id"}, ForeignColumns: []string{"user_id"}}},
		},
	}
}

// FuzzBuild: whatever the query string, body and Prefer, building the
// statement neither panics nor fails other than with a client error.
func FuzzBuild(f *testing.F) {
	for _, seed := range []struct{ method, name, q, body, prefer string }{
		{"GET", "users", "select=id,orders(total)&orders.total=gt.1&order=name.desc", "", "count=exact"},
		{"GET", "orders", "select=*,users!inner(name)&users.name=like.*a*&limit=2", "", ""},
		{"POST", "users", "columns=id,name&on_conflict=id", `[{"id":1,"name":"a"}]`, "resolution=merge-duplicates,return=representation"},
		{"PATCH", "users", "id=eq.1&select=id,orders(id)", `{"name":"b"}`, "return=representation"},
		{"PUT", "users", "id=eq.1", `{"id":1,"name":"c"}`, ""},
		{"DELETE", "orders", "or=(id.eq.1,total.is.null)&limit=1&order=id", "", "max-affected=1,handling=strict"},
		{"GET", "rpc/user_orders", "uid=1&select=id,users(name)&total=gte.3", "", "count=planned"},
		{"POST", "rpc/user_orders", "", `{"uid":1}`, ""},
		{"GET", "users", "select=data->a->>b::int,count()&data->x=cs.{1}", "", ""},
	} {
		f.Add(seed.method, seed.name, seed.q, seed.body, seed.prefer)
	}
	s := fuzzSchema()
	f.Fuzz(func(t *testing.T, method, name, q, body, prefer string) {
		params, err := query.Parse(q)
		if err != nil {
			return
		}
		pr, err := query.ParsePrefer([]string{prefer})
		if err != nil {
			return
		}
		r := &sqlgen.Request{Method: method, Schema: "api", Name: name, Params: params, Prefer: pr,
			Media: sqlgen.MediaJSON, Body: []byte(body), AggregatesEnabled: true, MaxRows: 5}
		if fn, ok := cutRPC(name); ok {
			r.Name, r.RPC = fn, true
		}
		if _, err := sqlgen.Build(s, r); err != nil {
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Status >= http.StatusInternalServerError {
				t.Fatalf("Build(%s /%s?%s, %q, %q): %v", method, name, q, body, prefer, err)
			}
		}
	})
}

func cutRPC(name string) (string, bool) {
	const p = "rpc/"
	if len(name) > len(p) && name[:len(p)] == p {
		return name[len(p):], true
	}
	return "", false
}
