package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/grovedb/grove/apitypes"
)

func branchPath(projectID, branchID string) string {
	return "/projects/" + seg(projectID) + "/branches/" + seg(branchID)
}

// ListBranchesParams are the query parameters of [Client.ListBranches];
// zero fields are not sent.
type ListBranchesParams struct {
	Search    string // part of a branch name or id
	SortBy    string // name, created_at or updated_at (server default)
	SortOrder string // asc or desc (server default)
	Cursor    string // Pagination.Next of the previous page
	Limit     int    // 1..10000
}

// ListBranches lists a project's branches (GET
// /projects/{project_id}/branches). The next page, if any, starts at the
// returned Pagination.Next.
func (c *Client) ListBranches(ctx context.Context, projectID string, p ListBranchesParams) (*apitypes.BranchesResponse, error) {
	q := url.Values{}
	for k, v := range map[string]string{"search": p.Search, "sort_by": p.SortBy, "sort_order": p.SortOrder, "cursor": p.Cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	var out apitypes.BranchesResponse
	if err := c.do(ctx, http.MethodGet, "/projects/"+seg(projectID)+"/branches", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CountBranches counts a project's branches matching search (GET
// /projects/{project_id}/branches/count).
func (c *Client) CountBranches(ctx context.Context, projectID, search string) (int, error) {
	q := url.Values{}
	if search != "" {
		q.Set("search", search)
	}
	var out apitypes.BranchesCountResponse
	if err := c.do(ctx, http.MethodGet, "/projects/"+seg(projectID)+"/branches/count", q, nil, &out); err != nil {
		return 0, err
	}
	return out.Count, nil
}

// GetBranch returns a branch with its annotation (GET
// /projects/{project_id}/branches/{branch_id}).
func (c *Client) GetBranch(ctx context.Context, projectID, branchID string) (*apitypes.BranchGetResponse, error) {
	var out apitypes.BranchGetResponse
	if err := c.do(ctx, http.MethodGet, branchPath(projectID, branchID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateBranch renames a branch or changes its protection (PATCH
// /projects/{project_id}/branches/{branch_id}).
func (c *Client) UpdateBranch(ctx context.Context, projectID, branchID string, req apitypes.BranchUpdateRequest) (*apitypes.BranchOperations, error) {
	var out apitypes.BranchOperations
	if err := c.do(ctx, http.MethodPatch, branchPath(projectID, branchID), nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetDefaultBranch makes a branch the project's default (POST
// …/branches/{branch_id}/set_as_default).
func (c *Client) SetDefaultBranch(ctx context.Context, projectID, branchID string) (*apitypes.BranchOperations, error) {
	var out apitypes.BranchOperations
	if err := c.do(ctx, http.MethodPost, branchPath(projectID, branchID)+"/set_as_default", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListBranchEndpoints lists a branch's endpoints (GET
// …/branches/{branch_id}/endpoints).
func (c *Client) ListBranchEndpoints(ctx context.Context, projectID, branchID string) ([]apitypes.Endpoint, error) {
	var out apitypes.EndpointsResponse
	if err := c.do(ctx, http.MethodGet, branchPath(projectID, branchID)+"/endpoints", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Endpoints, nil
}

// CreateBranch creates a branch (POST /projects/{project_id}/branches); a
// nil request branches the default branch at its head, with no endpoint.
func (c *Client) CreateBranch(ctx context.Context, projectID string, req *apitypes.BranchCreateRequest) (*apitypes.CreatedBranch, error) {
	var out apitypes.CreatedBranch
	var in any
	if req != nil {
		in = req
	}
	if err := c.do(ctx, http.MethodPost, "/projects/"+seg(projectID)+"/branches", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteBranch deletes a branch (DELETE
// /projects/{project_id}/branches/{branch_id}). A branch already gone is
// not an error (nil response).
func (c *Client) DeleteBranch(ctx context.Context, projectID, branchID string) (*apitypes.BranchOperations, error) {
	var out apitypes.BranchOperations
	if err := c.do(ctx, http.MethodDelete, branchPath(projectID, branchID), nil, nil, &out); err != nil {
		return nil, err
	}
	if out.Branch.ID == "" {
		return nil, nil
	}
	return &out, nil
}

// RestoreBranch restores a branch from another branch or a point in
// history (POST …/branches/{branch_id}/restore).
func (c *Client) RestoreBranch(ctx context.Context, projectID, branchID string, req apitypes.BranchRestoreRequest) (*apitypes.BranchOperations, error) {
	var out apitypes.BranchOperations
	if err := c.do(ctx, http.MethodPost, branchPath(projectID, branchID)+"/restore", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// FinalizeRestore makes a branch restored from a snapshot take its
// target's place (POST …/branches/{branch_id}/finalize_restore); name, if
// not empty, is the replaced branch's new name.
func (c *Client) FinalizeRestore(ctx context.Context, projectID, branchID, name string) ([]apitypes.Operation, error) {
	var out apitypes.OperationsResponse
	if err := c.do(ctx, http.MethodPost, branchPath(projectID, branchID)+"/finalize_restore", nil,
		apitypes.FinalizeRestoreRequest{Name: name}, &out); err != nil {
		return nil, err
	}
	return out.Operations, nil
}
