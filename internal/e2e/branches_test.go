package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/client"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/grovedb/grove/internal/pgtest"
)

// checkedClient is a Go client whose every response is validated against
// Neon's spec.
func checkedClient(g *grovetest.Grove) *client.Client {
	return client.New("http://"+g.APIAddr+"/api/v2", g.Key, client.WithHTTPClient(&http.Client{
		Transport: checkingTransport{g: g},
	}))
}

// waitOps polls operations until each is terminal and fails the test
// unless all finished.
func waitOps(t *testing.T, c *client.Client, projectID string, ops []apitypes.Operation) {
	t.Helper()
	for _, op := range ops {
		var got *apitypes.Operation
		grovetest.WaitFor(t, "operation "+string(op.Action), func() bool {
			var err error
			got, err = c.GetOperation(t.Context(), projectID, op.ID)
			return err == nil && got.Status.Terminal()
		})
		if got.Status != apitypes.OperationStatusFinished {
			t.Fatalf("operation %s ended %s: %s", op.Action, got.Status, got.Error)
		}
	}
}

// wantError checks a refused request: the status, Neon's error body and
// a message containing want.
func wantError(t *testing.T, what string, st int, raw []byte, status int, want string) {
	t.Helper()
	if st != status {
		t.Errorf("%s: status %d, want %d: %s", what, st, status, raw)
		return
	}
	var e apitypes.GeneralError
	if err := json.Unmarshal(raw, &e); err != nil || e.Message == "" {
		t.Errorf("%s: error body not in Neon's shape: %s", what, raw)
		return
	}
	if !strings.Contains(e.Message, want) {
		t.Errorf("%s: message %q does not contain %q", what, e.Message, want)
	}
}

// TestProjectsListAndUpdate pages through projects with a cursor, searches
// them, and changes one with PATCH; every bad request is refused with
// Neon's status and changes nothing.
func TestProjectsListAndUpdate(t *testing.T) {
	g := start(t)
	ctx := t.Context()
	c := checkedClient(g)
	org := g.OrgID("paid")
	var ids []string
	for i := range 5 {
		cp, err := c.CreateProject(ctx, apitypes.ProjectCreateRequest{Project: apitypes.ProjectCreate{Name: fmt.Sprintf("page-%d", i), OrgID: org}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cp.Project.ID)
	}
	slices.Sort(ids)

	var seen []string
	cursor, pages := "", 0
	for {
		page, err := c.ListProjects(ctx, client.ListProjectsParams{OrgID: org, Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Projects) == 0 {
			if page.Pagination != nil {
				t.Errorf("empty page carries pagination %+v", page.Pagination)
			}
			break
		}
		pages++
		if len(page.Projects) > 2 {
			t.Fatalf("page of %d projects with limit 2", len(page.Projects))
		}
		for _, p := range page.Projects {
			seen = append(seen, p.ID)
			if p.OwnerID == "" || p.OrgName != "paid" && p.OrgName != "" {
				t.Errorf("list item %s: owner %q, org name %q", p.ID, p.OwnerID, p.OrgName)
			}
		}
		cursor = page.Pagination.Cursor
		if cursor != page.Projects[len(page.Projects)-1].ID {
			t.Errorf("cursor %q is not the last project's id", cursor)
		}
	}
	if !slices.Equal(seen, ids) || pages != 3 {
		t.Fatalf("paged %v in %d pages, want %v in 3", seen, pages, ids)
	}
	// The empty list still has applications and integrations.
	var raw map[string]json.RawMessage
	if st, body := g.API("GET", "/projects?org_id="+org+"&cursor="+ids[4], nil, &raw); st != 200 ||
		string(raw["applications"]) != "{}" || string(raw["integrations"]) != "{}" || raw["pagination"] != nil {
		t.Errorf("empty page: %d %s", st, body)
	}
	for _, search := range []string{"page-3", "PAGE-3", ids[3][len(ids[3])-8:]} {
		res, err := c.ListProjects(ctx, client.ListProjectsParams{OrgID: org, Search: search})
		if err != nil || len(res.Projects) != 1 {
			t.Errorf("search %q: %+v, %v", search, res, err)
		}
	}
	for _, q := range []string{"limit=0", "limit=401", "limit=x", "recoverable=maybe"} {
		st, body := g.API("GET", "/projects?"+q, nil, nil)
		wantError(t, q, st, body, 400, strings.SplitN(q, "=", 2)[0])
	}

	id := ids[0]
	before, err := c.GetProject(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if before.OwnerID == "" || before.Owner == nil || before.Owner.Email == "" || before.Owner.SubscriptionType == "" {
		t.Errorf("project owner: %q %+v", before.OwnerID, before.Owner)
	}
	bad := []struct {
		name, body string
		status     int
		want       string
	}{
		{"malformed JSON", `{"project":`, 400, "invalid request"},
		{"no project", `{}`, 400, "project (field required)"},
		{"empty name", `{"project":{"name":""}}`, 400, "name"},
		{"history too long", `{"project":{"history_retention_seconds":2592001}}`, 400, "history_retention_seconds"},
		{"history negative", `{"project":{"history_retention_seconds":-1}}`, 400, "history_retention_seconds"},
		{"max-min over 8", `{"project":{"default_endpoint_settings":{"autoscaling_limit_min_cu":1,"autoscaling_limit_max_cu":10}}}`, 400, "must not exceed 8"},
		{"odd size", `{"project":{"default_endpoint_settings":{"autoscaling_limit_min_cu":0.3}}}`, 400, "autoscaling_limit_min_cu"},
		{"suspend 30", `{"project":{"default_endpoint_settings":{"suspend_timeout_seconds":30}}}`, 400, "suspend_timeout_seconds"},
		{"bad ip", `{"project":{"settings":{"allowed_ips":{"ips":["nope"]}}}}`, 400, "allowed_ips"},
		{"bad window", `{"project":{"settings":{"maintenance_window":{"weekdays":[8],"start_time":"01:00","end_time":"02:00"}}}}`, 400, "weekdays"},
		{"wrong type", `{"project":{"settings":{"quota":{"active_time_seconds":"x"}}}}`, 400, "settings"},
		{"negative quota", `{"project":{"settings":{"quota":{"active_time_seconds":-5}}}}`, 400, "quota"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			st, body := g.API("PATCH", "/projects/"+id, tt.body, nil)
			wantError(t, tt.name, st, body, tt.status, tt.want)
		})
	}
	st, body := g.API("PATCH", "/projects/nope-nope-12345678", `{"project":{"name":"x"}}`, nil)
	wantError(t, "unknown project", st, body, 404, "not found")
	if after, err := c.GetProject(ctx, id); err != nil || after.Name != before.Name || !after.UpdatedAt.Equal(before.UpdatedAt.Time) ||
		after.HistoryRetentionSeconds != before.HistoryRetentionSeconds {
		t.Fatalf("refused updates changed the project: %+v, %v", after, err)
	}

	quota := int64(3600)
	minCU, maxCU, suspend := 0.5, 2.0, int64(600)
	history := int32(3600)
	up, err := c.UpdateProject(ctx, id, apitypes.ProjectUpdateRequest{Project: apitypes.ProjectUpdate{
		Name:     "renamed",
		Settings: &apitypes.ProjectSettings{Quota: &apitypes.ProjectQuota{ActiveTimeSeconds: &quota}, AllowedIPs: &apitypes.AllowedIPs{IPs: []string{"10.0.0.0/8", "192.168.1.1"}}},
		DefaultEndpointSettings: &apitypes.DefaultEndpointSettings{AutoscalingLimitMinCU: &minCU, AutoscalingLimitMaxCU: &maxCU,
			SuspendTimeoutSeconds: &suspend},
		HistoryRetentionSeconds: &history,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Operations) != 1 || up.Operations[0].Action != "apply_storage_config" {
		t.Errorf("operations of a retention change: %+v", up.Operations)
	}
	waitOps(t, c, id, up.Operations)
	got, err := c.GetProject(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	d := got.DefaultEndpointSettings
	switch {
	case got.Name != "renamed", got.HistoryRetentionSeconds != 3600:
		t.Errorf("name %q, history %d", got.Name, got.HistoryRetentionSeconds)
	case got.Settings.Quota == nil || *got.Settings.Quota.ActiveTimeSeconds != 3600:
		t.Errorf("quota not kept: %+v", got.Settings.Quota)
	case !slices.Equal(got.Settings.AllowedIPs.IPs, []string{"10.0.0.0/8", "192.168.1.1"}):
		t.Errorf("allowed ips: %+v", got.Settings.AllowedIPs)
	case d == nil || *d.AutoscalingLimitMinCU != 0.5 || *d.AutoscalingLimitMaxCU != 2 || *d.SuspendTimeoutSeconds != 600:
		t.Errorf("default endpoint settings: %+v", d)
	}
	// A PATCH of one setting keeps the others.
	if _, err := c.UpdateProject(ctx, id, apitypes.ProjectUpdateRequest{Project: apitypes.ProjectUpdate{
		Settings: &apitypes.ProjectSettings{AuditLogLevel: "extended"}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetProject(ctx, id); err != nil || got.Settings.Quota == nil || got.Settings.AuditLogLevel != "extended" {
		t.Errorf("settings after a second PATCH: %+v, %v", got.Settings, err)
	}
}

// TestBranchesReadSide lists, counts, gets, renames, protects and makes
// default a project's branches. Branch creation comes later, so the test
// adds branch rows to the metadata store directly to have several to sort.
func TestBranchesReadSide(t *testing.T) {
	meta := pgtest.Start(t)
	g := start(t, "--meta-url", meta.AdminDSN("postgres"))
	ctx := t.Context()
	c := checkedClient(g)
	cp := g.CreateSeed()
	id, main := cp.Project.ID, cp.Branch.ID

	list, err := c.ListBranches(ctx, id, client.ListBranchesParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Branches) != 1 || list.Annotations == nil || list.Pagination == nil ||
		list.Pagination.SortBy != "updated_at" || list.Pagination.SortOrder != "DESC" || list.Pagination.Next != "" {
		t.Fatalf("one branch: %+v", list)
	}
	b := list.Branches[0]
	if !b.Default || b.Primary == nil || !*b.Primary || b.CurrentState != "ready" || b.Protected || b.Name != "main" {
		t.Errorf("default branch: %+v", b)
	}

	// Four more branches, with distinct names and times.
	db := meta.Conn(t, "postgres")
	base := time.Now().UTC().Add(-time.Hour)
	for i, name := range []string{"delta", "alpha", "charlie", "bravo"} {
		at := base.Add(time.Duration(i) * time.Minute)
		if _, err := db.Exec(ctx, `INSERT INTO branches (id, project_id, parent_id, name, volume_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, fmt.Sprintf("br-test-branch-%08d", i), id, main, name,
			fmt.Sprintf("vol-test-%d", i), at, at.Add(time.Duration(10-i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	all := func(p client.ListBranchesParams) []string {
		t.Helper()
		var names []string
		for {
			page, err := c.ListBranches(ctx, id, p)
			if err != nil {
				t.Fatalf("%+v: %v", p, err)
			}
			if len(page.Branches) > p.Limit && p.Limit > 0 {
				t.Fatalf("page of %d with limit %d", len(page.Branches), p.Limit)
			}
			if want := strings.ToUpper(p.SortOrder); want != "" && page.Pagination.SortOrder != want {
				t.Errorf("sort_order echoed %q, want %q", page.Pagination.SortOrder, want)
			}
			for _, b := range page.Branches {
				names = append(names, b.Name)
			}
			if page.Pagination.Next == "" {
				return names
			}
			p.Cursor = page.Pagination.Next
		}
	}
	sorts := []struct {
		p    client.ListBranchesParams
		want []string
	}{
		{client.ListBranchesParams{SortBy: "name", SortOrder: "asc", Limit: 2}, []string{"alpha", "bravo", "charlie", "delta", "main"}},
		{client.ListBranchesParams{SortBy: "name", SortOrder: "desc", Limit: 2}, []string{"main", "delta", "charlie", "bravo", "alpha"}},
		{client.ListBranchesParams{SortBy: "created_at", SortOrder: "asc", Limit: 3}, []string{"delta", "alpha", "charlie", "bravo", "main"}},
		{client.ListBranchesParams{SortBy: "updated_at", Limit: 2}, []string{"main", "bravo", "charlie", "alpha", "delta"}},
		{client.ListBranchesParams{Limit: 1}, []string{"main", "bravo", "charlie", "alpha", "delta"}},
		{client.ListBranchesParams{SortBy: "name", Search: "a", SortOrder: "asc"}, []string{"alpha", "bravo", "charlie", "delta", "main"}},
		{client.ListBranchesParams{SortBy: "name", Search: "lph", SortOrder: "asc"}, []string{"alpha"}},
	}
	for _, tt := range sorts {
		if got := all(tt.p); !slices.Equal(got, tt.want) {
			t.Errorf("%+v: %v, want %v", tt.p, got, tt.want)
		}
	}
	for search, want := range map[string]int{"": 5, "charlie": 1, "br-test": 4, "zzz": 0} {
		if n, err := c.CountBranches(ctx, id, search); err != nil || n != want {
			t.Errorf("count %q: %d, %v, want %d", search, n, err, want)
		}
	}
	for _, q := range []string{"sort_by=size", "sort_order=up", "limit=0", "limit=10001", "cursor=bogus", "include_deleted=maybe"} {
		st, body := g.API("GET", "/projects/"+id+"/branches?"+q, nil, nil)
		wantError(t, q, st, body, 400, strings.SplitN(q, "=", 2)[0])
	}

	other := "br-test-branch-00000001" // alpha
	got, err := c.GetBranch(ctx, id, other)
	if err != nil || got.Branch.Name != "alpha" || got.Branch.ParentID != main || got.Annotation.Object.ID != other {
		t.Fatalf("get branch: %+v, %v", got, err)
	}
	if _, err := c.GetBranch(ctx, id, "br-nope-nope-12345678"); client.StatusCode(err) != 404 {
		t.Errorf("unknown branch: %v", err)
	}

	bad := []struct {
		name, body string
		status     int
		want       string
	}{
		{"malformed JSON", `{"branch":`, 400, "invalid request"},
		{"no branch", `{}`, 400, "branch (field required)"},
		{"duplicate name", `{"branch":{"name":"main"}}`, 409, "already exists"},
		{"empty name", `{"branch":{"name":""}}`, 400, "name"},
		{"expiry on default", `{"branch":{"expires_at":"2099-01-01T00:00:00Z"}}`, 400, "expires_at"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			target := other
			if tt.name == "expiry on default" {
				target = main
			}
			st, body := g.API("PATCH", "/projects/"+id+"/branches/"+target, tt.body, nil)
			wantError(t, tt.name, st, body, tt.status, tt.want)
		})
	}
	if got, err := c.GetBranch(ctx, id, other); err != nil || got.Branch.Name != "alpha" {
		t.Fatalf("refused updates changed the branch: %+v, %v", got, err)
	}

	setPlan(t, g, "free", map[string]any{"protected_branches": 1}) // the seed project's org
	protect := true
	up, err := c.UpdateBranch(ctx, id, other, apitypes.BranchUpdateRequest{Branch: apitypes.BranchUpdate{Name: "alpha2", Protected: &protect}})
	if err != nil || up.Branch.Name != "alpha2" || !up.Branch.Protected || up.Operations == nil {
		t.Fatalf("update branch: %+v, %v", up, err)
	}
	if got, err := c.GetBranch(ctx, id, other); err != nil || got.Branch.Name != "alpha2" || !got.Branch.Protected {
		t.Fatalf("after update: %+v, %v", got, err)
	}

	def, err := c.SetDefaultBranch(ctx, id, other)
	if err != nil || !def.Branch.Default {
		t.Fatalf("set as default: %+v, %v", def, err)
	}
	if got, err := c.GetBranch(ctx, id, main); err != nil || got.Branch.Default {
		t.Fatalf("old default still default: %+v, %v", got, err)
	}
	if _, err := c.SetDefaultBranch(ctx, id, main); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetDefaultBranch(ctx, id, "br-nope-nope-12345678"); client.StatusCode(err) != 404 {
		t.Errorf("set_as_default of an unknown branch: %v", err)
	}

	eps, err := c.ListBranchEndpoints(ctx, id, main)
	if err != nil || len(eps) != 1 || eps[0].ID != cp.Endpoints[0].ID {
		t.Errorf("main's endpoints: %+v, %v", eps, err)
	}
	if eps, err := c.ListBranchEndpoints(ctx, id, other); err != nil || len(eps) != 0 {
		t.Errorf("alpha's endpoints: %+v, %v", eps, err)
	}
}
