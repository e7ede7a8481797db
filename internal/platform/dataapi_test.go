package platform

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/dataapispec"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/rolesecret"
	"github.com/grovedb/grove/internal/sealer"
)

// dataAPIFixture is opsFixture's project with a sealer, the data plane's
// address and an authenticator role.
func dataAPIFixture(t *testing.T) (*Platform, string) {
	t.Helper()
	p, _ := opsFixture(t, 0)
	s, err := sealer.LoadOrCreate(filepath.Join(t.TempDir(), "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	p.cfg.Sealer, p.cfg.DataPlaneAddr = s, "127.0.0.1:8081"
	password, verifier, sealed, err := rolesecret.New(s, true)
	if err != nil {
		t.Fatal(err)
	}
	at := now()
	if err := p.store.InsertRole(t.Context(), metastore.Role{BranchID: "br-a-b-12345678", Name: dataapispec.AuthenticatorRole,
		Verifier: verifier, SealedPassword: sealed, CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	return p, password
}

// TestDataAPIFor: the lookup fills Served from the stored configuration,
// answers from memory until a generation moves, and tells unknown
// endpoints from databases without the Data API.
func TestDataAPIFor(t *testing.T) {
	p, password := dataAPIFixture(t)
	ctx := t.Context()
	const bid, ep = "br-a-b-12345678", "ep-a-b-12345678"
	at := now()
	if _, err := p.store.InsertDataAPI(ctx, metastore.DataAPI{BranchID: bid, Database: "app", AuthProvider: dataapispec.ProviderExternal,
		JWKSURL: "https://auth.example.com/jwks.json", JWTAudience: "my-app",
		Settings:  json.RawMessage(`{"db_schemas":["api","public"],"db_max_rows":50,"db_extra_search_path":"extensions"}`),
		CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	sv, err := p.DataAPIFor(ctx, ep, "app")
	if err != nil {
		t.Fatal(err)
	}
	if sv.EndpointID != ep || sv.BranchID != bid || sv.Database != "app" || sv.AuthProvider != "external" ||
		sv.JWKSURL != "https://auth.example.com/jwks.json" || sv.Audience != "my-app" || sv.AuthenticatorPassword != password ||
		len(sv.Schemas) != 2 || sv.Schemas[0] != "api" || sv.MaxRows != 50 || sv.AnonRole != "anonymous" || sv.RoleClaimKey != ".role" ||
		!sv.AggregatesEnabled || len(sv.ExtraSearchPath) != 1 || sv.Generation == 0 {
		t.Fatalf("served: %+v", sv)
	}

	// A PATCH moves the generation and is seen at once; while nothing
	// moves, the answer is the one in memory.
	if _, err := p.store.SetDataAPISettings(ctx, bid, "app", json.RawMessage(`{"db_max_rows":7}`), now()); err != nil {
		t.Fatal(err)
	}
	again, err := p.DataAPIFor(ctx, ep, "app")
	if err != nil || again.MaxRows != 7 || again.Generation <= sv.Generation {
		t.Fatalf("after a PATCH: %+v, %v", again, err)
	}
	p.dataAPIs.put(dataAPIKey{ep, "app"}, cachedDataAPI{sv: dataapispec.Served{MaxRows: 99},
		gen: dataAPIGen{p.store.RolesGeneration(), p.store.DataAPIGeneration()}})
	if cached, _ := p.DataAPIFor(ctx, ep, "app"); cached.MaxRows != 99 {
		t.Fatalf("the lookup did not answer from memory: %+v", cached)
	}

	if err := p.store.DeleteDataAPI(ctx, bid, "app"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DataAPIFor(ctx, ep, "app"); !errors.Is(err, dataapispec.ErrNotEnabled) {
		t.Errorf("after a disable: %v", err)
	}
	if _, err := p.DataAPIFor(ctx, ep, "other"); !errors.Is(err, dataapispec.ErrNotEnabled) {
		t.Errorf("a database without the Data API: %v", err)
	}
	if _, err := p.DataAPIFor(ctx, "ep-nope-12345678", "app"); !errors.Is(err, ErrUnknownEndpoint) {
		t.Errorf("an unknown endpoint: %v", err)
	}
}

// TestDataAPIRowsFollowBranches: a child inherits its parent's Data APIs,
// a database's drop and rename carry them along, a branch delete removes
// them.
func TestDataAPIRowsFollowBranches(t *testing.T) {
	p, _ := dataAPIFixture(t)
	ctx := t.Context()
	const bid, pid = "br-a-b-12345678", "quiet-moon-12345678"
	at := now()
	for _, db := range []string{"app", "sqlmade"} {
		if _, err := p.store.InsertDataAPI(ctx, metastore.DataAPI{BranchID: bid, Database: db, AuthProvider: dataapispec.ProviderNeonAuth,
			CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.store.InsertDataAPI(ctx, metastore.DataAPI{BranchID: bid, Database: "app", AuthProvider: "neon_auth",
		CreatedAt: at, UpdatedAt: at}); !errors.Is(err, metastore.ErrConflict) {
		t.Errorf("a second enable: %v", err)
	}
	parent := bid
	child := metastore.Branch{ID: "br-c-d-12345678", ProjectID: pid, ParentID: &parent, Name: "child", VolumeID: "vol-2", CreatedAt: at, UpdatedAt: at}
	cfg, err := p.store.BranchConfigOf(ctx, bid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.store.InsertBranch(ctx, metastore.NewBranch{Branch: child, Config: cfg}); err != nil {
		t.Fatal(err)
	}
	names := func(branchID string) []string {
		t.Helper()
		apis, err := p.store.BranchDataAPIs(ctx, branchID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range apis {
			out = append(out, a.Database)
		}
		return out
	}
	if got := names(child.ID); len(got) != 2 || got[0] != "app" || got[1] != "sqlmade" {
		t.Fatalf("child's Data APIs: %v", got)
	}
	if _, err := p.store.UpdateDatabase(ctx, child.ID, "app", "app2", "", now()); err != nil {
		t.Fatal(err)
	}
	if got := names(child.ID); len(got) != 2 || got[0] != "app2" {
		t.Errorf("after a rename: %v", got)
	}
	if _, err := p.store.DeleteDatabase(ctx, child.ID, "app2"); err != nil {
		t.Fatal(err)
	}
	if got := names(child.ID); len(got) != 1 || got[0] != "sqlmade" {
		t.Errorf("after a drop: %v", got)
	}
	if got := names(bid); len(got) != 2 {
		t.Errorf("the parent's changed with its child's: %v", got)
	}
	// A restore of the parent (its config rewritten) keeps its rows.
	if _, err := p.store.ResetBranch(ctx, metastore.Reset{Target: metastore.Branch{ID: bid, ProjectID: pid, Name: "main", IsDefault: true,
		VolumeID: "vol-3", CreatedAt: at, UpdatedAt: now()}, Config: cfg}); err != nil {
		t.Fatal(err)
	}
	if got := names(bid); len(got) != 2 {
		t.Errorf("after a restore: %v", got)
	}
	if err := p.store.DeleteBranch(ctx, pid, child.ID); err != nil {
		t.Fatal(err)
	}
	if got := names(child.ID); len(got) != 0 {
		t.Errorf("after the branch's delete: %v", got)
	}
}

func TestDataAPIURLs(t *testing.T) {
	tests := []struct {
		name, domain, addr, url, origin string
	}{
		{"by path", "", "127.0.0.1:8081", "http://127.0.0.1:8081/ep-a-b-1/my%20db/rest/v1", "http://127.0.0.1:8081/ep-a-b-1"},
		{"by host", "grove.test", "0.0.0.0:443", "https://ep-a-b-1.apirest.us-east-2.grove.test/my%20db/rest/v1", "https://ep-a-b-1.neonauth.us-east-2.grove.test"},
		{"by host, port", "grove.test", "127.0.0.1:8443", "https://ep-a-b-1.apirest.us-east-2.grove.test:8443/my%20db/rest/v1", "https://ep-a-b-1.neonauth.us-east-2.grove.test:8443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Platform{cfg: Config{Domain: tt.domain, DataPlaneAddr: tt.addr}}
			if got := p.dataAPIURL("ep-a-b-1", "aws-us-east-2", "my db"); got != tt.url {
				t.Errorf("url %q, want %q", got, tt.url)
			}
			if got := p.AuthOrigin("ep-a-b-1", "aws-us-east-2"); got != tt.origin {
				t.Errorf("origin %q, want %q", got, tt.origin)
			}
		})
	}
}

// TestDataAPIProvisionSQL runs the provisioning on a real Postgres: it can
// run again, and the roles, auth functions, DDL watch, default grants and
// signing key are what the Data API needs.
func TestDataAPIProvisionSQL(t *testing.T) {
	srv := pgtest.Start(t)
	srv.Exec(t, "postgres", `CREATE ROLE owner LOGIN CREATEDB CREATEROLE`)
	srv.Exec(t, "postgres", `CREATE DATABASE app OWNER owner`)
	ctx := t.Context()
	conn := srv.Conn(t, "app")
	o := dataapispec.Options{AuthProvider: dataapispec.ProviderNeonAuth, AddDefaultGrants: true}
	for _, always := range []bool{true, true, false} {
		if err := provisionConn(ctx, conn, o, always); err != nil {
			t.Fatalf("provision (always %v): %v", always, err)
		}
	}
	set, err := signingKeysConn(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	var jwks struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(set, &jwks); err != nil || len(jwks.Keys) != 1 || jwks.Keys[0]["kid"] == "" || jwks.Keys[0]["d"] != "" {
		t.Fatalf("signing keys after three runs: %s (%v)", set, err)
	}
	if _, err := conn.Exec(ctx, `LISTEN pgrst`); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, sql, want string }{
		{"roles", `SELECT string_agg(format('%s:%s:%s:%s:%s', rolname, rolcanlogin, rolinherit, rolcreatedb, rolbypassrls), ' ' ORDER BY rolname)
			FROM pg_roles WHERE rolname IN ('authenticator', 'anonymous', 'authenticated')`,
			"anonymous:f:t:f:f authenticated:f:t:f:f authenticator:t:f:f:f"},
		{"membership", `SELECT format('%s %s', pg_has_role('authenticator', 'anonymous', 'MEMBER'), pg_has_role('authenticator', 'authenticated', 'MEMBER'))`, "t t"},
		{"claims", `SELECT set_config('request.jwt.claims', '{"sub":"6f1b4c52-4f5e-4b8f-9a57-0d2c1a3e9b11","role":"authenticated"}', false) IS NOT NULL
			AND auth.user_id() = '6f1b4c52-4f5e-4b8f-9a57-0d2c1a3e9b11' AND auth.uid() = '6f1b4c52-4f5e-4b8f-9a57-0d2c1a3e9b11'::uuid
			AND auth.jwt() ->> 'role' = 'authenticated'`, "true"},
		{"no claims", `SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AND auth.user_id() IS NULL AND auth.session() = 'null'::jsonb`, "true"},
		{"bad claims", `SELECT set_config('request.jwt.claims', '{not json', false) IS NOT NULL AND auth.uid() IS NULL AND auth.session() = 'null'::jsonb`, "true"},
		{"array claims", `SELECT set_config('request.jwt.claims', '[1]', false) IS NOT NULL AND auth.user_id() IS NULL`, "true"},
		{"neon_auth closed", `SELECT has_schema_privilege('anonymous', 'neon_auth', 'USAGE') OR has_schema_privilege('authenticator', 'neon_auth', 'USAGE')
			OR has_table_privilege('authenticated', 'neon_auth.jwks', 'SELECT')`, "false"},
		{"neon_auth owner", `SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'neon_auth.jwks'::regclass`, "owner"},
		{"auth usage", `SELECT has_schema_privilege('anonymous', 'auth', 'USAGE') AND has_function_privilege('anonymous', 'auth.uid()', 'EXECUTE')`, "true"},
		{"default grants", `SET ROLE owner; CREATE TABLE posts (id serial PRIMARY KEY); RESET ROLE;
			SELECT has_table_privilege('authenticated', 'posts', 'SELECT, INSERT, UPDATE, DELETE')
			AND has_sequence_privilege('authenticated', 'posts_id_seq', 'USAGE') AND NOT has_table_privilege('anonymous', 'posts', 'SELECT')`, "true"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := conn.PgConn().Exec(ctx, tt.sql).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			last := res[len(res)-1]
			got := ""
			if len(last.Rows) == 1 {
				got = string(last.Rows[0][0])
				if got == "t" || got == "f" {
					got = map[string]string{"t": "true", "f": "false"}[got]
				}
			}
			if got != tt.want {
				t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
			}
		})
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := conn.WaitForNotification(wctx)
	if err != nil || n.Channel != dataapispec.ReloadChannel || n.Payload != dataapispec.ReloadPayload {
		t.Errorf("the DDL sent %+v, %v", n, err)
	}
}
