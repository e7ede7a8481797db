package e2e

import (
	"testing"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/client"
	"github.com/grovedb/grove/internal/grovetest"
)

// TestEndpointsLifecycle resizes, restarts and deletes a project's
// endpoint, then creates a new one on the same branch: it serves the same
// data under a new host. Every bad request is refused and changes nothing.
func TestEndpointsLifecycle(t *testing.T) {
	g := start(t)
	ctx := t.Context()
	c := checkedClient(g)
	cp := g.CreateSeed()
	id, main, ep := cp.Project.ID, cp.Branch.ID, cp.Endpoints[0].ID
	uri := cp.ConnectionURIs[0].ConnectionURI
	if out, err := grovetest.Psql(t, uri, "create table kv (k int primary key); insert into kv values (42)"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	before, err := c.GetEndpoint(ctx, id, ep)
	if err != nil {
		t.Fatal(err)
	}

	epPath := "/projects/" + id + "/endpoints/" + ep
	badUpdates := []struct {
		name, body string
		status     int
		want       string
	}{
		{"malformed JSON", `{"endpoint":`, 400, "invalid request"},
		{"no endpoint", `{}`, 400, "endpoint (field required)"},
		{"max-min over 8", `{"endpoint":{"autoscaling_limit_min_cu":1,"autoscaling_limit_max_cu":10}}`, 400, "must not exceed 8"},
		{"odd size", `{"endpoint":{"autoscaling_limit_min_cu":0.3,"autoscaling_limit_max_cu":1}}`, 400, "autoscaling_limit_min_cu"},
		{"max below min", `{"endpoint":{"autoscaling_limit_min_cu":2,"autoscaling_limit_max_cu":1}}`, 400, "greater than or equal"},
		{"autoscaling over 16", `{"endpoint":{"autoscaling_limit_min_cu":10,"autoscaling_limit_max_cu":18}}`, 400, "16"},
		{"suspend 30", `{"endpoint":{"suspend_timeout_seconds":30}}`, 400, "suspend_timeout_seconds"},
		{"wrong type", `{"endpoint":{"autoscaling_limit_min_cu":"1"}}`, 400, "autoscaling_limit_min_cu"},
		{"unknown branch", `{"endpoint":{"branch_id":"br-nope-nope-12345678"}}`, 404, "branch not found"},
	}
	for _, tt := range badUpdates {
		t.Run("update "+tt.name, func(t *testing.T) {
			st, body := g.API("PATCH", epPath, tt.body, nil)
			wantError(t, tt.name, st, body, tt.status, tt.want)
		})
	}
	badCreates := []struct {
		name, body string
		status     int
		want       string
	}{
		{"malformed JSON", `{"endpoint":{`, 400, "invalid request"},
		{"no branch", `{"endpoint":{"type":"read_write"}}`, 400, "branch_id"},
		{"no type", `{"endpoint":{"branch_id":"` + main + `"}}`, 400, "type"},
		{"bad type", `{"endpoint":{"branch_id":"` + main + `","type":"writer"}}`, 400, "type"},
		{"unknown branch", `{"endpoint":{"branch_id":"br-nope-nope-12345678","type":"read_write"}}`, 404, "branch not found"},
		{"second read_write", `{"endpoint":{"branch_id":"` + main + `","type":"read_write"}}`, 409, "read_write endpoint already exists"},
		{"read_only on an unknown branch", `{"endpoint":{"branch_id":"br-nope-nope-12345678","type":"read_only"}}`, 404, "branch not found"},
		{"other region", `{"endpoint":{"branch_id":"` + main + `","type":"read_write","region_id":"aws-eu-central-1"}}`, 400, "region_id"},
	}
	for _, tt := range badCreates {
		t.Run("create "+tt.name, func(t *testing.T) {
			st, body := g.API("POST", "/projects/"+id+"/endpoints", tt.body, nil)
			wantError(t, tt.name, st, body, tt.status, tt.want)
		})
	}
	if after, err := c.GetEndpoint(ctx, id, ep); err != nil || after.AutoscalingLimitMinCU != before.AutoscalingLimitMinCU ||
		after.AutoscalingLimitMaxCU != before.AutoscalingLimitMaxCU || after.SuspendTimeoutSeconds != before.SuspendTimeoutSeconds ||
		!after.UpdatedAt.Equal(before.UpdatedAt.Time) {
		t.Fatalf("refused requests changed the endpoint: %+v, %v", after, err)
	}
	if eps, err := c.ListEndpoints(ctx, id); err != nil || len(eps) != 1 {
		t.Fatalf("refused creates left endpoints: %+v, %v", eps, err)
	}

	// A size change on the running compute applies at once (restarting it).
	if _, err := c.StartEndpoint(ctx, id, ep); err != nil {
		t.Fatal(err)
	}
	minCU, maxCU, suspend := 0.5, 2.0, int64(600)
	up, err := c.UpdateEndpoint(ctx, id, ep, apitypes.EndpointUpdateRequest{Endpoint: apitypes.EndpointUpdate{
		AutoscalingLimitMinCU: &minCU, AutoscalingLimitMaxCU: &maxCU, SuspendTimeoutSeconds: &suspend}})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Operations) != 1 || up.Operations[0].Action != "apply_config" {
		t.Errorf("operations of a resize of an active endpoint: %+v", up.Operations)
	}
	waitOps(t, c, id, up.Operations)
	got, err := c.GetEndpoint(ctx, id, ep)
	if err != nil || got.AutoscalingLimitMinCU != 0.5 || got.AutoscalingLimitMaxCU != 2 || got.SuspendTimeoutSeconds != 600 {
		t.Fatalf("after update: %+v, %v", got, err)
	}
	if out, err := grovetest.Psql(t, uri, "select k from kv"); err != nil || out != "42" {
		t.Fatalf("after resize: %v: %s", err, out)
	}

	// Restart: a new postmaster, the same data.
	pid := postmasterOf(t, uri)
	rs, err := c.RestartEndpoint(ctx, id, ep)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Operations) != 2 || rs.Operations[0].Action != "suspend_compute" || rs.Operations[1].Action != "start_compute" {
		t.Errorf("restart operations: %+v", rs.Operations)
	}
	waitOps(t, c, id, rs.Operations)
	if got, err := c.GetEndpoint(ctx, id, ep); err != nil || got.CurrentState != "active" || got.LastActive.IsZero() {
		t.Errorf("after restart: %+v, %v", got, err)
	}
	if isPostgres(pid) {
		t.Errorf("postmaster %d survived the restart", pid)
	}
	if out, err := grovetest.Psql(t, uri, "select k from kv"); err != nil || out != "42" {
		t.Fatalf("after restart: %v: %s", err, out)
	}

	// Delete: the compute stops, the branch's data stays.
	del, err := c.DeleteEndpoint(ctx, id, ep)
	if err != nil || del == nil || del.Endpoint.ID != ep {
		t.Fatalf("delete: %+v, %v", del, err)
	}
	waitOps(t, c, id, del.Operations)
	if _, err := c.GetEndpoint(ctx, id, ep); client.StatusCode(err) != 404 {
		t.Errorf("get after delete: %v, want 404", err)
	}
	if st, body := g.API("DELETE", epPath, nil, nil); st != 204 || len(body) != 0 {
		t.Errorf("second delete: %d %s, want 204 without a body", st, body)
	}
	if eps, err := c.ListBranchEndpoints(ctx, id, main); err != nil || len(eps) != 0 {
		t.Errorf("branch endpoints after delete: %+v, %v", eps, err)
	}
	if out, err := grovetest.Psql(t, uri, "select 1"); err == nil {
		t.Errorf("deleted endpoint still answers: %s", out)
	}
	if _, err := c.ConnectionURI(ctx, id, client.ConnectionURIParams{DatabaseName: "app_db", RoleName: "app_user"}); client.StatusCode(err) != 404 {
		t.Errorf("connection_uri of a branch without an endpoint: %v, want 404", err)
	}

	// A new read_write endpoint on the branch serves the same databases.
	cr, err := c.CreateEndpoint(ctx, id, apitypes.EndpointCreateRequest{Endpoint: apitypes.EndpointCreate{
		BranchID: main, Type: "read_write", Name: "second", Provisioner: "k8s-pod"}})
	if err != nil {
		t.Fatal(err)
	}
	if cr.Endpoint.ID == ep || cr.Endpoint.Host == before.Host || cr.Endpoint.Name != "second" || cr.Endpoint.Provisioner != "k8s-pod" {
		t.Errorf("new endpoint: %+v", cr.Endpoint)
	}
	// The project's defaults (0.25..1 CU, 300 s from the seed) apply.
	if cr.Endpoint.AutoscalingLimitMinCU != 0.25 || cr.Endpoint.AutoscalingLimitMaxCU != 1 || cr.Endpoint.SuspendTimeoutSeconds != 300 {
		t.Errorf("new endpoint's size: %v..%v, suspend %d", cr.Endpoint.AutoscalingLimitMinCU, cr.Endpoint.AutoscalingLimitMaxCU, cr.Endpoint.SuspendTimeoutSeconds)
	}
	waitOps(t, c, id, cr.Operations)
	newURI, err := c.ConnectionURI(ctx, id, client.ConnectionURIParams{DatabaseName: "app_db", RoleName: "app_user"})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := grovetest.Psql(t, newURI, "select k from kv"); err != nil || out != "42" {
		t.Fatalf("data through the new endpoint: %v: %s", err, out)
	}
	if got, err := c.GetEndpoint(ctx, id, cr.Endpoint.ID); err != nil || got.CurrentState != "active" {
		t.Errorf("new endpoint: %+v, %v", got, err)
	}

	// Disabled: suspended and not startable.
	disabled := true
	dis, err := c.UpdateEndpoint(ctx, id, cr.Endpoint.ID, apitypes.EndpointUpdateRequest{Endpoint: apitypes.EndpointUpdate{Disabled: &disabled}})
	if err != nil {
		t.Fatal(err)
	}
	waitOps(t, c, id, dis.Operations)
	if got, err := c.GetEndpoint(ctx, id, cr.Endpoint.ID); err != nil || !got.Disabled || got.CurrentState != "idle" {
		t.Errorf("disabled endpoint: %+v, %v", got, err)
	}
	if _, err := c.StartEndpoint(ctx, id, cr.Endpoint.ID); client.StatusCode(err) != 409 {
		t.Errorf("start of a disabled endpoint: %v, want 409", err)
	}
}
