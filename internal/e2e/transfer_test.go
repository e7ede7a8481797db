package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/client"
	"github.com/grovedb/grove/internal/grovetest"
)

// seedCopies adds n copies of a project's row (metadata only: no branches
// or endpoints) to its org, straight into the metadata store, and returns
// their ids: a transfer moves metadata only, and 400 real creates would
// test the creates.
func seedCopies(t *testing.T, g *grovetest.Grove, projectID string, n int) []string {
	t.Helper()
	rows, err := g.MetaConn(t).Query(t.Context(), `INSERT INTO projects (id, org_id, name, region_id, pg_version, provisioner,
		store_passwords, history_retention_seconds, settings, default_endpoint_settings, created_at, updated_at)
		SELECT format('seed-proj-%s', lpad(i::text, 8, '0')), org_id, format('copy-%s', i), region_id, pg_version,
			provisioner, store_passwords, history_retention_seconds, settings, default_endpoint_settings, now(), now()
		FROM projects, generate_series(1, $2) AS i WHERE id = $1 RETURNING id`, projectID, n)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) != n {
		t.Fatalf("seed %d projects: %d, %v", n, len(ids), err)
	}
	return ids
}

func transferBody(dest string, ids ...string) string {
	b, _ := json.Marshal(apitypes.TransferProjectsToOrganizationRequest{DestinationOrgID: dest, ProjectIDs: ids})
	return string(b)
}

// TestProjectTransfer: projects move between orgs all or none; the
// destination plan's limits apply afterwards; endpoints, connection
// strings and open connections keep working; every refusal (wrong key,
// too many ids, a foreign project, a full or smaller destination) moves
// nothing. 400 projects move in one call, 401 are refused.
func TestProjectTransfer(t *testing.T) {
	g := start(t)
	ctx := t.Context()
	c := client.New("http://"+g.APIAddr+"/api/v2", g.Key, client.WithHTTPClient(&http.Client{Transport: checkingTransport{g: g}}))
	free, paid := g.OrgID("sponsored"), g.OrgID("paid")

	// A paid project sized beyond the free plan, with a running compute
	// and an open connection.
	st, raw, cp := createIn(t, g, paid, `,"history_retention_seconds":604800,"branch":{"name":"main","role_name":"app","database_name":"app"},`+
		`"default_endpoint_settings":{"autoscaling_limit_min_cu":0.25,"autoscaling_limit_max_cu":4,"suspend_timeout_seconds":60}`)
	if st != 201 {
		t.Fatalf("create: %d %s", st, raw)
	}
	id, ep := cp.Project.ID, cp.Endpoints[0]
	uri := cp.ConnectionURIs[0].ConnectionURI
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE kept AS SELECT 42 AS v`); err != nil {
		t.Fatal(err)
	}
	orgOf := func(pid string) string {
		t.Helper()
		p, err := c.GetProject(ctx, pid)
		if err != nil {
			t.Fatalf("get project %s: %v", pid, err)
		}
		return p.OrgID
	}
	var orgKey, projectKey apitypes.OrgApiKeyCreateResponse
	if st, raw := g.API("POST", "/organizations/"+paid+"/api_keys", `{"key_name":"org"}`, &orgKey); st != 200 {
		t.Fatalf("org key: %d %s", st, raw)
	}
	if st, raw := g.API("POST", "/organizations/"+paid+"/api_keys", `{"key_name":"proj","project_id":"`+id+`"}`, &projectKey); st != 200 {
		t.Fatalf("project key: %d %s", st, raw)
	}

	t.Run("refusals move nothing", func(t *testing.T) {
		ids401 := make([]string, 401)
		for i := range ids401 {
			ids401[i] = fmt.Sprintf("seed-proj-%08d", i)
		}
		tests := []struct {
			name, key, path, body string
			status                int
			want                  string
		}{
			{"organization key", orgKey.Key, "/organizations/" + paid + "/projects/transfer", transferBody(free, id), 403, "personal API key"},
			{"project-scoped key", projectKey.Key, "/organizations/" + paid + "/projects/transfer", transferBody(free, id), 403, "personal API key"},
			{"organization key, deprecated route", orgKey.Key, "/users/me/projects/transfer", transferBody(free, id), 403, "personal API key"},
			{"401 projects", g.Key, "/organizations/" + paid + "/projects/transfer", transferBody(free, ids401...), 400, "1 to 400 projects, got 401"},
			{"no projects", g.Key, "/organizations/" + paid + "/projects/transfer", transferBody(free), 400, "project_ids"},
			{"no destination", g.Key, "/organizations/" + paid + "/projects/transfer", `{"project_ids":["` + id + `"]}`, 400, "destination_org_id"},
			{"malformed", g.Key, "/organizations/" + paid + "/projects/transfer", `{"project_ids":`, 400, "invalid request"},
			{"a foreign project", g.Key, "/organizations/" + paid + "/projects/transfer", transferBody(free, id, "nope-nope-12345678"), 404, "project nope-nope-12345678 not found"},
			{"wrong source", g.Key, "/organizations/" + free + "/projects/transfer", transferBody(paid, id), 404, "not found"},
			{"unknown destination", g.Key, "/organizations/" + paid + "/projects/transfer", transferBody("org-nope-12345678", id), 404, "organization org-nope-12345678 not found"},
			{"same org", g.Key, "/organizations/" + paid + "/projects/transfer", transferBody(paid, id), 400, "must differ"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				key := g.Key
				g.Key = tc.key
				st, raw := g.API("POST", tc.path, tc.body, nil)
				g.Key = key
				wantLimitError(t, tc.name, st, raw, tc.status, "", tc.want)
			})
		}
		// A full destination, then a destination whose plan allows fewer
		// branches than the project has: Neon's 406 with limits[].
		setPlan(t, g, "free", map[string]any{"projects_per_org": 0})
		err := c.TransferProjects(ctx, paid, apitypes.TransferProjectsToOrganizationRequest{DestinationOrgID: free, ProjectIDs: []string{id}})
		var le *client.LimitsError
		if !errors.As(err, &le) || le.API.Status != 406 || len(le.Limits) != 1 ||
			le.Limits[0] != (apitypes.UnsatisfiedLimit{Name: "projects_count", Expected: "0", Actual: "1"}) {
			t.Errorf("full destination: %v (%+v), want 406 projects_count", err, le)
		}
		setPlan(t, g, "free", map[string]any{"projects_per_org": 30000, "branches_per_project": 1})
		if st, raw := g.API("POST", "/projects/"+id+"/branches", `{"branch":{"name":"dev"}}`, nil); st != 201 {
			t.Fatalf("branch: %d %s", st, raw)
		}
		err = c.TransferProjects(ctx, paid, apitypes.TransferProjectsToOrganizationRequest{DestinationOrgID: free, ProjectIDs: []string{id}})
		if !errors.As(err, &le) || len(le.Limits) != 1 ||
			le.Limits[0] != (apitypes.UnsatisfiedLimit{Name: "subscription_type", Expected: "paid", Actual: "free"}) {
			t.Errorf("smaller plan: %v (%+v), want 406 subscription_type", err, le)
		}
		setPlan(t, g, "free", map[string]any{"branches_per_project": 10})
		if org := orgOf(id); org != paid {
			t.Fatalf("a refused transfer moved the project to %s", org)
		}
		if e, err := c.GetEndpoint(ctx, id, ep.ID); err != nil || e.AutoscalingLimitMaxCU != 4 || e.SuspendTimeoutSeconds != 60 {
			t.Fatalf("a refused transfer changed the endpoint: %+v, %v", e, err)
		}
	})

	t.Run("to the free org", func(t *testing.T) {
		if err := c.TransferProjects(ctx, paid, apitypes.TransferProjectsToOrganizationRequest{DestinationOrgID: free, ProjectIDs: []string{id}}); err != nil {
			t.Fatal(err)
		}
		p, err := c.GetProject(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		d := p.DefaultEndpointSettings
		switch {
		case p.OrgID != free:
			t.Errorf("project in %s, want %s", p.OrgID, free)
		case p.HistoryRetentionSeconds != 86400:
			t.Errorf("history %d, want the free plan's 86400", p.HistoryRetentionSeconds)
		case d == nil || *d.AutoscalingLimitMaxCU != 2 || *d.AutoscalingLimitMinCU != 0.25 || *d.SuspendTimeoutSeconds != 300:
			t.Errorf("default endpoint settings not within the free plan: %+v", d)
		}
		e, err := c.GetEndpoint(ctx, id, ep.ID)
		if err != nil || e.AutoscalingLimitMaxCU != 2 || e.AutoscalingLimitMinCU != 0.25 || e.SuspendTimeoutSeconds != 300 || e.Host != ep.Host {
			t.Errorf("endpoint after the transfer: %+v, %v", e, err)
		}
		// The open connection and the connection string keep working.
		var v int
		if err := conn.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v); err != nil || v != 42 {
			t.Errorf("open connection after the transfer: %d, %v", v, err)
		}
		if out, err := grovetest.Psql(t, uri, "SELECT v FROM kept"); err != nil || out != "42" {
			t.Errorf("new connection after the transfer: %q, %v", out, err)
		}
		// A project-scoped key of the old org no longer reaches it.
		pc := client.New("http://"+g.APIAddr+"/api/v2", projectKey.Key)
		if _, err := pc.GetProject(ctx, id); client.StatusCode(err) != 404 {
			t.Errorf("project key of the old org: %v, want 404", err)
		}
		// The deprecated route moves it back.
		if err := c.TransferMyProjects(ctx, apitypes.TransferProjectsToOrganizationRequest{DestinationOrgID: paid, ProjectIDs: []string{id}}); err != nil {
			t.Fatal(err)
		}
		if org := orgOf(id); org != paid {
			t.Errorf("after /users/me/projects/transfer: %s, want %s", org, paid)
		}
	})

	t.Run("400 at once", func(t *testing.T) {
		ids := append([]string{id}, seedCopies(t, g, id, 399)...)
		// One foreign id among 400 fails them all.
		bad := append(append([]string{}, ids[:399]...), "nope-nope-12345678")
		if st, raw := g.API("POST", "/organizations/"+paid+"/projects/transfer", transferBody(free, bad...), nil); st != 404 {
			t.Fatalf("400 with a foreign one: %d %s", st, raw)
		}
		if n := projectCount(t, g, free); n != 0 {
			t.Fatalf("a failed transfer moved %d projects", n)
		}
		if err := c.TransferProjects(ctx, paid, apitypes.TransferProjectsToOrganizationRequest{DestinationOrgID: free, ProjectIDs: ids}); err != nil {
			t.Fatal(err)
		}
		if n, m := projectCount(t, g, free), projectCount(t, g, paid); n != 400 || m != 0 {
			t.Errorf("after moving 400: %d in free, %d in paid", n, m)
		}
		if !strings.Contains(orgOf(ids[399]), free) {
			t.Errorf("last project not moved")
		}
	})
}
