package e2e

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/client"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/jackc/pgx/v5"
)

// TestDataAPIManage: enabling the Data API of a database made through the
// API provisions its roles, auth schema and DDL watch; the data plane's
// authenticator logs in through the proxy; settings change; a child branch
// and a restored branch keep the configuration; a disable is immediate;
// an external provider round-trips; bad requests change nothing.
func TestDataAPIManage(t *testing.T) {
	g := start(t)
	c := client.New("http://"+g.APIAddr+"/api/v2", g.Key, client.WithHTTPClient(&http.Client{Transport: checkingTransport{g: g}}))
	var cp apitypes.CreatedProject
	if st, raw := g.API("POST", "/projects", `{"project":{"name":"dataapi","org_id":"`+g.OrgID("paid")+`"}}`, &cp); st != 201 {
		t.Fatalf("create project: %d %s", st, raw)
	}
	id, main, ep := cp.Project.ID, cp.Branch.ID, cp.Endpoints[0].ID
	owner, ownerPW := cp.Roles[0].Name, cp.Roles[0].Password
	waitOps(t, c, id, cp.Operations)
	br := "/projects/" + id + "/branches/" + main
	var dbo apitypes.DatabaseOperations
	if st, raw := apiUnlocked(t, g, "POST", br+"/databases", `{"database":{"name":"app_db","owner_name":"`+owner+`"}}`, &dbo); st != 201 {
		t.Fatalf("create database: %d %s", st, raw)
	}
	waitOps(t, c, id, dbo.Operations)
	uri := func(role, password, db string) string {
		u, err := url.Parse(cp.ConnectionURIs[0].ConnectionURI)
		if err != nil {
			t.Fatal(err)
		}
		u.User, u.Path = url.UserPassword(role, password), "/"+db
		return u.String()
	}
	ownerURI := uri(owner, ownerPW, "app_db")
	// A point before the Data API, for a restore to it below. Commit times
	// come from the server's clock: take it from Postgres.
	before := dataAPIQuery(t, ownerURI, `select to_char(clock_timestamp() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`)
	time.Sleep(50 * time.Millisecond)

	// Bad requests first: refused with Neon's error body, nothing changes.
	for _, tt := range []struct {
		name, db, body string
		status         int
		want           string
	}{
		{"unknown provider", "app_db", `{"auth_provider":"clerk"}`, 400, `auth_provider "clerk" is not supported`},
		{"external without jwks_url", "app_db", `{"auth_provider":"external"}`, 400, "jwks_url is required"},
		{"bad jwks_url", "app_db", `{"auth_provider":"external","jwks_url":"file:///etc/passwd"}`, 400, "jwks_url"},
		{"negative max rows", "app_db", `{"auth_provider":"neon_auth","settings":{"db_max_rows":-1}}`, 400, "db_max_rows"},
		{"system schema", "app_db", `{"settings":{"db_schemas":["pg_catalog"]}}`, 400, "cannot be exposed"},
		{"malformed body", "app_db", `{"auth_provider":`, 400, "invalid request"},
		{"unknown database", "nope_db", `{"auth_provider":"neon_auth"}`, 404, "database not found"},
	} {
		st, raw := apiUnlocked(t, g, "POST", br+"/data-api/"+tt.db, tt.body, nil)
		wantError(t, "enable: "+tt.name, st, raw, tt.status, tt.want)
	}
	st, raw := g.API("POST", "/projects/"+id+"/branches/br-nope-12345678/data-api/app_db", `{}`, nil)
	wantError(t, "unknown branch", st, raw, 404, "branch not found")
	st, raw = g.API("GET", br+"/data-api/app_db", nil, nil)
	wantError(t, "get before enable", st, raw, 404, "not enabled")
	if got := dataAPIQuery(t, ownerURI, `select count(*)::text from pg_roles where rolname in ('authenticator','anonymous','authenticated')`); got != "0" {
		t.Fatalf("refused requests made %s Data API roles", got)
	}

	// Enable.
	var created apitypes.DataAPICreateResponse
	if st, raw := apiUnlocked(t, g, "POST", br+"/data-api/app_db", `{"auth_provider":"neon_auth"}`, &created); st != 201 {
		t.Fatalf("enable: %d %s", st, raw)
	}
	if want := "http://" + g.HTTPAddr + "/" + ep + "/app_db/rest/v1"; created.URL != want {
		t.Errorf("url %q, want %q", created.URL, want)
	}
	st, raw = apiUnlocked(t, g, "POST", br+"/data-api/app_db", `{"auth_provider":"neon_auth"}`, nil)
	wantError(t, "enable twice", st, raw, 409, "already enabled")

	var got apitypes.DataAPIResponse
	if st, raw := g.API("GET", br+"/data-api/app_db", nil, &got); st != 200 {
		t.Fatalf("get: %d %s", st, raw)
	}
	if got.URL != created.URL || got.Status != "active" || got.Settings == nil || !slices.Equal(got.Settings.DBSchemas, []string{"public"}) ||
		*got.Settings.DBAnonRole != "anonymous" || *got.Settings.JWTRoleClaimKey != ".role" || !*got.Settings.DBAggregatesEnabled {
		t.Errorf("get: %s", raw)
	}
	for _, s := range []string{"auth", "neon_auth", "public"} {
		if !slices.Contains(got.AvailableSchemas, s) {
			t.Errorf("available_schemas %v lacks %s", got.AvailableSchemas, s)
		}
	}

	// The roles: listed on the branch, with PostgREST's attributes.
	var roles apitypes.RolesResponse
	if st, raw := g.API("GET", br+"/roles", nil, &roles); st != 200 {
		t.Fatalf("roles: %d %s", st, raw)
	}
	listed := map[string]bool{}
	for _, r := range roles.Roles {
		listed[r.Name] = true
	}
	if !listed["authenticator"] || !listed["anonymous"] || !listed["authenticated"] {
		t.Errorf("branch roles %v lack the Data API's", roles.Roles)
	}
	if got := dataAPIQuery(t, ownerURI, `select string_agg(format('%s:%s:%s:%s', rolname, rolcanlogin, rolinherit, rolcreaterole), ' ' order by rolname)
		from pg_roles where rolname in ('authenticator','anonymous','authenticated')`); got != "anonymous:f:t:f authenticated:f:t:f authenticator:t:f:f" {
		t.Errorf("roles: %s", got)
	}

	// The authenticator logs in through the proxy with its password, and
	// switches to the request roles, where auth.* reads the claims.
	var pw apitypes.RolePasswordResponse
	if st, raw := g.API("GET", br+"/roles/authenticator/reveal_password", nil, &pw); st != 200 || pw.Password == "" {
		t.Fatalf("reveal authenticator: %d %s", st, raw)
	}
	authURI := uri("authenticator", pw.Password, "app_db")
	sub := "6f1b4c52-4f5e-4b8f-9a57-0d2c1a3e9b11"
	for _, role := range []string{"anonymous", "authenticated"} {
		got := dataAPIQuery(t, authURI, `begin; set local role `+role+`;
			select set_config('request.jwt.claims', '{"sub":"`+sub+`","role":"`+role+`"}', true);
			select format('%s|%s|%s', auth.user_id(), auth.uid(), auth.jwt()->>'role'); commit`)
		if want := sub + "|" + sub + "|" + role; got != want {
			t.Errorf("as %s: %q, want %q", role, got, want)
		}
	}
	if got := dataAPIQuery(t, authURI, `begin; set local role anonymous;
		select set_config('request.jwt.claims', 'not json', true);
		select format('%s|%s|%s', auth.user_id() is null, auth.uid() is null, auth.session()); commit`); got != "t|t|null" {
		t.Errorf("invalid claims: %q", got)
	}
	if got := dataAPIQuery(t, authURI, `begin; set local role authenticated;
		select set_config('request.jwt.claims', '{"sub":"user_2abc"}', true);
		select format('%s|%s', auth.user_id(), auth.uid() is null); commit`); got != "user_2abc|t" {
		t.Errorf("non-uuid sub: %q", got)
	}
	if err := rolesExec(t, authURI, `begin; set local role anonymous; select count(*) from neon_auth.jwks`); err == nil {
		t.Error("anonymous reads neon_auth.jwks")
	}
	if got := dataAPIQuery(t, ownerURI, `select count(*)::text from neon_auth.jwks where "publicKey"::jsonb->>'crv' = 'Ed25519'`); got != "1" {
		t.Errorf("signing keys: %s", got)
	}

	st, raw = g.API("DELETE", br+"/roles/authenticator", nil, nil)
	wantError(t, "delete the authenticator", st, raw, 409, "disable the Data API first")

	// DDL notifies the data plane.
	dataAPIWaitNotify(t, ownerURI, `create table posts (id int primary key, body text)`)
	dataAPIWaitNotify(t, ownerURI, `drop table posts`)

	// PATCH merges settings.
	var empty map[string]any
	if st, raw := g.API("PATCH", br+"/data-api/app_db", `{"settings":{"db_schemas":["public","api"],"db_max_rows":100}}`, &empty); st != 201 || len(empty) != 0 {
		t.Fatalf("patch: %d %s", st, raw)
	}
	st, raw = g.API("PATCH", br+"/data-api/app_db", `{"settings":{"openapi_mode":"sometimes"}}`, nil)
	wantError(t, "patch bad mode", st, raw, 400, "openapi_mode")
	if st, raw := g.API("GET", br+"/data-api/app_db", nil, &got); st != 200 || !slices.Equal(got.Settings.DBSchemas, []string{"public", "api"}) ||
		got.Settings.DBMaxRows == nil || *got.Settings.DBMaxRows != 100 || *got.Settings.OpenAPIMode != "disabled" {
		t.Errorf("get after patch: %d %s", st, raw)
	}

	// A child branch inherits the configuration and the roles.
	var child apitypes.CreatedBranch
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches", `{"branch":{"name":"child"},"endpoints":[{"type":"read_write"}]}`, &child); st != 201 {
		t.Fatalf("child: %d %s", st, raw)
	}
	waitOps(t, c, id, child.Operations)
	cbr := "/projects/" + id + "/branches/" + child.Branch.ID
	var cgot apitypes.DataAPIResponse
	if st, raw := g.API("GET", cbr+"/data-api/app_db", nil, &cgot); st != 200 || !slices.Equal(cgot.Settings.DBSchemas, []string{"public", "api"}) ||
		cgot.URL != "http://"+g.HTTPAddr+"/"+child.Endpoints[0].ID+"/app_db/rest/v1" {
		t.Errorf("child get: %d %s", st, raw)
	}
	if st, raw := g.API("GET", cbr+"/roles/authenticator", nil, nil); st != 200 {
		t.Errorf("child authenticator: %d %s", st, raw)
	}

	// A restore of the child keeps its configuration.
	if st, raw := apiUnlocked(t, g, "POST", cbr+"/restore", `{"source_branch_id":"`+main+`"}`, nil); st != 200 {
		t.Fatalf("restore: %d %s", st, raw)
	}
	grovetest.WaitFor(t, "the restored child's Data API", func() bool {
		st, _ := g.API("GET", cbr+"/data-api/app_db", nil, &cgot)
		return st == 200
	})
	if !slices.Equal(cgot.Settings.DBSchemas, []string{"public", "api"}) || !slices.Contains(cgot.AvailableSchemas, "auth") {
		t.Errorf("restored child: %+v", cgot)
	}

	// A restore of the branch to a point before the Data API keeps the
	// configuration, and its compute provisions the database again: the
	// authenticator logs in with the same password, auth.* is back.
	var rs struct {
		Operations []apitypes.Operation `json:"operations"`
	}
	body := `{"source_branch_id":"` + main + `","source_timestamp":"` + before + `","preserve_under_name":"before-dataapi"}`
	if st, raw := apiUnlocked(t, g, "POST", br+"/restore", body, &rs); st != 200 {
		t.Fatalf("restore to %s: %d %s", before, st, raw)
	}
	waitOps(t, c, id, rs.Operations)
	if st, raw := g.API("GET", br+"/data-api/app_db", nil, &got); st != 200 || !slices.Equal(got.Settings.DBSchemas, []string{"public", "api"}) {
		t.Errorf("after a restore to %s: %d %s", before, st, raw)
	}
	if got := dataAPIQuery(t, authURI, `begin; set local role authenticated;
		select set_config('request.jwt.claims', '{"sub":"`+sub+`"}', true); select auth.uid()::text; commit`); got != sub {
		t.Errorf("after a restore: auth.uid() = %q", got)
	}
	if got := dataAPIQuery(t, ownerURI, `select count(*)::text from pg_event_trigger where evtname like 'grove_data_api%'`); got != "2" {
		t.Errorf("after a restore: %s DDL watches", got)
	}

	// Disable: gone at once, the child's stays.
	if st, raw := g.API("DELETE", br+"/data-api/app_db", nil, &empty); st != 200 || len(empty) != 0 {
		t.Fatalf("delete: %d %s", st, raw)
	}
	st, raw = g.API("GET", br+"/data-api/app_db", nil, nil)
	wantError(t, "get after delete", st, raw, 404, "not enabled")
	st, raw = g.API("DELETE", br+"/data-api/app_db", nil, nil)
	wantError(t, "delete twice", st, raw, 404, "not enabled")
	if st, _ := g.API("GET", cbr+"/data-api/app_db", nil, nil); st != 200 {
		t.Errorf("the child's Data API went with its parent's: %d", st)
	}

	// External provider, on the project's first database.
	ext := `{"auth_provider":"external","jwks_url":"https://auth.example.com/.well-known/jwks.json","provider_name":"Clerk","jwt_audience":"my-app","skip_auth_schema":true}`
	if st, raw := apiUnlocked(t, g, "POST", br+"/data-api/"+cp.Databases[0].Name, ext, &created); st != 201 {
		t.Fatalf("enable external: %d %s", st, raw)
	}
	meta := g.MetaConn(t)
	var provider, jwks, name, aud string
	if err := meta.QueryRow(t.Context(), `SELECT auth_provider, jwks_url, provider_name, jwt_audience FROM data_apis
		WHERE branch_id = $1 AND database_name = $2`, main, cp.Databases[0].Name).Scan(&provider, &jwks, &name, &aud); err != nil {
		t.Fatal(err)
	}
	if provider != "external" || jwks != "https://auth.example.com/.well-known/jwks.json" || name != "Clerk" || aud != "my-app" {
		t.Errorf("external stored as %s %s %s %s", provider, jwks, name, aud)
	}
	var n int
	if err := meta.QueryRow(t.Context(), `SELECT count(*) FROM data_apis WHERE database_name = 'nope_db'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("a refused enable left %d rows (%v)", n, err)
	}
}

// dataAPIQuery runs statements through the proxy and returns the last
// single-value result as text.
func dataAPIQuery(t *testing.T, uri, sql string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	results, err := conn.PgConn().Exec(ctx, sql).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var out string
	for _, r := range results {
		if len(r.Rows) == 1 && len(r.Rows[0]) == 1 {
			out = string(r.Rows[0][0])
		}
	}
	return out
}

// dataAPIWaitNotify runs ddl on one connection and waits for PostgREST's
// reload notification on another.
func dataAPIWaitNotify(t *testing.T, uri, ddl string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	l, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.WithoutCancel(ctx))
	if _, err := l.Exec(ctx, "listen pgrst"); err != nil {
		t.Fatal(err)
	}
	if err := rolesExec(t, uri, ddl); err != nil {
		t.Fatalf("%s: %v", ddl, err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	n, err := l.WaitForNotification(wctx)
	if err != nil {
		t.Fatalf("%s: no notification: %v", ddl, err)
	}
	if n.Channel != "pgrst" || n.Payload != "reload schema" {
		t.Errorf("%s: notification %s %q", ddl, n.Channel, n.Payload)
	}
}
