package e2e

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/client"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/grovedb/grove/internal/pgtest"
)

// TestAPIRoutes drives every route of the engine through the public Go
// client, with every response checked against Neon's spec by start's hook,
// and checks what a delete leaves behind.
func TestAPIRoutes(t *testing.T) {
	g := start(t)
	ctx := t.Context()
	c := client.New("http://"+g.APIAddr+"/api/v2", g.Key, client.WithHTTPClient(&http.Client{
		Transport: checkingTransport{g: g},
	}))
	me, err := c.CurrentUser(ctx)
	if err != nil || me.Email == "" {
		t.Fatalf("users/me: %+v, %v", me, err)
	}
	orgs, err := c.ListUserOrganizations(ctx)
	if err != nil || len(orgs) != 2 {
		t.Fatalf("organizations: %+v, %v", orgs, err)
	}
	plans := map[string]string{}
	for _, o := range orgs {
		plans[o.Name] = o.Plan
	}
	if plans["sponsored"] != "free" || plans["paid"] != "paid" {
		t.Fatalf("orgs and plans: %v", plans)
	}
	if regions, err := c.ListRegions(ctx, ""); err != nil || len(regions) == 0 {
		t.Fatalf("regions: %v, %v", regions, err)
	}

	org := g.OrgID("paid")
	name := "defaults"
	cp, err := c.CreateProject(ctx, apitypes.ProjectCreateRequest{Project: apitypes.ProjectCreate{Name: name, OrgID: org}})
	if err != nil {
		t.Fatal(err)
	}
	if cp.Project.PgVersion != 17 || cp.Branch.Name != "main" || cp.Databases[0].Name != "neondb" || cp.Roles[0].Name != "neondb_owner" {
		t.Errorf("Neon's defaults not applied: pg %d, branch %q, db %q, role %q",
			cp.Project.PgVersion, cp.Branch.Name, cp.Databases[0].Name, cp.Roles[0].Name)
	}
	id := cp.Project.ID
	if p, err := c.GetProject(ctx, id); err != nil || p.Name != name {
		t.Fatalf("get: %+v, %v", p, err)
	}
	list, err := c.ListProjects(ctx, client.ListProjectsParams{OrgID: org, Search: "defa"})
	if err != nil || len(list.Projects) != 1 || list.Pagination == nil || list.Pagination.Cursor != id {
		t.Fatalf("list: %+v, %v", list, err)
	}
	if next, err := c.ListProjects(ctx, client.ListProjectsParams{OrgID: org, Cursor: id}); err != nil || len(next.Projects) != 0 {
		t.Fatalf("page after the cursor: %+v, %v", next, err)
	}
	uri, err := c.ConnectionURI(ctx, id, client.ConnectionURIParams{DatabaseName: "neondb", RoleName: "neondb_owner"})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := grovetest.Psql(t, uri, "select current_user"); err != nil || out != "neondb_owner" {
		t.Fatalf("psql: %v: %s", err, out)
	}
	if _, err := c.ConnectionURI(ctx, id, client.ConnectionURIParams{DatabaseName: "nope", RoleName: "neondb_owner"}); client.StatusCode(err) != 404 {
		t.Errorf("connection_uri of a missing database: %v, want 404", err)
	}
	eps, err := c.ListEndpoints(ctx, id)
	if err != nil || len(eps) != 1 {
		t.Fatalf("endpoints: %+v, %v", eps, err)
	}
	ep := eps[0].ID
	if _, err := c.StartEndpoint(ctx, id, ep); err != nil {
		t.Fatal(err)
	}
	ops, err := c.ListOperations(ctx, id, client.ListOperationsParams{})
	if err != nil || len(ops.Operations) < 2 { // create_timeline (+ start_compute when warm) and the start above
		t.Fatalf("operations: %+v, %v", ops, err)
	}
	for _, op := range ops.Operations {
		got, err := c.GetOperation(ctx, id, op.ID)
		if err != nil || got.Status != "finished" {
			t.Errorf("operation %s: %+v, %v", op.ID, got, err)
		}
	}
	volumesBefore := volumes(t, g)
	if _, err := c.DeleteProject(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetProject(ctx, id); client.StatusCode(err) != 404 {
		t.Fatalf("get after delete: %v, want 404", err)
	}
	var ce *client.Error
	if _, err := c.DeleteProject(ctx, id); !errors.As(err, &ce) || ce.Status != 404 {
		t.Fatalf("second delete: %v, want 404", err)
	}
	// The project's volume is gone (warm-pool volumes only come and go by
	// Takes, and none happened).
	after := volumes(t, g)
	gone := 0
	for v := range volumesBefore {
		if !after[v] {
			gone++
		}
	}
	if gone != 1 {
		t.Errorf("%d volumes removed by the delete, want 1", gone)
	}
	if out, err := grovetest.Psql(t, uri, "select 1"); err == nil {
		t.Errorf("deleted project still answers: %s", out)
	}
}

func volumes(t *testing.T, g *grovetest.Grove) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(g.DataDir, "volumes"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "vol-") {
			out[e.Name()] = true
		}
	}
	return out
}

// checkingTransport shows every response to the Grove's Check hook.
type checkingTransport struct{ g *grovetest.Grove }

func (ct checkingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || ct.g.Check == nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	ct.g.Check(r.Method, r.URL.Path, resp.StatusCode, resp.Header, body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// TestAuthRequired: no key or a wrong key is 401 in Neon's error shape.
func TestAuthRequired(t *testing.T) {
	g := start(t)
	for _, key := range []string{"", "napi_wrong"} {
		c := client.New("http://"+g.APIAddr+"/api/v2", key)
		_, err := c.ListProjects(t.Context(), client.ListProjectsParams{})
		var ce *client.Error
		if !errors.As(err, &ce) || ce.Status != 401 || ce.Body.Message == "" {
			t.Errorf("key %q: %v, want 401 with a message", key, err)
		}
	}
}

// TestExternalMetaURL: with --meta-url, the metadata lives in that Postgres
// (no internal cluster is made) and everything else works the same.
func TestExternalMetaURL(t *testing.T) {
	meta := pgtest.Start(t)
	g := start(t, "--meta-url", meta.AdminDSN("postgres"))
	if _, err := os.Stat(filepath.Join(g.DataDir, "meta")); !os.IsNotExist(err) {
		t.Errorf("an internal metadata cluster was made beside --meta-url: %v", err)
	}
	cp := g.CreateSeed()
	var n int
	if err := meta.Conn(t, "postgres").QueryRow(t.Context(), "select count(*) from projects where id = $1", cp.Project.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("project row in the external store: %d, %v", n, err)
	}
	if out, err := grovetest.Psql(t, cp.ConnectionURIs[0].ConnectionURI, "select current_user"); err != nil || out != "app_user" {
		t.Fatalf("psql: %v: %s", err, out)
	}
}

// TestStorageDriverOverride: an unusable --storage-driver stops grove with
// a message naming the driver, before anything is made.
func TestStorageDriverOverride(t *testing.T) {
	if testing.Short() {
		t.Skip("runs grove")
	}
	dir := pgtest.Dir(t)
	out, err := exec.Command(grovetest.Binary(t), "serve", "--data-dir", filepath.Join(dir, "data"),
		"--storage-driver", "nope", "--api-addr", grovetest.FreeAddr(t), "--pg-addr", grovetest.FreeAddr(t),
		"--http-addr", grovetest.FreeAddr(t)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "nope") {
		t.Fatalf("grove with --storage-driver nope: %v: %s", err, out)
	}
}
