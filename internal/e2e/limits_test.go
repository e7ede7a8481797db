package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
)

// admin calls Grove's plan administration (a Grove extension, not in
// Neon's spec, so not validated against it) with a key.
func admin(t *testing.T, g *grovetest.Grove, key, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+g.APIAddr+"/api/v2"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// setPlan changes a plan through the admin call and fails the test if it
// is refused.
func setPlan(t *testing.T, g *grovetest.Grove, name string, limits map[string]any) apitypes.Plan {
	t.Helper()
	var out apitypes.PlanResponse
	st, raw := admin(t, g, g.Key, "PATCH", "/admin/plans/"+name, map[string]any{"plan": limits})
	if st != 200 {
		t.Fatalf("PATCH plan %s: %d %s", name, st, raw)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out.Plan
}

// wantError checks a refused call: its status, Neon's error body with a
// message containing want, and (when given) Neon's code.
func wantLimitError(t *testing.T, what string, st int, raw []byte, wantStatus int, code, want string) {
	t.Helper()
	var e apitypes.GeneralError
	_ = json.Unmarshal(raw, &e)
	if st != wantStatus || !strings.Contains(e.Message, want) || e.Code != code {
		t.Errorf("%s: %d %s, want %d with code %q and %q", what, st, raw, wantStatus, code, want)
	}
}

// projectCount counts the projects of an org.
func projectCount(t *testing.T, g *grovetest.Grove, org string) int {
	t.Helper()
	var out apitypes.ProjectsResponse
	if st, raw := g.API("GET", "/projects?limit=400&org_id="+org, nil, &out); st != 200 {
		t.Fatalf("list projects: %d %s", st, raw)
	}
	return len(out.Projects)
}

func createIn(t *testing.T, g *grovetest.Grove, org, extra string) (int, []byte, apitypes.CreatedProject) {
	t.Helper()
	var cp apitypes.CreatedProject
	st, raw := g.API("POST", "/projects", `{"project":{"org_id":"`+org+`"`+extra+`}}`, &cp)
	return st, raw, cp
}

// TestPlanLimits: every limit of a plan holds at its boundary, with Neon's
// status and message past it, and a refused call changes nothing; the
// plans come from --plans at start and change through the admin call
// without a restart. A cap of 3 projects stands in for the 30,000 of
// Neon's orgs.
func TestPlanLimits(t *testing.T) {
	plans := filepath.Join(t.TempDir(), "plans.json")
	if err := os.WriteFile(plans, []byte(`{"free":{"projects_per_org":3}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	g := start(t, "--pool-size", "-1", "--plans", plans)
	if !strings.Contains(g.Logs(), "free: 3 projects/org") {
		t.Errorf("the plans in force are not logged:\n%s", g.Logs())
	}
	free, paid := g.OrgID("sponsored"), g.OrgID("paid")
	var me apitypes.CurrentUserInfoResponse
	if st, raw := g.API("GET", "/users/me", nil, &me); st != 200 || me.ProjectsLimit != 3 || me.BranchesLimit != 10 || me.MaxAutoscalingLimit != 2 {
		t.Errorf("users/me does not report the free plan's limits: %d %s", st, raw)
	}

	t.Run("projects per org", func(t *testing.T) {
		var last apitypes.CreatedProject
		for i := range 3 {
			st, raw, cp := createIn(t, g, free, "")
			if st != 201 {
				t.Fatalf("project %d of 3: %d %s", i+1, st, raw)
			}
			last = cp
		}
		st, raw, _ := createIn(t, g, free, "")
		wantLimitError(t, "4th project", st, raw, 422, "PROJECTS_LIMIT_EXCEEDED", "user projects limit of 3 exceeded, got 3")
		if n := projectCount(t, g, free); n != 3 {
			t.Errorf("after the refused create the org has %d projects, want 3", n)
		}
		// The edit applies to the next call, without a restart.
		if p := setPlan(t, g, "free", map[string]any{"projects_per_org": 4}); p.ProjectsPerOrg != 4 || p.MaxCU != 2 {
			t.Errorf("edited plan: %+v", p)
		}
		if st, raw, _ := createIn(t, g, free, ""); st != 201 {
			t.Fatalf("4th project after raising the cap: %d %s", st, raw)
		}
		st, raw, _ = createIn(t, g, free, "")
		wantLimitError(t, "5th project", st, raw, 422, "PROJECTS_LIMIT_EXCEEDED", "limit of 4 exceeded, got 4")
		// A deleted project frees its place.
		if st, raw := g.API("DELETE", "/projects/"+last.Project.ID, nil, nil); st != 200 {
			t.Fatalf("delete: %d %s", st, raw)
		}
		if st, raw, _ := createIn(t, g, free, ""); st != 201 {
			t.Fatalf("create after a delete: %d %s", st, raw)
		}
		// Another org's plan is its own.
		if st, raw, _ := createIn(t, g, paid, ""); st != 201 {
			t.Fatalf("paid org: %d %s", st, raw)
		}
	})

	setPlan(t, g, "free", map[string]any{"projects_per_org": 100})
	_, _, fp := createIn(t, g, free, "")
	_, _, pp := createIn(t, g, paid, "")
	ep := fp.Endpoints[0].ID

	t.Run("sizes, suspend and history", func(t *testing.T) {
		before := projectCount(t, g, free)
		tests := []struct {
			name, method, path, body string
			status                   int
			want                     string
		}{
			{"create above the plan's CU", "POST", "/projects", `{"project":{"org_id":"` + free + `","default_endpoint_settings":{"autoscaling_limit_min_cu":0.25,"autoscaling_limit_max_cu":4}}}`, 400, "maximum of 2 CU on the free plan"},
			{"create with suspend below the minimum", "POST", "/projects", `{"project":{"org_id":"` + free + `","default_endpoint_settings":{"suspend_timeout_seconds":120}}}`, 400, "at least 300 on the free plan"},
			{"create never suspending", "POST", "/projects", `{"project":{"org_id":"` + free + `","default_endpoint_settings":{"suspend_timeout_seconds":-1}}}`, 400, "cannot be disabled"},
			{"create with history above the max", "POST", "/projects", `{"project":{"org_id":"` + free + `","history_retention_seconds":86401}}`, 400, "at most 86400 on the free plan"},
			{"endpoint create above the plan's CU", "POST", "/projects/" + fp.Project.ID + "/endpoints", `{"endpoint":{"branch_id":"` + fp.Branch.ID + `","type":"read_only","autoscaling_limit_min_cu":4,"autoscaling_limit_max_cu":4}}`, 400, "maximum of 2 CU"},
			{"endpoint PATCH above the plan's CU", "PATCH", "/projects/" + fp.Project.ID + "/endpoints/" + ep, `{"endpoint":{"autoscaling_limit_max_cu":3}}`, 400, "maximum of 2 CU"},
			{"endpoint PATCH suspend below the minimum", "PATCH", "/projects/" + fp.Project.ID + "/endpoints/" + ep, `{"endpoint":{"suspend_timeout_seconds":299}}`, 400, "at least 300"},
			{"project PATCH history above the max", "PATCH", "/projects/" + fp.Project.ID, `{"project":{"history_retention_seconds":86401}}`, 400, "at most 86400"},
			{"project PATCH defaults above the plan's CU", "PATCH", "/projects/" + fp.Project.ID, `{"project":{"default_endpoint_settings":{"autoscaling_limit_max_cu":4}}}`, 400, "maximum of 2 CU"},
			{"branch with an endpoint above the plan's CU", "POST", "/projects/" + fp.Project.ID + "/branches", `{"endpoints":[{"type":"read_write","autoscaling_limit_min_cu":4,"autoscaling_limit_max_cu":4}]}`, 400, "maximum of 2 CU"},
			{"paid: history above its max", "PATCH", "/projects/" + pp.Project.ID, `{"project":{"history_retention_seconds":604801}}`, 400, "at most 604800 on the paid plan"},
			{"paid: above 16 CU is Neon's general rule", "PATCH", "/projects/" + pp.Project.ID + "/endpoints/" + pp.Endpoints[0].ID, `{"endpoint":{"autoscaling_limit_min_cu":10,"autoscaling_limit_max_cu":18}}`, 400, "16"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				st, raw := g.API(tc.method, tc.path, tc.body, nil)
				wantLimitError(t, tc.name, st, raw, tc.status, "", tc.want)
			})
		}
		if n := projectCount(t, g, free); n != before {
			t.Errorf("refused creates made projects: %d, want %d", n, before)
		}
		var got apitypes.EndpointResponse
		if st, raw := g.API("GET", "/projects/"+fp.Project.ID+"/endpoints/"+ep, nil, &got); st != 200 ||
			got.Endpoint.AutoscalingLimitMaxCU != fp.Endpoints[0].AutoscalingLimitMaxCU || got.Endpoint.SuspendTimeoutSeconds != fp.Endpoints[0].SuspendTimeoutSeconds {
			t.Errorf("refused PATCHes changed the endpoint: %d %s", st, raw)
		}

		// At the boundaries: accepted.
		for _, ok := range []struct{ method, path, body string }{
			{"PATCH", "/projects/" + fp.Project.ID + "/endpoints/" + ep, `{"endpoint":{"autoscaling_limit_min_cu":0.25,"autoscaling_limit_max_cu":2,"suspend_timeout_seconds":300}}`},
			{"PATCH", "/projects/" + fp.Project.ID, `{"project":{"history_retention_seconds":86400}}`},
			{"PATCH", "/projects/" + pp.Project.ID, `{"project":{"history_retention_seconds":604800}}`},
			{"PATCH", "/projects/" + pp.Project.ID + "/endpoints/" + pp.Endpoints[0].ID, `{"endpoint":{"autoscaling_limit_min_cu":8,"autoscaling_limit_max_cu":16,"suspend_timeout_seconds":60}}`},
			{"PATCH", "/projects/" + pp.Project.ID + "/endpoints/" + pp.Endpoints[0].ID, `{"endpoint":{"suspend_timeout_seconds":-1}}`},
		} {
			if st, raw := g.API(ok.method, ok.path, ok.body, nil); st != 200 {
				t.Errorf("%s %s %s: %d %s", ok.method, ok.path, ok.body, st, raw)
			}
		}
		// A raised plan maximum applies without a restart.
		setPlan(t, g, "free", map[string]any{"max_cu": 4})
		if st, raw := g.API("PATCH", "/projects/"+fp.Project.ID+"/endpoints/"+ep, `{"endpoint":{"autoscaling_limit_max_cu":4}}`, nil); st != 200 {
			t.Errorf("4 CU after raising the plan's max: %d %s", st, raw)
		}
		setPlan(t, g, "free", map[string]any{"max_cu": 2})
	})

	t.Run("branches per project", func(t *testing.T) {
		setPlan(t, g, "free", map[string]any{"branches_per_project": 2})
		if st, raw := g.API("POST", "/projects/"+fp.Project.ID+"/branches", `{"branch":{"name":"second"}}`, nil); st != 201 {
			t.Fatalf("2nd branch of 2: %d %s", st, raw)
		}
		st, raw := g.API("POST", "/projects/"+fp.Project.ID+"/branches", `{"branch":{"name":"third"}}`, nil)
		wantLimitError(t, "3rd branch", st, raw, 422, "BRANCHES_LIMIT_EXCEEDED", "branches limit of 2 exceeded, got 2")
		var count apitypes.BranchesCountResponse
		if st, raw := g.API("GET", "/projects/"+fp.Project.ID+"/branches/count", nil, &count); st != 200 || count.Count != 2 {
			t.Errorf("branches after the refused create: %d %s", st, raw)
		}
		setPlan(t, g, "free", map[string]any{"branches_per_project": 10})
	})

	t.Run("admin call", func(t *testing.T) {
		var key apitypes.OrgApiKeyCreateResponse
		if st, raw := g.API("POST", "/organizations/"+free+"/api_keys", `{"key_name":"org"}`, &key); st != 200 {
			t.Fatalf("org key: %d %s", st, raw)
		}
		st, raw := admin(t, g, key.Key, "PATCH", "/admin/plans/free", map[string]any{"plan": map[string]any{"projects_per_org": 1}})
		wantLimitError(t, "org key", st, raw, 403, "", "admin's personal API key")
		for _, bad := range []struct {
			name  string
			body  map[string]any
			want  string
			plan  string
			state int
		}{
			{"max below min", map[string]any{"min_cu": 4, "max_cu": 2}, "max_cu must be at least min_cu", "free", 400},
			{"odd size", map[string]any{"max_cu": 3.3}, "not a valid compute size", "free", 400},
			{"spread above 8", map[string]any{"max_cu_spread": 9}, "max_cu_spread", "free", 400},
			{"history default above max", map[string]any{"history_retention_default_seconds": 90000}, "history", "free", 400},
			{"bad name", map[string]any{"max_cu": 2}, "plan name", "Bad_Name", 400},
		} {
			st, raw := admin(t, g, g.Key, "PATCH", "/admin/plans/"+bad.plan, map[string]any{"plan": bad.body})
			wantLimitError(t, bad.name, st, raw, bad.state, "", bad.want)
		}
		var list apitypes.PlansResponse
		st, raw = admin(t, g, g.Key, "GET", "/admin/plans", nil)
		if err := json.Unmarshal(raw, &list); st != 200 || err != nil || len(list.Plans) != 2 {
			t.Fatalf("plans: %d %s", st, raw)
		}
		for _, p := range list.Plans {
			if p.Name == "free" && (p.MaxCU != 2 || p.MinCU != 0.25 || p.ProjectsPerOrg != 100) {
				t.Errorf("refused edits changed the free plan: %+v", p)
			}
		}
		// A new plan starts from the free plan's limits.
		if p := setPlan(t, g, "trial", map[string]any{"projects_per_org": 1}); p.ProjectsPerOrg != 1 || p.BranchesPerProject != 10 {
			t.Errorf("new plan: %+v", p)
		}
	})
}

// TestSnapshotLimit: the free plan keeps one manual snapshot per project.
func TestSnapshotLimit(t *testing.T) {
	g := start(t)
	cp := g.CreateSeed()
	path := fmt.Sprintf("/projects/%s/branches/%s/snapshot", cp.Project.ID, cp.Branch.ID)
	if st, raw := g.API("POST", path, `{}`, nil); st != 200 {
		t.Fatalf("1st snapshot: %d %s", st, raw)
	}
	st, raw := g.API("POST", path, `{}`, nil)
	wantLimitError(t, "2nd snapshot", st, raw, 422, "", "limit of 1 manual snapshots on the free plan")
	setPlan(t, g, "free", map[string]any{"manual_snapshots": 2})
	if st, raw := g.API("POST", path, `{}`, nil); st != 200 {
		t.Fatalf("2nd snapshot after raising the limit: %d %s", st, raw)
	}
}

// TestProtectedBranchLimit: protection is a paid feature, up to a number of
// branches per project; a project with a protected branch cannot be
// deleted.
func TestProtectedBranchLimit(t *testing.T) {
	g := start(t)
	cp := g.CreateSeed()
	id, main := cp.Project.ID, cp.Branch.ID
	branches := "/projects/" + id + "/branches"
	protect := `{"branch":{"protected":true}}`

	st, raw := g.API("PATCH", branches+"/"+main, protect, nil)
	wantLimitError(t, "protect on free", st, raw, 422, "", "protected branches are not available on the free plan")
	st, raw = g.API("POST", branches, `{"branch":{"name":"p1","protected":true}}`, nil)
	wantLimitError(t, "create protected on free", st, raw, 422, "", "not available on the free plan")

	setPlan(t, g, "free", map[string]any{"protected_branches": 1})
	var b apitypes.BranchOperations
	if st, raw := g.API("PATCH", branches+"/"+main, protect, &b); st != 200 || !b.Branch.Protected {
		t.Fatalf("protect within the limit: %d %s", st, raw)
	}
	// Protecting an already protected branch again counts nothing.
	if st, raw := g.API("PATCH", branches+"/"+main, protect, nil); st != 200 {
		t.Fatalf("protect again: %d %s", st, raw)
	}
	st, raw = g.API("POST", branches, `{"branch":{"name":"p2","protected":true}}`, nil)
	wantLimitError(t, "a second protected branch", st, raw, 422, "", "limit of 1 protected branches on the free plan")

	st, raw = g.API("DELETE", "/projects/"+id, nil, nil)
	wantLimitError(t, "delete a project with a protected branch", st, raw, 400, "", "protected")
	if st, raw := g.API("GET", "/projects/"+id, nil, nil); st != 200 {
		t.Fatalf("the refused delete removed the project: %d %s", st, raw)
	}
	if st, raw := g.API("PATCH", branches+"/"+main, `{"branch":{"protected":false}}`, nil); st != 200 {
		t.Fatalf("unprotect: %d %s", st, raw)
	}
	if st, raw := g.API("DELETE", "/projects/"+id, nil, nil); st != 200 {
		t.Fatalf("delete after unprotecting: %d %s", st, raw)
	}
}
