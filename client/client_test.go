package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/client"
	"github.com/grovedb/grove/internal/apispec"
)

const testKey = "napi_testkey"

// Spec-shaped canned bodies.
const (
	projectJSON = `{"data_storage_bytes_hour":0,"data_transfer_bytes":0,"written_data_bytes":0,"compute_time_seconds":0,` +
		`"active_time_seconds":0,"cpu_used_sec":0,"id":"cold-bonus-61650555","platform_id":"aws","region_id":"aws-us-east-2",` +
		`"name":"myproject","provisioner":"k8s-neonvm","pg_version":17,"proxy_host":"us-east-2.aws.neon.tech",` +
		`"branch_logical_size_limit":512,"branch_logical_size_limit_bytes":536870912,"store_passwords":true,` +
		`"creation_source":"console","history_retention_seconds":86400,"created_at":"2025-09-10T07:58:16Z",` +
		`"updated_at":"2025-09-10T07:58:16Z","consumption_period_start":"0001-01-01T00:00:00Z",` +
		`"consumption_period_end":"0001-01-01T00:00:00Z","owner_id":"9a7ad2c4-8c4c-4e0f-a0d5-23a4c4f0c2a1"}`
	endpointJSON = `{"host":"ep-a.us-east-2.aws.neon.tech","id":"ep-a","project_id":"cold-bonus-61650555","branch_id":"br-a",` +
		`"autoscaling_limit_min_cu":0.25,"autoscaling_limit_max_cu":2,"region_id":"aws-us-east-2","type":"read_write",` +
		`"current_state":"idle","pending_state":"active","settings":{},"pooler_enabled":false,"pooler_mode":"transaction",` +
		`"disabled":false,"passwordless_access":true,"creation_source":"console","created_at":"2025-09-10T07:58:16Z",` +
		`"updated_at":"2025-09-10T07:58:16Z","proxy_host":"us-east-2.aws.neon.tech","suspend_timeout_seconds":0,"provisioner":"k8s-neonvm"}`
	operationJSON = `{"id":"d8ac46eb-a757-42b1-9907-f78322ee394e","project_id":"cold-bonus-61650555","branch_id":"br-a",` +
		`"endpoint_id":"ep-a","action":"start_compute","status":"running","failures_count":0,` +
		`"created_at":"2025-09-10T07:58:16Z","updated_at":"2025-09-10T07:58:16Z","total_duration_ms":0}`
	branchJSON = `{"id":"br-a","project_id":"cold-bonus-61650555","name":"main","current_state":"init","pending_state":"ready",` +
		`"state_changed_at":"2025-09-10T07:58:16Z","creation_source":"console","primary":true,"default":true,"protected":false,` +
		`"cpu_used_sec":0,"compute_time_seconds":0,"active_time_seconds":0,"written_data_bytes":0,"data_transfer_bytes":0,` +
		`"created_at":"2025-09-10T07:58:16Z","updated_at":"2025-09-10T07:58:16Z"}`
	createdProjectJSON = `{"project":` + projectJSON + `,"connection_uris":[{"connection_uri":"postgresql://neondb_owner:pw@ep-a.us-east-2.aws.neon.tech/neondb?sslmode=require",` +
		`"connection_parameters":{"database":"neondb","password":"pw","role":"neondb_owner","host":"ep-a.us-east-2.aws.neon.tech","pooler_host":"ep-a-pooler.us-east-2.aws.neon.tech"}}],` +
		`"roles":[{"branch_id":"br-a","name":"neondb_owner","password":"pw","protected":false,"created_at":"2025-09-10T07:58:16Z","updated_at":"2025-09-10T07:58:16Z"}],` +
		`"databases":[{"id":1,"branch_id":"br-a","name":"neondb","owner_name":"neondb_owner","created_at":"2025-09-10T07:58:16Z","updated_at":"2025-09-10T07:58:16Z"}],` +
		`"operations":[` + operationJSON + `],"branch":` + branchJSON + `,"endpoints":[` + endpointJSON + `]}`
	orgJSON = `{"id":"org-royal-sun-91776391","name":"Personal","handle":"personal","plan":"free_v3",` +
		`"created_at":"2025-09-10T07:58:16Z","managed_by":"console","updated_at":"2025-09-10T07:58:16Z"}`
	userJSON = `{"active_seconds_limit":0,"auth_accounts":[],"email":"admin@example.com","id":"9a7ad2c4-8c4c-4e0f-a0d5-23a4c4f0c2a1",` +
		`"image":"","login":"","name":"Admin","last_name":"","projects_limit":100,"branches_limit":10,"max_autoscaling_limit":2,"plan":"free_v3"}`
)

// exchange is one expected request and the canned reply.
type exchange struct {
	method    string
	path      string // escaped path below the base URL
	query     string // encoded, sorted query
	body      string // expected JSON request body; "" means none
	status    int
	replyBody string
	skipSpec  bool // the exchange is deliberately outside the spec
}

// newServer starts a server that checks one request against want.
func newServer(t *testing.T, want exchange) *client.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != want.method {
			t.Errorf("method = %s, want %s", r.Method, want.method)
		}
		if got := strings.TrimPrefix(r.URL.EscapedPath(), "/api/v2"); got != want.path {
			t.Errorf("path = %s, want %s", got, want.path)
		}
		if got := r.URL.Query().Encode(); got != want.query {
			t.Errorf("query = %q, want %q", got, want.query)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
			t.Errorf("Authorization = %q", got)
		}
		if got := r.Header.Get("Accept"); got != "application/json" {
			t.Errorf("Accept = %q", got)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		checkJSONBody(t, r, body, want.body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Neon-Ret-Request-Id", "req-from-header")
		w.WriteHeader(want.status)
		_, _ = io.WriteString(w, want.replyBody)
	}))
	t.Cleanup(srv.Close)
	if !want.skipSpec && apispec.Available() {
		// The canned reply must itself be what the spec allows.
		hdr := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
		apispec.ValidateResponse(t, want.method, "/api/v2"+want.path, want.status, hdr, []byte(want.replyBody))
	}
	return client.New(srv.URL+"/api/v2/", testKey, client.WithHTTPClient(srv.Client()))
}

func checkJSONBody(t *testing.T, r *http.Request, got []byte, want string) {
	t.Helper()
	if want == "" {
		if len(got) != 0 {
			t.Errorf("unexpected request body %s", got)
		}
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("request body %s: %v", got, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad test body %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("request body = %s, want %s", got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func TestMethods(t *testing.T) {
	const p = "/projects/cold-bonus-61650555"
	tests := []struct {
		name  string
		want  exchange
		call  func(ctx context.Context, c *client.Client) (any, error)
		check func(t *testing.T, got any)
	}{
		{
			name: "create project",
			want: exchange{method: "POST", path: "/projects", status: 201, replyBody: createdProjectJSON,
				body: `{"project":{"name":"myproject","pg_version":17,"branch":{"database_name":"app"},"default_endpoint_settings":{"autoscaling_limit_min_cu":0.25,"suspend_timeout_seconds":0}}}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.CreateProject(ctx, apitypes.ProjectCreateRequest{Project: apitypes.ProjectCreate{
					Name:      "myproject",
					PgVersion: 17,
					Branch:    &apitypes.ProjectCreateBranch{DatabaseName: "app"},
					DefaultEndpointSettings: &apitypes.DefaultEndpointSettings{
						AutoscalingLimitMinCU: ptr(0.25),
						SuspendTimeoutSeconds: ptr[int64](0),
					},
				}})
			},
			check: func(t *testing.T, got any) {
				cp := got.(*apitypes.CreatedProject)
				if cp.Project.ID != "cold-bonus-61650555" || len(cp.Roles) != 1 || cp.Roles[0].Password != "pw" ||
					len(cp.Endpoints) != 1 || cp.Endpoints[0].Type != apitypes.EndpointTypeReadWrite ||
					cp.ConnectionURIs[0].ConnectionParameters.PoolerHost != "ep-a-pooler.us-east-2.aws.neon.tech" ||
					cp.Databases[0].ID != 1 || cp.Branch.Primary == nil || !*cp.Branch.Primary {
					t.Errorf("decoded %+v", cp)
				}
				if !cp.Project.ConsumptionPeriodStart.IsZero() {
					t.Errorf("consumption_period_start = %v, want zero", cp.Project.ConsumptionPeriodStart)
				}
			},
		},
		{
			name: "list projects with params",
			want: exchange{method: "GET", path: "/projects", query: "cursor=abc&limit=5&org_id=org-a&recoverable=true&search=my&timeout=1000",
				status: 200, replyBody: `{"projects":[],"applications":{},"integrations":{}}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListProjects(ctx, client.ListProjectsParams{Cursor: "abc", Limit: 5, Search: "my", OrgID: "org-a", TimeoutMs: 1000, Recoverable: true})
			},
			check: func(t *testing.T, got any) {
				r := got.(*apitypes.ProjectsResponse)
				if r.Projects == nil || len(r.Projects) != 0 || r.Pagination != nil {
					t.Errorf("decoded %+v", r)
				}
			},
		},
		{
			name: "list projects without params",
			want: exchange{method: "GET", path: "/projects", status: 200,
				replyBody: `{"projects":[],"pagination":{"cursor":"cold-bonus-61650555"},"applications":{},"integrations":{}}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListProjects(ctx, client.ListProjectsParams{})
			},
			check: func(t *testing.T, got any) {
				if r := got.(*apitypes.ProjectsResponse); r.Pagination == nil || r.Pagination.Cursor != "cold-bonus-61650555" {
					t.Errorf("decoded %+v", r)
				}
			},
		},
		{
			name: "get project",
			want: exchange{method: "GET", path: p, status: 200, replyBody: `{"project":` + projectJSON + `}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.GetProject(ctx, "cold-bonus-61650555")
			},
			check: func(t *testing.T, got any) {
				if pr := got.(*apitypes.Project); pr.Name != "myproject" || pr.PgVersion != 17 {
					t.Errorf("decoded %+v", pr)
				}
			},
		},
		{
			name: "path segments are escaped",
			want: exchange{method: "GET", path: "/projects/a%2Fb%3F", status: 200, skipSpec: true, replyBody: `{"project":` + projectJSON + `}`},
			call: func(ctx context.Context, c *client.Client) (any, error) { return c.GetProject(ctx, "a/b?") },
		},
		{
			name: "update project",
			want: exchange{method: "PATCH", path: p, status: 200, body: `{"project":{"history_retention_seconds":0}}`,
				replyBody: `{"project":` + projectJSON + `,"operations":[]}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.UpdateProject(ctx, "cold-bonus-61650555", apitypes.ProjectUpdateRequest{Project: apitypes.ProjectUpdate{HistoryRetentionSeconds: ptr[int32](0)}})
			},
		},
		{
			name: "delete project",
			want: exchange{method: "DELETE", path: p, status: 200, replyBody: `{"project":` + projectJSON + `}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.DeleteProject(ctx, "cold-bonus-61650555")
			},
			check: func(t *testing.T, got any) {
				if pr := got.(*apitypes.Project); pr.ID != "cold-bonus-61650555" {
					t.Errorf("decoded %+v", pr)
				}
			},
		},
		{
			name: "connection uri",
			want: exchange{method: "GET", path: p + "/connection_uri", status: 200,
				query:     "branch_id=br-a&database_name=neondb&endpoint_id=ep-a&pooled=true&role_name=neondb_owner",
				replyBody: `{"uri":"postgresql://neondb_owner:pw@ep-a-pooler.us-east-2.aws.neon.tech/neondb?channel_binding=require&sslmode=require"}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ConnectionURI(ctx, "cold-bonus-61650555", client.ConnectionURIParams{
					BranchID: "br-a", EndpointID: "ep-a", DatabaseName: "neondb", RoleName: "neondb_owner", Pooled: true,
				})
			},
			check: func(t *testing.T, got any) {
				if got.(string) != "postgresql://neondb_owner:pw@ep-a-pooler.us-east-2.aws.neon.tech/neondb?channel_binding=require&sslmode=require" {
					t.Errorf("uri = %v", got)
				}
			},
		},
		{
			name: "connection uri minimal",
			want: exchange{method: "GET", path: p + "/connection_uri", status: 200,
				query: "database_name=neondb&role_name=neondb_owner", replyBody: `{"uri":"postgresql://x"}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ConnectionURI(ctx, "cold-bonus-61650555", client.ConnectionURIParams{DatabaseName: "neondb", RoleName: "neondb_owner"})
			},
		},
		{
			name: "list endpoints",
			want: exchange{method: "GET", path: p + "/endpoints", status: 200, replyBody: `{"endpoints":[` + endpointJSON + `]}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListEndpoints(ctx, "cold-bonus-61650555")
			},
			check: func(t *testing.T, got any) {
				if eps := got.([]apitypes.Endpoint); len(eps) != 1 || eps[0].ID != "ep-a" {
					t.Errorf("decoded %+v", eps)
				}
			},
		},
		{
			name: "create endpoint",
			want: exchange{method: "POST", path: p + "/endpoints", status: 201,
				body:      `{"endpoint":{"branch_id":"br-a","type":"read_only","suspend_timeout_seconds":-1}}`,
				replyBody: `{"endpoint":` + endpointJSON + `,"operations":[` + operationJSON + `]}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.CreateEndpoint(ctx, "cold-bonus-61650555", apitypes.EndpointCreateRequest{Endpoint: apitypes.EndpointCreate{
					BranchID: "br-a", Type: apitypes.EndpointTypeReadOnly, SuspendTimeoutSeconds: ptr[int64](-1),
				}})
			},
		},
		{
			name: "get endpoint",
			want: exchange{method: "GET", path: p + "/endpoints/ep-a", status: 200, replyBody: `{"endpoint":` + endpointJSON + `}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.GetEndpoint(ctx, "cold-bonus-61650555", "ep-a")
			},
			check: func(t *testing.T, got any) {
				ep := got.(*apitypes.Endpoint)
				if ep.CurrentState != apitypes.EndpointStateIdle || ep.AutoscalingLimitMinCU != 0.25 || !ep.PasswordlessAccess {
					t.Errorf("decoded %+v", ep)
				}
			},
		},
		{
			name: "update endpoint",
			want: exchange{method: "PATCH", path: p + "/endpoints/ep-a", status: 200,
				body:      `{"endpoint":{"autoscaling_limit_max_cu":4,"disabled":false}}`,
				replyBody: `{"endpoint":` + endpointJSON + `,"operations":[]}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.UpdateEndpoint(ctx, "cold-bonus-61650555", "ep-a", apitypes.EndpointUpdateRequest{Endpoint: apitypes.EndpointUpdate{
					AutoscalingLimitMaxCU: ptr(4.0), Disabled: ptr(false),
				}})
			},
		},
		{
			name: "delete endpoint",
			want: exchange{method: "DELETE", path: p + "/endpoints/ep-a", status: 200, replyBody: `{"endpoint":` + endpointJSON + `,"operations":[]}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.DeleteEndpoint(ctx, "cold-bonus-61650555", "ep-a")
			},
			check: func(t *testing.T, got any) {
				if r := got.(*apitypes.EndpointOperations); r == nil || r.Endpoint.ID != "ep-a" {
					t.Errorf("decoded %+v", r)
				}
			},
		},
		{
			name: "delete endpoint already gone",
			want: exchange{method: "DELETE", path: p + "/endpoints/ep-a", status: 204},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.DeleteEndpoint(ctx, "cold-bonus-61650555", "ep-a")
			},
			check: func(t *testing.T, got any) {
				if r := got.(*apitypes.EndpointOperations); r != nil {
					t.Errorf("got %+v, want nil", r)
				}
			},
		},
		{
			name: "start endpoint",
			want: exchange{method: "POST", path: p + "/endpoints/ep-a/start", status: 200,
				replyBody: `{"endpoint":` + endpointJSON + `,"operations":[` + operationJSON + `]}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.StartEndpoint(ctx, "cold-bonus-61650555", "ep-a")
			},
			check: func(t *testing.T, got any) {
				r := got.(*apitypes.EndpointOperations)
				if r.Endpoint.PendingState != apitypes.EndpointStateActive || len(r.Operations) != 1 ||
					r.Operations[0].Action != apitypes.OperationActionStartCompute {
					t.Errorf("decoded %+v", r)
				}
			},
		},
		{
			name: "suspend endpoint",
			want: exchange{method: "POST", path: p + "/endpoints/ep-a/suspend", status: 200,
				replyBody: `{"endpoint":` + endpointJSON + `,"operations":[]}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.SuspendEndpoint(ctx, "cold-bonus-61650555", "ep-a")
			},
		},
		{
			name: "restart endpoint",
			want: exchange{method: "POST", path: p + "/endpoints/ep-a/restart", status: 200,
				replyBody: `{"endpoint":` + endpointJSON + `,"operations":[]}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.RestartEndpoint(ctx, "cold-bonus-61650555", "ep-a")
			},
		},
		{
			name: "get operation",
			want: exchange{method: "GET", path: p + "/operations/d8ac46eb-a757-42b1-9907-f78322ee394e", status: 200,
				replyBody: `{"operation":` + operationJSON + `}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.GetOperation(ctx, "cold-bonus-61650555", "d8ac46eb-a757-42b1-9907-f78322ee394e")
			},
			check: func(t *testing.T, got any) {
				if op := got.(*apitypes.Operation); op.Status != apitypes.OperationStatusRunning || op.Status.Terminal() {
					t.Errorf("decoded %+v", op)
				}
			},
		},
		{
			name: "list operations",
			want: exchange{method: "GET", path: p + "/operations", query: "cursor=2025-01-16T21%3A02%3A04.214837Z&limit=50", status: 200,
				replyBody: `{"operations":[` + operationJSON + `],"pagination":{"cursor":"2025-09-10T07:58:16.000001Z"}}`},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListOperations(ctx, "cold-bonus-61650555", client.ListOperationsParams{Cursor: "2025-01-16T21:02:04.214837Z", Limit: 50})
			},
			check: func(t *testing.T, got any) {
				r := got.(*apitypes.OperationsResponse)
				if len(r.Operations) != 1 || r.Pagination == nil || r.Pagination.Cursor != "2025-09-10T07:58:16.000001Z" {
					t.Errorf("decoded %+v", r)
				}
			},
		},
		{
			name: "current user",
			want: exchange{method: "GET", path: "/users/me", status: 200, replyBody: userJSON},
			call: func(ctx context.Context, c *client.Client) (any, error) { return c.CurrentUser(ctx) },
			check: func(t *testing.T, got any) {
				if u := got.(*apitypes.CurrentUserInfoResponse); u.Email != "admin@example.com" || u.MaxAutoscalingLimit != 2 {
					t.Errorf("decoded %+v", u)
				}
			},
		},
		{
			name: "user organizations",
			want: exchange{method: "GET", path: "/users/me/organizations", status: 200, replyBody: `{"organizations":[` + orgJSON + `]}`},
			call: func(ctx context.Context, c *client.Client) (any, error) { return c.ListUserOrganizations(ctx) },
			check: func(t *testing.T, got any) {
				if orgs := got.([]apitypes.Organization); len(orgs) != 1 || orgs[0].ID != "org-royal-sun-91776391" {
					t.Errorf("decoded %+v", orgs)
				}
			},
		},
		{
			name: "regions",
			want: exchange{method: "GET", path: "/regions", query: "org_id=org-a", status: 200,
				replyBody: `{"regions":[{"region_id":"aws-us-east-2","name":"AWS US East 2 (Ohio)","default":true,"geo_lat":"39.96","geo_long":"-82.99"}]}`},
			call: func(ctx context.Context, c *client.Client) (any, error) { return c.ListRegions(ctx, "org-a") },
			check: func(t *testing.T, got any) {
				if rs := got.([]apitypes.RegionResponse); len(rs) != 1 || !rs[0].Default {
					t.Errorf("decoded %+v", rs)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newServer(t, tt.want)
			got, err := tt.call(t.Context(), c)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		reply      string
		want       apitypes.GeneralError
		wantString string
	}{
		{
			name:   "locked",
			status: http.StatusLocked,
			reply:  `{"code":"","message":"project already has running conflicting operations, scheduling of new ones is prohibited","request_id":"abc"}`,
			want: apitypes.GeneralError{
				Message:   "project already has running conflicting operations, scheduling of new ones is prohibited",
				RequestID: "abc",
			},
			wantString: "api error 423 Locked: project already has running conflicting operations, scheduling of new ones is prohibited (request id abc)",
		},
		{
			name:       "not found with code, request id from header",
			status:     http.StatusNotFound,
			reply:      `{"code":"NOT_FOUND","message":"project not found"}`,
			want:       apitypes.GeneralError{Code: "NOT_FOUND", Message: "project not found", RequestID: "req-from-header"},
			wantString: "api error 404 Not Found [NOT_FOUND]: project not found (request id req-from-header)",
		},
		{
			name:       "non-json body",
			status:     http.StatusBadGateway,
			reply:      "upstream unavailable\n",
			want:       apitypes.GeneralError{Message: "upstream unavailable", RequestID: "req-from-header"},
			wantString: "api error 502 Bad Gateway: upstream unavailable (request id req-from-header)",
		},
		{
			name:   "empty body",
			status: http.StatusUnauthorized,
			want:   apitypes.GeneralError{RequestID: "req-from-header"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newServer(t, exchange{method: "POST", path: "/projects/p-1/endpoints/ep-1/suspend", status: tt.status, replyBody: tt.reply, skipSpec: true})
			_, err := c.SuspendEndpoint(t.Context(), "p-1", "ep-1")
			var apiErr *client.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T) is not a *client.Error", err, err)
			}
			if apiErr.Status != tt.status || apiErr.Body != tt.want {
				t.Errorf("got %d %+v, want %d %+v", apiErr.Status, apiErr.Body, tt.status, tt.want)
			}
			if tt.wantString != "" && err.Error() != tt.wantString {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.wantString)
			}
			if got := client.StatusCode(err); got != tt.status {
				t.Errorf("StatusCode = %d, want %d", got, tt.status)
			}
		})
	}
}

func TestTransportAndDecodeErrors(t *testing.T) {
	t.Run("bad json reply", func(t *testing.T) {
		c := newServer(t, exchange{method: "GET", path: "/users/me", status: 200, replyBody: `{"email":`, skipSpec: true})
		_, err := c.CurrentUser(t.Context())
		if err == nil || client.StatusCode(err) != 0 || !strings.Contains(err.Error(), "decode 200 response") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("canceled context", func(t *testing.T) {
		c := client.New("http://127.0.0.1:1/api/v2", testKey)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := c.CurrentUser(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

func TestNoAPIKey(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get("Authorization"); h != "" {
			t.Errorf("Authorization = %q, want none", h)
		}
		if ua := r.Header.Get("User-Agent"); ua != "grove-test" {
			t.Errorf("User-Agent = %q", ua)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"organizations":[]}`)
	}))
	t.Cleanup(srv.Close)
	c := client.New(srv.URL, "", client.WithUserAgent("grove-test"))
	if _, err := c.ListUserOrganizations(t.Context()); err != nil {
		t.Fatal(err)
	}
}
