package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/grovedb/grove/apitypes"
)

// LimitsError is a refused transfer (406): the destination organization's
// limits the projects would break. It unwraps to the *Error.
type LimitsError struct {
	API    *Error
	Limits []apitypes.UnsatisfiedLimit
}

func (e *LimitsError) Error() string { return e.API.Error() }

// Unwrap returns the API error.
func (e *LimitsError) Unwrap() error { return e.API }

// TransferProjects moves projects from one organization to another, all
// or none (POST /organizations/{source_org_id}/projects/transfer). A 406
// is returned as *LimitsError.
func (c *Client) TransferProjects(ctx context.Context, sourceOrgID string, req apitypes.TransferProjectsToOrganizationRequest) error {
	return c.transfer(ctx, "/organizations/"+seg(sourceOrgID)+"/projects/transfer", req)
}

// TransferMyProjects is the deprecated POST /users/me/projects/transfer.
func (c *Client) TransferMyProjects(ctx context.Context, req apitypes.TransferProjectsToOrganizationRequest) error {
	return c.transfer(ctx, "/users/me/projects/transfer", req)
}

func (c *Client) transfer(ctx context.Context, path string, req apitypes.TransferProjectsToOrganizationRequest) error {
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("POST %s: encode request: %w", path, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("Content-Type", "application/json")
	if c.apiKey != "" {
		hr.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	if c.userAgent != "" {
		hr.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	apiErr := decodeError(resp).(*Error)
	if resp.StatusCode != http.StatusNotAcceptable {
		return apiErr
	}
	var body apitypes.LimitsUnsatisfiedResponse
	_ = json.Unmarshal(raw, &body)
	return &LimitsError{API: apiErr, Limits: body.Limits}
}

// ListPlans returns the plans (Grove extension GET /api/v2/admin/plans;
// the admin's personal key only).
func (c *Client) ListPlans(ctx context.Context) ([]apitypes.Plan, error) {
	var out apitypes.PlansResponse
	if err := c.do(ctx, http.MethodGet, "/admin/plans", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Plans, nil
}

// UpdatePlan changes or creates a plan (Grove extension PATCH
// /api/v2/admin/plans/{plan_name}; the admin's personal key only).
func (c *Client) UpdatePlan(ctx context.Context, name string, req apitypes.PlanUpdate) (*apitypes.Plan, error) {
	var out apitypes.PlanResponse
	if err := c.do(ctx, http.MethodPatch, "/admin/plans/"+seg(name), nil, apitypes.PlanUpdateRequest{Plan: req}, &out); err != nil {
		return nil, err
	}
	return &out.Plan, nil
}
