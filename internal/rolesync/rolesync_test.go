package rolesync

import (
	"context"
	"testing"

	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/reserved"
	"github.com/grovedb/grove/internal/scram"
	"github.com/jackc/pgx/v5"
)

// server is a throwaway cluster as the Compute Apply changes.
type server struct {
	*pgtest.Server
	major int
}

func (s server) Conn(ctx context.Context, db string) (*pgx.Conn, error) { return s.Connect(ctx, db) }
func (s server) Exec(ctx context.Context, db, sql string) error         { return s.Psql(ctx, db, sql) }
func (s server) Major() int                                             { return s.major }

// state is what a test reads back of the cluster: role → can log in,
// database → owner.
func state(t *testing.T, s server) (map[string]bool, map[string]string) {
	t.Helper()
	c := s.Server.Conn(t, "postgres")
	roles, dbs := map[string]bool{}, map[string]string{}
	rows, err := c.Query(t.Context(), `SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname NOT LIKE 'pg\_%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		var login bool
		if err := rows.Scan(&n, &login); err != nil {
			t.Fatal(err)
		}
		roles[n] = login
	}
	rows, err = c.Query(t.Context(), `SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE NOT datistemplate`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n, owner string
		if err := rows.Scan(&n, &owner); err != nil {
			t.Fatal(err)
		}
		dbs[n] = owner
	}
	return roles, dbs
}

// TestApply: a first apply makes the roles and takes the spare database
// for the first database, a repeat changes nothing, and recorded renames
// and drops are replayed in order.
func TestApply(t *testing.T) {
	pgtest.SkipShort(t, "Postgres")
	srv := pgtest.Start(t)
	var major int
	if err := srv.Conn(t, "postgres").QueryRow(t.Context(), `SELECT current_setting('server_version_num')::int / 10000`).Scan(&major); err != nil {
		t.Fatal(err)
	}
	s := server{Server: srv, major: major}
	srv.Exec(t, "postgres", `CREATE DATABASE `+reserved.SpareDatabase)
	v, err := scram.NewVerifier("secret")
	if err != nil {
		t.Fatal(err)
	}
	app := metastore.Role{Name: "app", Verifier: v.String()}
	cfg := metastore.BranchConfig{Pending: true,
		Roles:     []metastore.Role{app, {Name: "reader"}},
		Databases: []metastore.Database{{Name: "appdb", OwnerName: "app"}}}
	for i := range 2 {
		last, err := Apply(t.Context(), s, cfg)
		if err != nil || last != 0 {
			t.Fatalf("apply %d: last %d, %v", i, last, err)
		}
	}
	roles, dbs := state(t, s)
	if !roles["app"] || roles["reader"] || dbs["appdb"] != "app" {
		t.Fatalf("after apply: roles %v, databases %v", roles, dbs)
	}
	if _, ok := dbs[reserved.SpareDatabase]; ok {
		t.Errorf("the spare database is still there: %v", dbs)
	}

	cfg.Changes = []metastore.ConfigChange{
		{Seq: 5, Kind: "rename_database", Name: "appdb", NewName: "db2"},
		{Seq: 6, Kind: "drop_role", Name: "reader"},
	}
	cfg.Roles = []metastore.Role{app}
	cfg.Databases = []metastore.Database{{Name: "db2", OwnerName: "app"}}
	if last, err := Apply(t.Context(), s, cfg); err != nil || last != 6 {
		t.Fatalf("replay: last %d, %v", last, err)
	}
	roles, dbs = state(t, s)
	if _, ok := roles["reader"]; ok || dbs["db2"] != "app" {
		t.Fatalf("after replay: roles %v, databases %v", roles, dbs)
	}
	if _, ok := dbs["appdb"]; ok {
		t.Errorf("appdb was not renamed: %v", dbs)
	}
}
