package platform

import (
	"context"

	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/plans"
)

// Accounts is the platform's API keys, orgs and members (package
// accounts), which the API layer reaches through it.
func (p *Platform) Accounts() *accounts.Accounts { return p.accounts }

// UserInfo is the caller's user with the plan of the first org the caller
// reaches (an org key's own org).
type UserInfo struct {
	metastore.User
	Plan   string
	Limits plans.Plan
}

// Me returns the caller's user (accounts.Accounts.User) with its plan's
// limits.
func (p *Platform) Me(ctx context.Context, pr accounts.Principal) (UserInfo, error) {
	u, plan, err := p.accounts.User(ctx, pr)
	if err != nil {
		return UserInfo{}, err
	}
	limits, err := p.plan(ctx, plan)
	if err != nil {
		return UserInfo{}, err
	}
	return UserInfo{User: u, Plan: plan, Limits: limits}, nil
}

// CreateOrgKey makes an org API key, or a project-scoped one for a project
// of the org that the caller reaches.
func (p *Platform) CreateOrgKey(ctx context.Context, pr accounts.Principal, orgID string, in accounts.KeyInput) (accounts.CreatedKey, error) {
	return p.accounts.CreateOrgKey(ctx, pr, orgID, in, func(ctx context.Context, id string) (metastore.Project, error) {
		return p.GetProject(ctx, pr, id)
	})
}
