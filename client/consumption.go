package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/grovedb/grove/apitypes"
)

// ConsumptionParams are the query parameters of the consumption history
// calls; zero fields are not sent.
type ConsumptionParams struct {
	From, To    time.Time
	Granularity string // hourly | daily | monthly
	OrgID       string
	ProjectIDs  []string
	BranchIDs   []string // ConsumptionPerBranchV2 only
	Metrics     []string
	Cursor      string
	Limit       int
}

func (p ConsumptionParams) values() url.Values {
	q := url.Values{}
	if !p.From.IsZero() {
		q.Set("from", p.From.UTC().Format(time.RFC3339))
	}
	if !p.To.IsZero() {
		q.Set("to", p.To.UTC().Format(time.RFC3339))
	}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("granularity", p.Granularity)
	set("org_id", p.OrgID)
	set("project_ids", strings.Join(p.ProjectIDs, ","))
	set("branch_ids", strings.Join(p.BranchIDs, ","))
	set("metrics", strings.Join(p.Metrics, ","))
	set("cursor", p.Cursor)
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	return q
}

// ConsumptionPerProject returns consumption per project and timeframe (GET
// /consumption_history/projects). It does not wake computes.
func (c *Client) ConsumptionPerProject(ctx context.Context, p ConsumptionParams) (*apitypes.ConsumptionHistoryPerProjectResponse, error) {
	var out apitypes.ConsumptionHistoryPerProjectResponse
	if err := c.do(ctx, http.MethodGet, "/consumption_history/projects", p.values(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ConsumptionPerAccount returns the account's consumption per timeframe
// (GET /consumption_history/account, removed from Neon's spec in 2.7.3).
func (c *Client) ConsumptionPerAccount(ctx context.Context, p ConsumptionParams) (*apitypes.ConsumptionHistoryPerAccountResponse, error) {
	var out apitypes.ConsumptionHistoryPerAccountResponse
	if err := c.do(ctx, http.MethodGet, "/consumption_history/account", p.values(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ConsumptionPerProjectV2 returns usage-based metrics per project (GET
// /consumption_history/v2/projects).
func (c *Client) ConsumptionPerProjectV2(ctx context.Context, p ConsumptionParams) (*apitypes.ConsumptionHistoryPerProjectV2Response, error) {
	var out apitypes.ConsumptionHistoryPerProjectV2Response
	if err := c.do(ctx, http.MethodGet, "/consumption_history/v2/projects", p.values(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ConsumptionPerBranchV2 returns usage-based metrics per branch (GET
// /consumption_history/v2/branches).
func (c *Client) ConsumptionPerBranchV2(ctx context.Context, p ConsumptionParams) (*apitypes.ConsumptionHistoryPerBranchV2Response, error) {
	var out apitypes.ConsumptionHistoryPerBranchV2Response
	if err := c.do(ctx, http.MethodGet, "/consumption_history/v2/branches", p.values(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
