package apitypes_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/apispec"
)

// TestResponsesMatchSpec marshals a realistic value of each response type and
// validates it against the schema of the operation that returns it.
func TestResponsesMatchSpec(t *testing.T) {
	apispec.Load(t)
	p := "/api/v2/projects/cold-bonus-61650555"
	ep := p + "/endpoints/ep-delicate-glitter-a53ow19g"
	br := p + "/branches/br-raspy-sound-a54diuwm"
	cursor := "cold-bonus-61650555"
	tests := []struct {
		name   string
		method string
		path   string
		status int
		body   any
	}{
		{"create project", http.MethodPost, "/api/v2/projects", http.StatusCreated, sampleCreatedProject()},
		{"get project", http.MethodGet, p, http.StatusOK, apitypes.ProjectResponse{Project: sampleProjectWithOwner()}},
		{"delete project", http.MethodDelete, p, http.StatusOK, apitypes.ProjectResponse{Project: sampleProject()}},
		{"update project", http.MethodPatch, p, http.StatusOK, apitypes.ProjectOperations{Project: sampleProject()}},
		{"list projects", http.MethodGet, "/api/v2/projects?limit=1", http.StatusOK, apitypes.ProjectsResponse{
			Projects:   []apitypes.ProjectListItem{sampleListItem()},
			Pagination: &apitypes.Pagination{Cursor: cursor},
		}},
		{"list projects empty", http.MethodGet, "/api/v2/projects", http.StatusOK, apitypes.ProjectsResponse{}},
		{"connection uri", http.MethodGet, p + "/connection_uri?database_name=neondb&role_name=neondb_owner", http.StatusOK,
			apitypes.ConnectionURIResponse{URI: "postgresql://neondb_owner:npg_N67FDMtGvJke@ep-delicate-glitter-a53ow19g.c-2.us-east-2.aws.neon.tech/neondb?channel_binding=require&sslmode=require"}},
		{"get endpoint", http.MethodGet, ep, http.StatusOK, apitypes.EndpointResponse{Endpoint: sampleEndpoint()}},
		{"list endpoints", http.MethodGet, p + "/endpoints", http.StatusOK, apitypes.EndpointsResponse{Endpoints: []apitypes.Endpoint{sampleEndpoint()}}},
		{"list endpoints empty", http.MethodGet, p + "/endpoints", http.StatusOK, apitypes.EndpointsResponse{}},
		{"start endpoint", http.MethodPost, ep + "/start", http.StatusOK, apitypes.EndpointOperations{
			Endpoint:   sampleEndpoint(),
			Operations: []apitypes.Operation{sampleOperation(apitypes.OperationActionStartCompute, apitypes.OperationStatusRunning)},
		}},
		{"suspend endpoint", http.MethodPost, ep + "/suspend", http.StatusOK, apitypes.EndpointOperations{Endpoint: sampleEndpoint()}},
		{"create endpoint", http.MethodPost, p + "/endpoints", http.StatusCreated, apitypes.EndpointOperations{Endpoint: sampleEndpoint()}},
		{"get branch", http.MethodGet, br, http.StatusOK, struct {
			apitypes.BranchResponse
			Annotation apitypes.AnnotationData `json:"annotation"`
		}{
			BranchResponse: apitypes.BranchResponse{Branch: sampleBranch()},
			Annotation: apitypes.AnnotationData{
				Object: apitypes.AnnotationObject{Type: "console/branch", ID: "br-raspy-sound-a54diuwm"},
				Value:  map[string]string{},
			},
		}},
		{"list branches", http.MethodGet, p + "/branches", http.StatusOK, apitypes.BranchesResponse{
			Branches:    []apitypes.Branch{sampleBranch()},
			Annotations: map[string]apitypes.AnnotationData{},
			Pagination:  &apitypes.CursorPagination{SortBy: "updated_at", SortOrder: "DESC"},
		}},
		{"list roles", http.MethodGet, br + "/roles", http.StatusOK, apitypes.RolesResponse{Roles: []apitypes.Role{sampleRole("")}}},
		{"create role", http.MethodPost, br + "/roles", http.StatusCreated, apitypes.RoleOperations{Role: sampleRole("npg_N67FDMtGvJke")}},
		{"reveal password", http.MethodGet, br + "/roles/neondb_owner/reveal_password", http.StatusOK, apitypes.RolePasswordResponse{Password: "npg_N67FDMtGvJke"}},
		{"list databases", http.MethodGet, br + "/databases", http.StatusOK, apitypes.DatabasesResponse{Databases: []apitypes.Database{sampleDatabase()}}},
		{"get database", http.MethodGet, br + "/databases/neondb", http.StatusOK, apitypes.DatabaseResponse{Database: sampleDatabase()}},
		{"create database", http.MethodPost, br + "/databases", http.StatusCreated, apitypes.DatabaseOperations{Database: sampleDatabase()}},
		{"get operation", http.MethodGet, p + "/operations/d8ac46eb-a757-42b1-9907-f78322ee394e", http.StatusOK,
			apitypes.OperationResponse{Operation: sampleOperation(apitypes.OperationActionApplyConfig, apitypes.OperationStatusFinished)}},
		{"list operations", http.MethodGet, p + "/operations?limit=10", http.StatusOK, apitypes.OperationsResponse{
			Operations: []apitypes.Operation{sampleOperation(apitypes.OperationActionCreateTimeline, apitypes.OperationStatusFinished)},
			Pagination: &apitypes.Pagination{Cursor: "2025-01-16T21:02:04.214837Z"},
		}},
		{"failed operation", http.MethodGet, p + "/operations/d8ac46eb-a757-42b1-9907-f78322ee394e", http.StatusOK, apitypes.OperationResponse{Operation: func() apitypes.Operation {
			op := sampleOperation(apitypes.OperationActionStartCompute, apitypes.OperationStatusFailed)
			op.Error = "compute failed to start"
			op.FailuresCount = 3
			op.RetryAt = updated
			op.TotalDurationMs = 5120
			return op
		}()}},
		{"current user", http.MethodGet, "/api/v2/users/me", http.StatusOK, sampleCurrentUser()},
		{"user organizations", http.MethodGet, "/api/v2/users/me/organizations", http.StatusOK, apitypes.OrganizationsResponse{
			Organizations: []apitypes.Organization{sampleOrganization()},
		}},
		{"get organization", http.MethodGet, "/api/v2/organizations/org-royal-sun-91776391", http.StatusOK, sampleOrganization()},
		{"create api key", http.MethodPost, "/api/v2/api_keys", http.StatusOK, apitypes.ApiKeyCreateResponse{
			ID: 165434, Key: "napi_abc", Name: "mykey", CreatedAt: created, CreatedBy: "629982cc-de05-43db-ae16-28f2399c4910",
		}},
		{"list api keys", http.MethodGet, "/api/v2/api_keys", http.StatusOK, []apitypes.ApiKeysListResponseItem{
			{ID: 165432, Name: "never used", CreatedAt: created, CreatedBy: apitypes.ApiKeyCreatorData{ID: "629982cc-de05-43db-ae16-28f2399c4910", Name: "John Smith"}},
			{ID: 165433, Name: "used", CreatedAt: created, CreatedBy: apitypes.ApiKeyCreatorData{ID: "629982cc-de05-43db-ae16-28f2399c4910", Name: "John Smith"}, LastUsedAt: &updated, LastUsedFromAddr: "192.0.2.1"},
		}},
		{"revoke api key", http.MethodDelete, "/api/v2/api_keys/165434", http.StatusOK, apitypes.ApiKeyRevokeResponse{
			ID: 165434, Name: "mykey", CreatedAt: created, CreatedBy: "629982cc-de05-43db-ae16-28f2399c4910", Revoked: true,
		}},
		{"regions", http.MethodGet, "/api/v2/regions", http.StatusOK, apitypes.ActiveRegionsResponse{Regions: []apitypes.RegionResponse{
			{RegionID: "aws-us-east-2", Name: "AWS US East 2 (Ohio)", Default: true, GeoLat: "39.9612", GeoLong: "-82.9988"},
		}}},
		{"not found", http.MethodGet, p, http.StatusNotFound, apitypes.GeneralError{Message: "project not found"}},
		{"locked", http.MethodPost, ep + "/suspend", http.StatusLocked, apitypes.GeneralError{
			Message:   "project already has running conflicting operations, scheduling of new ones is prohibited",
			RequestID: "3f1b9a0e-5f63-4a8a-9d2f-6f1c1c7b2a11",
		}},
		{"bad request", http.MethodPost, "/api/v2/projects", http.StatusBadRequest, apitypes.GeneralError{
			Message: "invalid request: decode application/json: invalid: project (field required)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := json.Marshal(tt.body)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			apispec.ValidateResponse(t, tt.method, tt.path, tt.status, nil, body)
		})
	}
}
