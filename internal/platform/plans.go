package platform

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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

// Plan is an org plan's limits; the rules on it live in package plans.
type Plan = plans.Plan

// PlanPatch changes a plan; nil fields stay as they are (a new plan starts
// from the "free" plan's values).
type PlanPatch = plans.Patch

// planCacheTTL bounds how long a plan read from the store is used. Edits
// through this process drop the cache at once; the TTL covers edits by
// another process sharing the store.
const planCacheTTL = 5 * time.Second

// planCache keeps the plans table in memory, so that checks cost no query.
type planCache struct {
	mu     sync.Mutex
	plans  map[string]Plan
	loaded time.Time
}

func (c *planCache) invalidate() {
	c.mu.Lock()
	c.plans = nil
	c.mu.Unlock()
}

// plan returns a plan by name.
func (p *Platform) plan(ctx context.Context, name string) (Plan, error) {
	c := &p.plans
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.plans == nil || time.Since(c.loaded) > planCacheTTL {
		all, err := p.store.Plans(ctx)
		if err != nil {
			return Plan{}, err
		}
		c.plans = make(map[string]Plan, len(all))
		for _, pl := range all {
			c.plans[pl.Name] = pl
		}
		c.loaded = time.Now()
	}
	pl, ok := c.plans[name]
	if !ok {
		return Plan{}, fmt.Errorf("plan %q: %w", name, metastore.ErrNotFound)
	}
	return pl, nil
}

// orgPlan returns an org's plan.
func (p *Platform) orgPlan(ctx context.Context, orgID string) (Plan, error) {
	o, err := p.store.GetOrg(ctx, orgID)
	if err != nil {
		return Plan{}, wrapStore("organization", err)
	}
	return p.plan(ctx, o.Plan)
}

// projectPlan returns the plan of a project's org.
func (p *Platform) projectPlan(ctx context.Context, proj metastore.Project) (Plan, error) {
	return p.orgPlan(ctx, proj.OrgID)
}

// OrgPlan returns the plan of an org the caller reaches.
func (p *Platform) OrgPlan(ctx context.Context, pr accounts.Principal, orgID string) (Plan, error) {
	if !pr.CanOrg(orgID) {
		return Plan{}, newErr(errkind.NotFound, "organization not found")
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
func (p *Platform) Plans(ctx context.Context) ([]Plan, error) {
	return p.store.Plans(ctx)
}

// ApplyPlans upserts plans from configuration (grove serve --plans).
func (p *Platform) ApplyPlans(ctx context.Context, patches map[string]PlanPatch) error {
	for name, pp := range patches {
		if _, err := p.setPlan(ctx, name, pp); err != nil {
			return fmt.Errorf("plan %s: %w", name, err)
		}
	}
	return nil
}

// SetPlan changes (or creates) a plan; only the admin's personal key may.
// The change applies to the next check, without a restart.
func (p *Platform) SetPlan(ctx context.Context, pr accounts.Principal, name string, pp PlanPatch) (Plan, error) {
	if err := p.checkAdmin(ctx, pr); err != nil {
		return Plan{}, err
	}
	return p.setPlan(ctx, name, pp)
}

// ListPlans returns every plan to the admin.
func (p *Platform) ListPlans(ctx context.Context, pr accounts.Principal) ([]Plan, error) {
	if err := p.checkAdmin(ctx, pr); err != nil {
		return nil, err
	}
	return p.store.Plans(ctx)
}

func (p *Platform) setPlan(ctx context.Context, name string, pp PlanPatch) (Plan, error) {
	p.plans.invalidate()
	base, err := p.plan(ctx, name)
	if errors.Is(err, metastore.ErrNotFound) {
		base, err = p.plan(ctx, "free")
		base.Name = name
	}
	if err != nil {
		return Plan{}, err
	}
	pl := pp.Apply(base)
	if err := plans.Validate(pl); err != nil {
		return Plan{}, err
	}
	out, err := p.store.UpsertPlan(ctx, pl)
	p.plans.invalidate()
	if err != nil {
		return Plan{}, err
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
func (p *Platform) checkProjectPlan(ctx context.Context, proj metastore.Project, check func(Plan) error) error {
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
	return p.checkProjectPlan(ctx, proj, func(pl Plan) error {
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
func (p *Platform) PlanByName(ctx context.Context, name string) (Plan, error) {
	return p.plan(ctx, name)
}
