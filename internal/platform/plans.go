package platform

import (
	"context"
	"errors"
	"fmt"

	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/plans"
)

// Plans are data (the plans table): each org names its plan, and every
// create and update checks the plan's limits. The seeded plans mirror
// Neon's Agent plan orgs: "free" the sponsored org, "paid" the paid org.
// grove serve --plans upserts plans at start; the admin call (PATCH
// /api/v2/admin/plans/{name}, a Grove extension) changes one while Grove
// runs.

// plan returns a plan by name, from the cache.
func (p *Platform) plan(ctx context.Context, name string) (plans.Plan, error) {
	return p.plans.Get(ctx, name, p.store.Plans)
}

// orgPlan returns an org's plan.
func (p *Platform) orgPlan(ctx context.Context, orgID string) (plans.Plan, error) {
	o, err := p.store.GetOrg(ctx, orgID)
	if err != nil {
		return plans.Plan{}, wrapStore("organization", err)
	}
	return p.plan(ctx, o.Plan)
}

// projectPlan returns the plan of a project's org.
func (p *Platform) projectPlan(ctx context.Context, proj metastore.Project) (plans.Plan, error) {
	return p.orgPlan(ctx, proj.OrgID)
}

// OrgPlan returns the plan of an org the caller reaches.
func (p *Platform) OrgPlan(ctx context.Context, pr accounts.Principal, orgID string) (plans.Plan, error) {
	if !pr.CanOrg(orgID) {
		return plans.Plan{}, newErr(errkind.NotFound, "organization not found")
	}
	return p.orgPlan(ctx, orgID)
}

// checkProjectsLimit refuses a new project in a full org.
func (p *Platform) checkProjectsLimit(ctx context.Context, orgID string) error {
	pl, err := p.orgPlan(ctx, orgID)
	if err != nil {
		return err
	}
	n, err := p.store.OrgProjectCount(ctx, orgID)
	if err != nil {
		return err
	}
	if n >= pl.ProjectsPerOrg {
		return plans.ProjectsLimitError(pl.ProjectsPerOrg, n)
	}
	return nil
}

// Plans returns every plan.
func (p *Platform) Plans(ctx context.Context) ([]plans.Plan, error) {
	return p.store.Plans(ctx)
}

// ApplyPlans upserts plans from configuration (grove serve --plans).
func (p *Platform) ApplyPlans(ctx context.Context, patches map[string]plans.Patch) error {
	for name, pp := range patches {
		if _, err := p.setPlan(ctx, name, pp); err != nil {
			return fmt.Errorf("plan %s: %w", name, err)
		}
	}
	return nil
}

// SetPlan changes (or creates) a plan; only the admin's personal key may.
// The change applies to the next check, without a restart.
func (p *Platform) SetPlan(ctx context.Context, pr accounts.Principal, name string, pp plans.Patch) (plans.Plan, error) {
	if err := p.checkAdmin(ctx, pr); err != nil {
		return plans.Plan{}, err
	}
	return p.setPlan(ctx, name, pp)
}

// ListPlans returns every plan to the admin.
func (p *Platform) ListPlans(ctx context.Context, pr accounts.Principal) ([]plans.Plan, error) {
	if err := p.checkAdmin(ctx, pr); err != nil {
		return nil, err
	}
	return p.store.Plans(ctx)
}

func (p *Platform) setPlan(ctx context.Context, name string, pp plans.Patch) (plans.Plan, error) {
	p.plans.Invalidate()
	base, err := p.plan(ctx, name)
	if errors.Is(err, metastore.ErrNotFound) {
		base, err = p.plan(ctx, "free")
		base.Name = name
	}
	if err != nil {
		return plans.Plan{}, err
	}
	pl := pp.Apply(base)
	if err := plans.Validate(pl); err != nil {
		return plans.Plan{}, err
	}
	out, err := p.store.UpsertPlan(ctx, pl)
	p.plans.Invalidate()
	if err != nil {
		return plans.Plan{}, err
	}
	return out, nil
}

// checkAdmin admits the personal keys of the admin (the user made at the
// first start) only.
func (p *Platform) checkAdmin(ctx context.Context, pr accounts.Principal) error {
	admin, err := p.accounts.IsAdmin(ctx, pr)
	if err != nil {
		return err
	}
	if !admin {
		return newErr(errkind.Forbidden, "plans can be changed only with the admin's personal API key")
	}
	return nil
}

// checkProjectPlan runs check on the plan of a project's org.
func (p *Platform) checkProjectPlan(ctx context.Context, proj metastore.Project, check func(plans.Plan) error) error {
	pl, err := p.projectPlan(ctx, proj)
	if err != nil {
		return err
	}
	return check(pl)
}

// checkEndpointPlan checks the changed parts of an endpoint (its size,
// its suspend timeout) against its project's plan.
func (p *Platform) checkEndpointPlan(ctx context.Context, e metastore.Endpoint, size, suspend bool) error {
	proj, err := p.store.GetProject(ctx, e.ProjectID)
	if err != nil {
		return wrapStore("project", err)
	}
	return p.checkProjectPlan(ctx, proj, func(pl plans.Plan) error {
		if size {
			if err := plans.CheckCU(pl, e.MinCU, e.MaxCU); err != nil {
				return err
			}
		}
		if suspend {
			return plans.CheckSuspend(pl, e.SuspendTimeoutSeconds)
		}
		return nil
	})
}

// PlanByName returns a plan.
func (p *Platform) PlanByName(ctx context.Context, name string) (plans.Plan, error) {
	return p.plan(ctx, name)
}
