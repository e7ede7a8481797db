package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/grovedb/grove/apitypes"
)

// ListAPIKeys returns the personal API keys of the current user, without
// their secrets (GET /api_keys).
func (c *Client) ListAPIKeys(ctx context.Context) ([]apitypes.ApiKeysListResponseItem, error) {
	var out []apitypes.ApiKeysListResponseItem
	if err := c.do(ctx, http.MethodGet, "/api_keys", nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateAPIKey makes a personal API key (POST /api_keys); its secret, Key,
// is returned only here.
func (c *Client) CreateAPIKey(ctx context.Context, req apitypes.ApiKeyCreateRequest) (*apitypes.ApiKeyCreateResponse, error) {
	var out apitypes.ApiKeyCreateResponse
	if err := c.do(ctx, http.MethodPost, "/api_keys", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeAPIKey revokes a personal API key (DELETE /api_keys/{key_id}).
func (c *Client) RevokeAPIKey(ctx context.Context, keyID int64) (*apitypes.ApiKeyRevokeResponse, error) {
	var out apitypes.ApiKeyRevokeResponse
	if err := c.do(ctx, http.MethodDelete, "/api_keys/"+strconv.FormatInt(keyID, 10), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListOrgAPIKeys returns an organization's API keys, project-scoped ones
// included (GET /organizations/{org_id}/api_keys).
func (c *Client) ListOrgAPIKeys(ctx context.Context, orgID string) ([]apitypes.OrgApiKeysListResponseItem, error) {
	var out []apitypes.OrgApiKeysListResponseItem
	if err := c.do(ctx, http.MethodGet, "/organizations/"+seg(orgID)+"/api_keys", nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateOrgAPIKey makes an organization API key, project-scoped when
// req.ProjectID is set (POST /organizations/{org_id}/api_keys).
func (c *Client) CreateOrgAPIKey(ctx context.Context, orgID string, req apitypes.OrgApiKeyCreateRequest) (*apitypes.OrgApiKeyCreateResponse, error) {
	var out apitypes.OrgApiKeyCreateResponse
	if err := c.do(ctx, http.MethodPost, "/organizations/"+seg(orgID)+"/api_keys", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeOrgAPIKey revokes an organization API key (DELETE
// /organizations/{org_id}/api_keys/{key_id}).
func (c *Client) RevokeOrgAPIKey(ctx context.Context, orgID string, keyID int64) (*apitypes.OrgApiKeyRevokeResponse, error) {
	var out apitypes.OrgApiKeyRevokeResponse
	path := "/organizations/" + seg(orgID) + "/api_keys/" + strconv.FormatInt(keyID, 10)
	if err := c.do(ctx, http.MethodDelete, path, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetOrganization returns an organization (GET /organizations/{org_id}).
func (c *Client) GetOrganization(ctx context.Context, orgID string) (*apitypes.Organization, error) {
	var out apitypes.Organization
	if err := c.do(ctx, http.MethodGet, "/organizations/"+seg(orgID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListMembersParams selects a page of members; zero values are Neon's
// defaults (joined_at, desc).
type ListMembersParams struct {
	SortBy    string // email, role or joined_at
	SortOrder string // asc or desc
	Cursor    string // Pagination.Next of the previous page
	Limit     int    // 1..500
}

func (p ListMembersParams) query() url.Values {
	q := url.Values{}
	if p.SortBy != "" {
		q.Set("sort_by", p.SortBy)
	}
	if p.SortOrder != "" {
		q.Set("sort_order", p.SortOrder)
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	return q
}

// ListOrganizationMembers returns a page of an organization's members (GET
// /organizations/{org_id}/members).
func (c *Client) ListOrganizationMembers(ctx context.Context, orgID string, p ListMembersParams) (*apitypes.OrganizationMembersResponse, error) {
	var out apitypes.OrganizationMembersResponse
	if err := c.do(ctx, http.MethodGet, "/organizations/"+seg(orgID)+"/members", p.query(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetOrganizationMember returns one member (GET
// /organizations/{org_id}/members/{member_id}).
func (c *Client) GetOrganizationMember(ctx context.Context, orgID, memberID string) (*apitypes.Member, error) {
	var out apitypes.Member
	if err := c.do(ctx, http.MethodGet, "/organizations/"+seg(orgID)+"/members/"+seg(memberID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AuthDetails reports how the request authenticated (GET /auth).
func (c *Client) AuthDetails(ctx context.Context) (*apitypes.AuthDetailsResponse, error) {
	var out apitypes.AuthDetailsResponse
	if err := c.do(ctx, http.MethodGet, "/auth", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
