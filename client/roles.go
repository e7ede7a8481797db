package client

import (
	"context"
	"net/http"

	"github.com/grovedb/grove/apitypes"
)

func branchResourcePath(projectID, branchID string) string {
	return "/projects/" + seg(projectID) + "/branches/" + seg(branchID)
}

// ListDatabases returns a branch's databases (GET
// /projects/{project_id}/branches/{branch_id}/databases).
func (c *Client) ListDatabases(ctx context.Context, projectID, branchID string) ([]apitypes.Database, error) {
	var out apitypes.DatabasesResponse
	if err := c.do(ctx, http.MethodGet, branchResourcePath(projectID, branchID)+"/databases", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Databases, nil
}

// CreateDatabase makes a database (POST …/branches/{branch_id}/databases).
func (c *Client) CreateDatabase(ctx context.Context, projectID, branchID string, req apitypes.DatabaseCreateRequest) (*apitypes.DatabaseOperations, error) {
	var out apitypes.DatabaseOperations
	if err := c.do(ctx, http.MethodPost, branchResourcePath(projectID, branchID)+"/databases", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetDatabase returns a database (GET …/databases/{database_name}).
func (c *Client) GetDatabase(ctx context.Context, projectID, branchID, name string) (*apitypes.Database, error) {
	var out apitypes.DatabaseResponse
	if err := c.do(ctx, http.MethodGet, branchResourcePath(projectID, branchID)+"/databases/"+seg(name), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out.Database, nil
}

// UpdateDatabase renames a database and/or changes its owner (PATCH
// …/databases/{database_name}).
func (c *Client) UpdateDatabase(ctx context.Context, projectID, branchID, name string, req apitypes.DatabaseUpdateRequest) (*apitypes.DatabaseOperations, error) {
	var out apitypes.DatabaseOperations
	if err := c.do(ctx, http.MethodPatch, branchResourcePath(projectID, branchID)+"/databases/"+seg(name), nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteDatabase drops a database (DELETE …/databases/{database_name}).
// When there was no such database the server answers 204 and the result is
// nil, nil.
func (c *Client) DeleteDatabase(ctx context.Context, projectID, branchID, name string) (*apitypes.DatabaseOperations, error) {
	var out *apitypes.DatabaseOperations
	if err := c.do(ctx, http.MethodDelete, branchResourcePath(projectID, branchID)+"/databases/"+seg(name), nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ListRoles returns a branch's roles, without passwords (GET
// …/branches/{branch_id}/roles).
func (c *Client) ListRoles(ctx context.Context, projectID, branchID string) ([]apitypes.Role, error) {
	var out apitypes.RolesResponse
	if err := c.do(ctx, http.MethodGet, branchResourcePath(projectID, branchID)+"/roles", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Roles, nil
}

// CreateRole makes a role; the answer carries its password (POST
// …/branches/{branch_id}/roles).
func (c *Client) CreateRole(ctx context.Context, projectID, branchID string, req apitypes.RoleCreateRequest) (*apitypes.RoleOperations, error) {
	var out apitypes.RoleOperations
	if err := c.do(ctx, http.MethodPost, branchResourcePath(projectID, branchID)+"/roles", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetRole returns a role, without its password (GET …/roles/{role_name}).
func (c *Client) GetRole(ctx context.Context, projectID, branchID, name string) (*apitypes.Role, error) {
	var out apitypes.RoleResponse
	if err := c.do(ctx, http.MethodGet, branchResourcePath(projectID, branchID)+"/roles/"+seg(name), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out.Role, nil
}

// DeleteRole drops a role (DELETE …/roles/{role_name}). When there was no
// such role the server answers 204 and the result is nil, nil.
func (c *Client) DeleteRole(ctx context.Context, projectID, branchID, name string) (*apitypes.RoleOperations, error) {
	var out *apitypes.RoleOperations
	if err := c.do(ctx, http.MethodDelete, branchResourcePath(projectID, branchID)+"/roles/"+seg(name), nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ResetRolePassword gives a role a new password, returned in the answer
// (POST …/roles/{role_name}/reset_password).
func (c *Client) ResetRolePassword(ctx context.Context, projectID, branchID, name string) (*apitypes.RoleOperations, error) {
	var out apitypes.RoleOperations
	if err := c.do(ctx, http.MethodPost, branchResourcePath(projectID, branchID)+"/roles/"+seg(name)+"/reset_password", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevealRolePassword returns a role's stored password (GET
// …/roles/{role_name}/reveal_password); 412 when the project does not
// store passwords.
func (c *Client) RevealRolePassword(ctx context.Context, projectID, branchID, name string) (string, error) {
	var out apitypes.RolePasswordResponse
	if err := c.do(ctx, http.MethodGet, branchResourcePath(projectID, branchID)+"/roles/"+seg(name)+"/reveal_password", nil, nil, &out); err != nil {
		return "", err
	}
	return out.Password, nil
}
