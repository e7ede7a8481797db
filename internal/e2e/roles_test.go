package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/client"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/jackc/pgx/v5"
)

// rolesEnv is a project made with the seed request and a spec-checking
// client, for the databases and roles tests.
type rolesEnv struct {
	t             *testing.T
	g             *grovetest.Grove
	c             *client.Client
	project, br   string
	endpoint      string
	base          string // the project's connection URI
	ownerPassword string
}

func newRolesEnv(t *testing.T) *rolesEnv {
	g := start(t)
	cp := g.CreateSeed()
	return &rolesEnv{
		t: t, g: g,
		c: client.New("http://"+g.APIAddr+"/api/v2", g.Key, client.WithHTTPClient(&http.Client{
			Transport: checkingTransport{g: g},
		})),
		project: cp.Project.ID, br: cp.Branch.ID, endpoint: cp.Endpoints[0].ID,
		base: cp.ConnectionURIs[0].ConnectionURI, ownerPassword: cp.Roles[0].Password,
	}
}

// uri is the project's connection URI with another role, password and database.
func (e *rolesEnv) uri(role, password, db string) string {
	e.t.Helper()
	u, err := url.Parse(e.base)
	if err != nil {
		e.t.Fatal(err)
	}
	u.User = url.UserPassword(role, password)
	u.Path = "/" + db
	return u.String()
}

// query runs one single-value query with pgx through the proxy.
func rolesQuery(t *testing.T, uri, sql string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var out string
	err = conn.QueryRow(ctx, sql).Scan(&out)
	return out, err
}

// rolesExec runs statements with pgx through the proxy.
func rolesExec(t *testing.T, uri, sql string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	return err
}

// sql runs a query as the project's owner on app_db and fails the test on error.
func (e *rolesEnv) sql(query string) string {
	e.t.Helper()
	out, err := rolesQuery(e.t, e.uri("app_user", e.ownerPassword, "app_db"), query)
	if err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return out
}

// clusterState lists the compute's own roles and databases (not the
// platform's), as seen in Postgres.
func (e *rolesEnv) clusterState() string {
	e.t.Helper()
	return e.sql(`SELECT (SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles
		WHERE rolname NOT LIKE 'pg\_%' AND rolname NOT LIKE 'grove\_%' AND rolname <> 'cloud_admin') || ' / ' ||
		(SELECT string_agg(datname || ':' || pg_get_userbyid(datdba), ',' ORDER BY datname) FROM pg_database
		WHERE datname NOT IN ('postgres', 'template0', 'template1'))`)
}

// apiState lists the branch's roles and databases as the API reports them.
func (e *rolesEnv) apiState() string {
	e.t.Helper()
	ctx := e.t.Context()
	roles, err := e.c.ListRoles(ctx, e.project, e.br)
	if err != nil {
		e.t.Fatal(err)
	}
	dbs, err := e.c.ListDatabases(ctx, e.project, e.br)
	if err != nil {
		e.t.Fatal(err)
	}
	var rs, ds []string
	for _, r := range roles {
		if r.Password != "" {
			e.t.Errorf("role list shows the password of %s", r.Name)
		}
		rs = append(rs, r.Name)
	}
	for _, d := range dbs {
		ds = append(ds, d.Name+":"+d.OwnerName)
	}
	return strings.Join(rs, ",") + " / " + strings.Join(ds, ",")
}

// settle waits for operations to end and fails unless they finished.
func (e *rolesEnv) settle(ops apitypes.List[apitypes.Operation]) {
	e.t.Helper()
	for _, op := range ops {
		if op.Action != "apply_config" || op.EndpointID != e.endpoint {
			e.t.Errorf("operation %s on %s, want apply_config on %s", op.Action, op.EndpointID, e.endpoint)
		}
		var got *apitypes.Operation
		grovetest.WaitFor(e.t, "operation "+op.ID, func() bool {
			var err error
			got, err = e.c.GetOperation(e.t.Context(), e.project, op.ID)
			return err == nil && got.Status.Terminal()
		})
		if got.Status != "finished" {
			e.t.Fatalf("operation %s %s: %s", op.Action, got.Status, got.Error)
		}
	}
}

func (e *rolesEnv) state() string {
	e.t.Helper()
	var ep apitypes.EndpointResponse
	if st, raw := e.g.API("GET", "/projects/"+e.project+"/endpoints/"+e.endpoint, nil, &ep); st != 200 {
		e.t.Fatalf("endpoint: %d %s", st, raw)
	}
	return string(ep.Endpoint.CurrentState)
}

// TestRolesAndDatabasesRunning: changes reach a running compute at once;
// new roles and reset passwords work through the proxy immediately.
func TestRolesAndDatabasesRunning(t *testing.T) {
	e := newRolesEnv(t)
	ctx := t.Context()
	if got := e.apiState(); got != "app_user / app_db:app_user" {
		t.Fatalf("initial roles and databases: %s", got)
	}
	if r, err := e.c.GetRole(ctx, e.project, e.br, "app_user"); err != nil || r.Password != "" || r.Name != "app_user" {
		t.Fatalf("get role: %+v, %v", r, err)
	}

	// A role: its password works through the proxy at once.
	ro, err := e.c.CreateRole(ctx, e.project, e.br, apitypes.RoleCreateRequest{Role: apitypes.RoleCreate{Name: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	e.settle(ro.Operations)
	alice := ro.Role.Password
	if !strings.HasPrefix(alice, "npg_") || ro.Role.Name != "alice" || ro.Role.BranchID != e.br {
		t.Fatalf("created role: %+v", ro.Role)
	}
	if out, err := rolesQuery(t, e.uri("alice", alice, "app_db"), "select current_user"); err != nil || out != "alice" {
		t.Fatalf("alice logs in: %q, %v", out, err)
	}
	if pw, err := e.c.RevealRolePassword(ctx, e.project, e.br, "alice"); err != nil || pw != alice {
		t.Fatalf("reveal_password: %q, %v; want the create's password", pw, err)
	}

	// A database owned by alice, where she makes a table.
	do, err := e.c.CreateDatabase(ctx, e.project, e.br, apitypes.DatabaseCreateRequest{Database: apitypes.DatabaseCreate{Name: "shop", OwnerName: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	e.settle(do.Operations)
	if do.Database.Name != "shop" || do.Database.OwnerName != "alice" || do.Database.ID == 0 {
		t.Fatalf("created database: %+v", do.Database)
	}
	if err := rolesExec(t, e.uri("alice", alice, "shop"), "create table t as select current_database()::text as db"); err != nil {
		t.Fatalf("alice makes a table in shop: %v", err)
	}
	if out, err := rolesQuery(t, e.uri("alice", alice, "shop"), "select db from t"); err != nil || out != "shop" {
		t.Fatalf("alice's table in shop: %q, %v", out, err)
	}
	if got := e.clusterState(); got != "alice,app_user / app_db:app_user,shop:alice" {
		t.Fatalf("in Postgres after creates: %s", got)
	}

	// Rename and change owner in one PATCH.
	do, err = e.c.UpdateDatabase(ctx, e.project, e.br, "shop", apitypes.DatabaseUpdateRequest{Database: apitypes.DatabaseUpdate{Name: "store", OwnerName: "app_user"}})
	if err != nil {
		t.Fatal(err)
	}
	e.settle(do.Operations)
	if do.Database.Name != "store" || do.Database.OwnerName != "app_user" {
		t.Fatalf("updated database: %+v", do.Database)
	}
	if _, err := e.c.GetDatabase(ctx, e.project, e.br, "shop"); client.StatusCode(err) != 404 {
		t.Fatalf("old name after rename: %v, want 404", err)
	}
	if d, err := e.c.GetDatabase(ctx, e.project, e.br, "store"); err != nil || d.OwnerName != "app_user" {
		t.Fatalf("new name: %+v, %v", d, err)
	}
	if got := e.clusterState(); got != "alice,app_user / app_db:app_user,store:app_user" {
		t.Fatalf("in Postgres after rename: %s", got)
	}

	// reset_password: the old password fails at once, the new one works.
	ro, err = e.c.ResetRolePassword(ctx, e.project, e.br, "alice")
	if err != nil {
		t.Fatal(err)
	}
	e.settle(ro.Operations)
	if ro.Role.Password == "" || ro.Role.Password == alice {
		t.Fatalf("reset gave password %q", ro.Role.Password)
	}
	if _, err := rolesQuery(t, e.uri("alice", alice, "store"), "select 1"); err == nil {
		t.Fatal("the old password still logs in after reset_password")
	}
	alice = ro.Role.Password
	if out, err := rolesQuery(t, e.uri("alice", alice, "store"), "select current_user"); err != nil || out != "alice" {
		t.Fatalf("new password: %q, %v", out, err)
	}
	if pw, err := e.c.RevealRolePassword(ctx, e.project, e.br, "alice"); err != nil || pw != alice {
		t.Fatalf("reveal after reset: %q, %v", pw, err)
	}

	// A role that owns a database cannot be deleted (Neon's rule).
	if _, err := e.c.DeleteRole(ctx, e.project, e.br, "app_user"); client.StatusCode(err) != 409 {
		t.Fatalf("delete of a database owner: %v, want 409", err)
	}

	// Deleting alice gives her table to the database's owner.
	ro, err = e.c.DeleteRole(ctx, e.project, e.br, "alice")
	if err != nil || ro == nil || ro.Role.Name != "alice" || ro.Role.Password != "" {
		t.Fatalf("delete role: %+v, %v", ro, err)
	}
	e.settle(ro.Operations)
	if _, err := rolesQuery(t, e.uri("alice", alice, "store"), "select 1"); err == nil {
		t.Fatal("a deleted role still logs in")
	}
	if out, err := rolesQuery(t, e.uri("app_user", e.ownerPassword, "store"), "select tableowner from pg_tables where tablename = 't'"); err != nil || out != "app_user" {
		t.Fatalf("owner of the deleted role's table: %q, %v", out, err)
	}
	if ro, err := e.c.DeleteRole(ctx, e.project, e.br, "alice"); err != nil || ro != nil {
		t.Fatalf("second delete of a role: %+v, %v; want 204", ro, err)
	}

	do, err = e.c.DeleteDatabase(ctx, e.project, e.br, "store")
	if err != nil || do == nil || do.Database.Name != "store" {
		t.Fatalf("delete database: %+v, %v", do, err)
	}
	e.settle(do.Operations)
	if do, err := e.c.DeleteDatabase(ctx, e.project, e.br, "store"); err != nil || do != nil {
		t.Fatalf("second delete of a database: %+v, %v; want 204", do, err)
	}
	if got := e.clusterState(); got != "app_user / app_db:app_user" {
		t.Fatalf("in Postgres after deletes: %s", got)
	}
	if got := e.apiState(); got != "app_user / app_db:app_user" {
		t.Fatalf("API after deletes: %s", got)
	}

	// A role that cannot log in.
	ro, err = e.c.CreateRole(ctx, e.project, e.br, apitypes.RoleCreateRequest{Role: apitypes.RoleCreate{Name: "readers", NoLogin: new(true)}})
	if err != nil {
		t.Fatal(err)
	}
	e.settle(ro.Operations)
	if ro.Role.Password != "" || ro.Role.AuthenticationMethod != "no_login" {
		t.Fatalf("no_login role: %+v", ro.Role)
	}
	if out := e.sql("select rolcanlogin::text from pg_roles where rolname = 'readers'"); out != "false" {
		t.Fatalf("readers can log in: %s", out)
	}
}

// TestRolesAndDatabasesSuspended: changes made while the endpoint is
// suspended do not wake it; its next start applies them, in order, before
// the first client gets in.
func TestRolesAndDatabasesSuspended(t *testing.T) {
	e := newRolesEnv(t)
	ctx := t.Context()
	// Made while running, changed while suspended.
	for _, name := range []string{"dave"} {
		ro, err := e.c.CreateRole(ctx, e.project, e.br, apitypes.RoleCreateRequest{Role: apitypes.RoleCreate{Name: name}})
		if err != nil {
			t.Fatal(err)
		}
		e.settle(ro.Operations)
	}
	for _, name := range []string{"old", "keep"} {
		do, err := e.c.CreateDatabase(ctx, e.project, e.br, apitypes.DatabaseCreateRequest{Database: apitypes.DatabaseCreate{Name: name, OwnerName: "app_user"}})
		if err != nil {
			t.Fatal(err)
		}
		e.settle(do.Operations)
	}
	if err := rolesExec(t, e.uri("app_user", e.ownerPassword, "keep"), "create table kept as select 7 as v"); err != nil {
		t.Fatalf("data in keep: %v", err)
	}
	sus, err := e.c.SuspendEndpoint(ctx, e.project, e.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	// The answer may come before the suspend ends (as Neon's does): its
	// operation says when.
	waitOps(t, e.c, e.project, sus.Operations)
	if st := e.state(); st != "idle" {
		t.Fatalf("endpoint %s after suspend", st)
	}

	var bob, newOwner string
	steps := []func() (apitypes.List[apitypes.Operation], error){
		func() (apitypes.List[apitypes.Operation], error) {
			ro, err := e.c.CreateRole(ctx, e.project, e.br, apitypes.RoleCreateRequest{Role: apitypes.RoleCreate{Name: "bob"}})
			if err != nil {
				return nil, err
			}
			bob = ro.Role.Password
			return ro.Operations, nil
		},
		func() (apitypes.List[apitypes.Operation], error) {
			do, err := e.c.CreateDatabase(ctx, e.project, e.br, apitypes.DatabaseCreateRequest{Database: apitypes.DatabaseCreate{Name: "later", OwnerName: "bob"}})
			if err != nil {
				return nil, err
			}
			return do.Operations, nil
		},
		func() (apitypes.List[apitypes.Operation], error) {
			do, err := e.c.DeleteDatabase(ctx, e.project, e.br, "old")
			if err != nil {
				return nil, err
			}
			return do.Operations, nil
		},
		func() (apitypes.List[apitypes.Operation], error) {
			do, err := e.c.DeleteRole(ctx, e.project, e.br, "dave")
			if err != nil {
				return nil, err
			}
			return do.Operations, nil
		},
		// keep → kept2 → kept3, then a new, empty "keep": the data must
		// follow the renames, not stay under the old name.
		func() (apitypes.List[apitypes.Operation], error) {
			do, err := e.c.UpdateDatabase(ctx, e.project, e.br, "keep", apitypes.DatabaseUpdateRequest{Database: apitypes.DatabaseUpdate{Name: "kept2"}})
			if err != nil {
				return nil, err
			}
			return do.Operations, nil
		},
		func() (apitypes.List[apitypes.Operation], error) {
			do, err := e.c.UpdateDatabase(ctx, e.project, e.br, "kept2", apitypes.DatabaseUpdateRequest{Database: apitypes.DatabaseUpdate{Name: "kept3", OwnerName: "bob"}})
			if err != nil {
				return nil, err
			}
			return do.Operations, nil
		},
		func() (apitypes.List[apitypes.Operation], error) {
			do, err := e.c.CreateDatabase(ctx, e.project, e.br, apitypes.DatabaseCreateRequest{Database: apitypes.DatabaseCreate{Name: "keep", OwnerName: "app_user"}})
			if err != nil {
				return nil, err
			}
			return do.Operations, nil
		},
		func() (apitypes.List[apitypes.Operation], error) {
			ro, err := e.c.ResetRolePassword(ctx, e.project, e.br, "app_user")
			if err != nil {
				return nil, err
			}
			newOwner = ro.Role.Password
			return ro.Operations, nil
		},
	}
	for i, step := range steps {
		ops, err := step()
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		e.settle(ops)
		if st := e.state(); st != "idle" {
			t.Fatalf("step %d woke the endpoint: %s", i, st)
		}
	}
	if got := e.apiState(); got != "app_user,bob / app_db:app_user,kept3:bob,later:bob,keep:app_user" {
		t.Fatalf("API while suspended: %s", got)
	}

	// The first login, as the new role to the new database, wakes the
	// endpoint and finds everything in place.
	if out, err := rolesQuery(t, e.uri("bob", bob, "later"), "select current_user || '@' || current_database()"); err != nil || out != "bob@later" {
		t.Fatalf("bob on later: %q, %v", out, err)
	}
	if _, err := rolesQuery(t, e.uri("app_user", e.ownerPassword, "app_db"), "select 1"); err == nil {
		t.Fatal("the owner's old password still logs in after a reset while suspended")
	}
	e.ownerPassword = newOwner
	if got := e.clusterState(); got != "app_user,bob / app_db:app_user,keep:app_user,kept3:bob,later:bob" {
		t.Fatalf("in Postgres after the start: %s", got)
	}
	if out, err := rolesQuery(t, e.uri("app_user", newOwner, "kept3"), "select v::text from kept"); err != nil || out != "7" {
		t.Fatalf("data followed the renames: %q, %v", out, err)
	}
	if out := e.sql("select count(*)::text from pg_class where relname = 'kept'"); out != "0" {
		t.Fatalf("app_db has kept: %s", out)
	}
	if out, err := rolesQuery(t, e.uri("app_user", newOwner, "keep"), "select count(*)::text from pg_tables where tablename = 'kept'"); err != nil || out != "0" {
		t.Fatalf("the new keep is not empty: %q, %v", out, err)
	}

	// A restart of grove changes nothing (the config is applied once).
	e.g.Stop()
	e.g.Start()
	e.c = client.New("http://"+e.g.APIAddr+"/api/v2", e.g.Key, client.WithHTTPClient(&http.Client{Transport: checkingTransport{g: e.g}}))
	if got := e.clusterState(); got != "app_user,bob / app_db:app_user,keep:app_user,kept3:bob,later:bob" {
		t.Fatalf("in Postgres after a restart of grove: %s", got)
	}
}

// TestRevealPassword: reveal_password gives the stored password, 404 for
// an unknown role and 412 when the project does not store passwords.
func TestRevealPassword(t *testing.T) {
	g := start(t)
	ctx := t.Context()
	c := client.New("http://"+g.APIAddr+"/api/v2", g.Key, client.WithHTTPClient(&http.Client{Transport: checkingTransport{g: g}}))
	f := false
	for _, store := range []*bool{nil, &f} {
		cp, err := c.CreateProject(ctx, apitypes.ProjectCreateRequest{Project: apitypes.ProjectCreate{OrgID: g.OrgID("paid"), StorePasswords: store}})
		if err != nil {
			t.Fatal(err)
		}
		owner := cp.Roles[0]
		pw, err := c.RevealRolePassword(ctx, cp.Project.ID, cp.Branch.ID, owner.Name)
		if store == nil && (err != nil || pw != owner.Password) {
			t.Errorf("store_passwords default: %q, %v; want the owner's password", pw, err)
		}
		if store != nil && client.StatusCode(err) != 412 {
			t.Errorf("store_passwords false: %q, %v; want 412", pw, err)
		}
		if _, err := c.RevealRolePassword(ctx, cp.Project.ID, cp.Branch.ID, "nobody"); client.StatusCode(err) != 404 {
			t.Errorf("unknown role: %v, want 404", err)
		}
		ro, err := c.CreateRole(ctx, cp.Project.ID, cp.Branch.ID, apitypes.RoleCreateRequest{Role: apitypes.RoleCreate{Name: "erin"}})
		if err != nil {
			t.Fatal(err)
		}
		pw, err = c.RevealRolePassword(ctx, cp.Project.ID, cp.Branch.ID, "erin")
		if store == nil && (err != nil || pw != ro.Role.Password) {
			t.Errorf("new role, stored: %q, %v", pw, err)
		}
		if store != nil && client.StatusCode(err) != 412 {
			t.Errorf("new role, not stored: %v, want 412", err)
		}
		// Not stored or not: the role logs in with the password it was given.
		u, _ := url.Parse(cp.ConnectionURIs[0].ConnectionURI)
		u.User = url.UserPassword("erin", ro.Role.Password)
		grovetest.WaitFor(t, "erin's apply_config", func() bool {
			op, err := c.GetOperation(ctx, cp.Project.ID, ro.Operations[0].ID)
			return err == nil && op.Status.Terminal()
		})
		if out, err := rolesQuery(t, u.String(), "select current_user"); err != nil || out != "erin" {
			t.Errorf("erin logs in: %q, %v", out, err)
		}
	}
}

// TestRolesBadInput: every refused request gets Neon's status and error
// shape, and changes nothing in the metadata or in Postgres.
func TestRolesBadInput(t *testing.T) {
	e := newRolesEnv(t)
	ctx := t.Context()
	ro, err := e.c.CreateRole(ctx, e.project, e.br, apitypes.RoleCreateRequest{Role: apitypes.RoleCreate{Name: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	e.settle(ro.Operations)
	apiBefore, pgBefore := e.apiState(), e.clusterState()
	long := strings.Repeat("x", 64)
	p := "/projects/" + e.project + "/branches/" + e.br
	tests := []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"db: malformed JSON", "POST", p + "/databases", `{"database":`, 400, "invalid request"},
		{"db: empty object", "POST", p + "/databases", `{}`, 400, "database (field required)"},
		{"db: no body", "POST", p + "/databases", ``, 400, "body required"},
		{"db: wrong type", "POST", p + "/databases", `{"database":{"name":1,"owner_name":"alice"}}`, 400, "name"},
		{"db: missing name", "POST", p + "/databases", `{"database":{"owner_name":"alice"}}`, 400, "name (field required)"},
		{"db: missing owner", "POST", p + "/databases", `{"database":{"name":"x"}}`, 400, "owner_name (field required)"},
		{"db: empty name", "POST", p + "/databases", `{"database":{"name":"","owner_name":"alice"}}`, 400, "database.name"},
		{"db: name too long", "POST", p + "/databases", `{"database":{"name":"` + long + `","owner_name":"alice"}}`, 400, "database.name"},
		{"db: reserved name", "POST", p + "/databases", `{"database":{"name":"template1","owner_name":"alice"}}`, 400, "reserved"},
		{"db: duplicate", "POST", p + "/databases", `{"database":{"name":"app_db","owner_name":"alice"}}`, 409, "database already exists"},
		{"db: unknown owner", "POST", p + "/databases", `{"database":{"name":"x","owner_name":"nobody"}}`, 422, "database owner not found"},
		{"db: unknown branch", "POST", "/projects/" + e.project + "/branches/br-nope-nope-12345678/databases", `{"database":{"name":"x","owner_name":"alice"}}`, 404, "branch not found"},
		{"db: unknown project", "GET", "/projects/nope-nope-12345678/branches/" + e.br + "/databases", ``, 404, "project not found"},
		{"db: get unknown", "GET", p + "/databases/nope", ``, 404, "database not found"},
		{"db: patch unknown", "PATCH", p + "/databases/nope", `{"database":{"name":"x"}}`, 404, "database not found"},
		{"db: patch unknown owner", "PATCH", p + "/databases/app_db", `{"database":{"owner_name":"nobody"}}`, 422, "database owner not found"},
		{"db: patch reserved name", "PATCH", p + "/databases/app_db", `{"database":{"name":"postgres"}}`, 400, "reserved"},
		{"db: patch malformed", "PATCH", p + "/databases/app_db", `{"database":1}`, 400, "invalid request"},
		{"db: patch empty", "PATCH", p + "/databases/app_db", `{}`, 400, "database (field required)"},
		{"role: malformed JSON", "POST", p + "/roles", `{"role":`, 400, "invalid request"},
		{"role: empty object", "POST", p + "/roles", `{}`, 400, "role (field required)"},
		{"role: missing name", "POST", p + "/roles", `{"role":{}}`, 400, "name (field required)"},
		{"role: wrong type", "POST", p + "/roles", `{"role":{"name":"x","no_login":"yes"}}`, 400, "no_login"},
		{"role: empty name", "POST", p + "/roles", `{"role":{"name":""}}`, 400, "role.name"},
		{"role: name too long", "POST", p + "/roles", `{"role":{"name":"` + long + `"}}`, 400, "role.name"},
		{"role: cloud_admin", "POST", p + "/roles", `{"role":{"name":"cloud_admin"}}`, 400, "reserved"},
		{"role: pg_ prefix", "POST", p + "/roles", `{"role":{"name":"pg_monitor"}}`, 400, "reserved"},
		{"role: neon_superuser", "POST", p + "/roles", `{"role":{"name":"neon_superuser"}}`, 400, "reserved"},
		{"role: duplicate", "POST", p + "/roles", `{"role":{"name":"alice"}}`, 409, "role already exists"},
		{"role: get unknown", "GET", p + "/roles/nobody", ``, 404, "role not found"},
		{"role: reset unknown", "POST", p + "/roles/nobody/reset_password", ``, 404, "role not found"},
		{"role: reveal unknown", "GET", p + "/roles/nobody/reveal_password", ``, 404, "role not found"},
		{"role: delete a database owner", "DELETE", p + "/roles/app_user", ``, 409, "owns database"},
		{"role: unknown branch", "GET", "/projects/" + e.project + "/branches/br-nope-nope-12345678/roles", ``, 404, "branch not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			st, raw := e.g.API(tt.method, tt.path, body, nil)
			if st != tt.status {
				t.Fatalf("status %d, want %d: %s", st, tt.status, raw)
			}
			var ge apitypes.GeneralError
			if err := json.Unmarshal(raw, &ge); err != nil || ge.Message == "" {
				t.Fatalf("error body not in Neon's shape: %s", raw)
			}
			if !strings.Contains(ge.Message, tt.contains) {
				t.Fatalf("message %q does not contain %q", ge.Message, tt.contains)
			}
		})
	}
	if got := e.apiState(); got != apiBefore {
		t.Errorf("refused requests changed the API's view: %s, was %s", got, apiBefore)
	}
	if got := e.clusterState(); got != pgBefore {
		t.Errorf("refused requests changed Postgres: %s, was %s", got, pgBefore)
	}
	// A rename onto an existing name is a duplicate too.
	do, err := e.c.CreateDatabase(ctx, e.project, e.br, apitypes.DatabaseCreateRequest{Database: apitypes.DatabaseCreate{Name: "other", OwnerName: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	e.settle(do.Operations)
	apiBefore, pgBefore = e.apiState(), e.clusterState()
	if st, raw := e.g.API("PATCH", p+"/databases/other", `{"database":{"name":"app_db"}}`, nil); st != 409 || !strings.Contains(string(raw), "database already exists") {
		t.Fatalf("rename onto an existing name: %d %s", st, raw)
	}
	if got := e.apiState(); got != apiBefore {
		t.Errorf("refused requests changed the API's view: %s, was %s", got, apiBefore)
	}
	if got := e.clusterState(); got != pgBefore {
		t.Errorf("refused requests changed Postgres: %s, was %s", got, pgBefore)
	}
}
