package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/grovedb/grove/apitypes"
)

// CreateProject creates a project with its default branch, database, role
// and read-write endpoint (POST /projects).
func (c *Client) CreateProject(ctx context.Context, req apitypes.ProjectCreateRequest) (*apitypes.CreatedProject, error) {
	var out apitypes.CreatedProject
	if err := c.do(ctx, http.MethodPost, "/projects", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListProjectsParams are the query parameters of [Client.ListProjects]; zero
// fields are not sent.
type ListProjectsParams struct {
	Cursor      string // the pagination cursor of the previous page
	Limit       int    // 1..400; server default 10
	Search      string // partial project name or id
	OrgID       string
	TimeoutMs   int  // 100..30000
	Recoverable bool // only deleted projects still within the recovery window
}

func (p ListProjectsParams) query() url.Values {
	q := url.Values{}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Search != "" {
		q.Set("search", p.Search)
	}
	if p.OrgID != "" {
		q.Set("org_id", p.OrgID)
	}
	if p.TimeoutMs > 0 {
		q.Set("timeout", strconv.Itoa(p.TimeoutMs))
	}
	if p.Recoverable {
		q.Set("recoverable", "true")
	}
	return q
}

// ListProjects lists projects (GET /projects). The next page, if any, starts
// at the returned Pagination.Cursor.
func (c *Client) ListProjects(ctx context.Context, p ListProjectsParams) (*apitypes.ProjectsResponse, error) {
	var out apitypes.ProjectsResponse
	if err := c.do(ctx, http.MethodGet, "/projects", p.query(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetProject returns a project (GET /projects/{project_id}).
func (c *Client) GetProject(ctx context.Context, projectID string) (*apitypes.Project, error) {
	var out apitypes.ProjectResponse
	if err := c.do(ctx, http.MethodGet, "/projects/"+seg(projectID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out.Project, nil
}

// UpdateProject changes a project's name or settings (PATCH
// /projects/{project_id}).
func (c *Client) UpdateProject(ctx context.Context, projectID string, req apitypes.ProjectUpdateRequest) (*apitypes.ProjectOperations, error) {
	var out apitypes.ProjectOperations
	if err := c.do(ctx, http.MethodPatch, "/projects/"+seg(projectID), nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteProject deletes a project and returns it as it was (DELETE
// /projects/{project_id}).
func (c *Client) DeleteProject(ctx context.Context, projectID string) (*apitypes.Project, error) {
	var out apitypes.ProjectResponse
	if err := c.do(ctx, http.MethodDelete, "/projects/"+seg(projectID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out.Project, nil
}

// ConnectionURIParams are the query parameters of [Client.ConnectionURI].
// DatabaseName and RoleName are required; BranchID defaults to the default
// branch, EndpointID to the branch's read-write endpoint.
type ConnectionURIParams struct {
	BranchID     string
	EndpointID   string
	DatabaseName string
	RoleName     string
	Pooled       bool // connect through the pooler host
}

// ConnectionURI returns a postgresql:// connection URI, password included
// (GET /projects/{project_id}/connection_uri).
func (c *Client) ConnectionURI(ctx context.Context, projectID string, p ConnectionURIParams) (string, error) {
	q := url.Values{}
	if p.BranchID != "" {
		q.Set("branch_id", p.BranchID)
	}
	if p.EndpointID != "" {
		q.Set("endpoint_id", p.EndpointID)
	}
	q.Set("database_name", p.DatabaseName)
	q.Set("role_name", p.RoleName)
	if p.Pooled {
		q.Set("pooled", "true")
	}
	var out apitypes.ConnectionURIResponse
	if err := c.do(ctx, http.MethodGet, "/projects/"+seg(projectID)+"/connection_uri", q, nil, &out); err != nil {
		return "", err
	}
	return out.URI, nil
}

func endpointPath(projectID, endpointID string) string {
	return "/projects/" + seg(projectID) + "/endpoints/" + seg(endpointID)
}

// ListEndpoints lists a project's endpoints (GET
// /projects/{project_id}/endpoints).
func (c *Client) ListEndpoints(ctx context.Context, projectID string) ([]apitypes.Endpoint, error) {
	var out apitypes.EndpointsResponse
	if err := c.do(ctx, http.MethodGet, "/projects/"+seg(projectID)+"/endpoints", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Endpoints, nil
}

// CreateEndpoint creates an endpoint on a branch (POST
// /projects/{project_id}/endpoints).
func (c *Client) CreateEndpoint(ctx context.Context, projectID string, req apitypes.EndpointCreateRequest) (*apitypes.EndpointOperations, error) {
	var out apitypes.EndpointOperations
	if err := c.do(ctx, http.MethodPost, "/projects/"+seg(projectID)+"/endpoints", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetEndpoint returns an endpoint (GET
// /projects/{project_id}/endpoints/{endpoint_id}).
func (c *Client) GetEndpoint(ctx context.Context, projectID, endpointID string) (*apitypes.Endpoint, error) {
	var out apitypes.EndpointResponse
	if err := c.do(ctx, http.MethodGet, endpointPath(projectID, endpointID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out.Endpoint, nil
}

// UpdateEndpoint changes an endpoint (PATCH
// /projects/{project_id}/endpoints/{endpoint_id}).
func (c *Client) UpdateEndpoint(ctx context.Context, projectID, endpointID string, req apitypes.EndpointUpdateRequest) (*apitypes.EndpointOperations, error) {
	var out apitypes.EndpointOperations
	if err := c.do(ctx, http.MethodPatch, endpointPath(projectID, endpointID), nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteEndpoint deletes an endpoint (DELETE
// /projects/{project_id}/endpoints/{endpoint_id}). When the endpoint was
// already gone the server answers 204 and the result is nil, nil.
func (c *Client) DeleteEndpoint(ctx context.Context, projectID, endpointID string) (*apitypes.EndpointOperations, error) {
	var out *apitypes.EndpointOperations
	if err := c.do(ctx, http.MethodDelete, endpointPath(projectID, endpointID), nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// StartEndpoint starts an idle endpoint (POST …/endpoints/{endpoint_id}/start).
func (c *Client) StartEndpoint(ctx context.Context, projectID, endpointID string) (*apitypes.EndpointOperations, error) {
	return c.endpointAction(ctx, projectID, endpointID, "start")
}

// SuspendEndpoint suspends an endpoint (POST
// …/endpoints/{endpoint_id}/suspend).
func (c *Client) SuspendEndpoint(ctx context.Context, projectID, endpointID string) (*apitypes.EndpointOperations, error) {
	return c.endpointAction(ctx, projectID, endpointID, "suspend")
}

// RestartEndpoint restarts an endpoint (POST
// …/endpoints/{endpoint_id}/restart).
func (c *Client) RestartEndpoint(ctx context.Context, projectID, endpointID string) (*apitypes.EndpointOperations, error) {
	return c.endpointAction(ctx, projectID, endpointID, "restart")
}

func (c *Client) endpointAction(ctx context.Context, projectID, endpointID, action string) (*apitypes.EndpointOperations, error) {
	var out apitypes.EndpointOperations
	if err := c.do(ctx, http.MethodPost, endpointPath(projectID, endpointID)+"/"+action, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetOperation returns an operation (GET
// /projects/{project_id}/operations/{operation_id}).
func (c *Client) GetOperation(ctx context.Context, projectID, operationID string) (*apitypes.Operation, error) {
	var out apitypes.OperationResponse
	path := "/projects/" + seg(projectID) + "/operations/" + seg(operationID)
	if err := c.do(ctx, http.MethodGet, path, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out.Operation, nil
}

// ListOperationsParams are the query parameters of [Client.ListOperations];
// zero fields are not sent.
type ListOperationsParams struct {
	Cursor string // the pagination cursor of the previous page
	Limit  int    // 1..1000
}

// ListOperations lists a project's operations, newest first (GET
// /projects/{project_id}/operations).
func (c *Client) ListOperations(ctx context.Context, projectID string, p ListOperationsParams) (*apitypes.OperationsResponse, error) {
	q := url.Values{}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	var out apitypes.OperationsResponse
	if err := c.do(ctx, http.MethodGet, "/projects/"+seg(projectID)+"/operations", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CurrentUser returns the user the API key belongs to (GET /users/me).
func (c *Client) CurrentUser(ctx context.Context) (*apitypes.CurrentUserInfoResponse, error) {
	var out apitypes.CurrentUserInfoResponse
	if err := c.do(ctx, http.MethodGet, "/users/me", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListUserOrganizations returns the organizations of the current user (GET
// /users/me/organizations); for an organization key, only that organization.
func (c *Client) ListUserOrganizations(ctx context.Context) ([]apitypes.Organization, error) {
	var out apitypes.OrganizationsResponse
	if err := c.do(ctx, http.MethodGet, "/users/me/organizations", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Organizations, nil
}

// ListRegions returns the regions available for new projects (GET
// /regions), limited to those of orgID when it is not empty.
func (c *Client) ListRegions(ctx context.Context, orgID string) ([]apitypes.RegionResponse, error) {
	q := url.Values{}
	if orgID != "" {
		q.Set("org_id", orgID)
	}
	var out apitypes.ActiveRegionsResponse
	if err := c.do(ctx, http.MethodGet, "/regions", q, nil, &out); err != nil {
		return nil, err
	}
	return out.Regions, nil
}
