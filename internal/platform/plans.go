package platform

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
)

// Plans are data (the plans table): each org names its plan, and every
// create and update checks the plan's limits. The seeded plans mirror
// Neon's Agent plan orgs: "free" the sponsored org, "paid" the paid org.
// grove serve --plans upserts plans at start; the admin call (PATCH
// /api/v2/admin/plans/{name}, a Grove extension) changes one while Grove
// runs.

// Plan is an org plan's limits.
type Plan = metastore.Plan

// planCacheTTL bounds how long a plan read from the store is used. Edits
// through this process drop the cache at once; the TTL covers edits by
// another process sharing the store.
const planCacheTTL = 5 * time.Second

// planCache keeps the plans table in memory, so that checks cost no query.
type planCache struct {
	mu     sync.Mutex
	plans  map[string]Plan
	loaded time.Time
	admin  string // the admin user's id, once known
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
func (p *Platform) OrgPlan(ctx context.Context, pr Principal, orgID string) (Plan, error) {
	if !pr.CanOrg(orgID) {
		return Plan{}, newErr(KindNotFound, "organization not found")
	}
	return p.orgPlan(ctx, orgID)
}

// checkCU refuses an autoscaling range outside the plan's; validCU has
// already applied Neon's general rules.
func checkPlanCU(pl Plan, minCU, maxCU float64) error {
	switch {
	case minCU < pl.MinCU:
		return newErr(KindInvalid, "autoscaling_limit_min_cu %v is below the minimum of %v CU on the %s plan", minCU, pl.MinCU, pl.Name)
	case maxCU > pl.MaxCU:
		return newErr(KindInvalid, "autoscaling_limit_max_cu %v exceeds the maximum of %v CU on the %s plan", maxCU, pl.MaxCU, pl.Name)
	case maxCU-minCU > pl.MaxCUSpread:
		return newErr(KindInvalid, "autoscaling_limit_max_cu - autoscaling_limit_min_cu must not exceed %v on the %s plan", pl.MaxCUSpread, pl.Name)
	}
	return nil
}

// checkPlanSuspend refuses a suspend timeout below the plan's minimum, and
// "never" (-1) where the plan always scales to zero. 0 is the default
// (300 s), which every seeded plan allows.
func checkPlanSuspend(pl Plan, sec int64) error {
	switch {
	case sec == -1 && !pl.SuspendDisableAllowed:
		return newErr(KindInvalid, "suspend_timeout_seconds -1 (never suspend) is not allowed on the %s plan; scale to zero cannot be disabled", pl.Name)
	case sec == 0 && defaultSuspendSeconds < pl.MinSuspendTimeoutSeconds:
		return newErr(KindInvalid, "suspend_timeout_seconds must be at least %d on the %s plan", pl.MinSuspendTimeoutSeconds, pl.Name)
	case sec > 0 && sec < pl.MinSuspendTimeoutSeconds:
		return newErr(KindInvalid, "suspend_timeout_seconds must be at least %d on the %s plan, got %d", pl.MinSuspendTimeoutSeconds, pl.Name, sec)
	}
	return nil
}

// checkPlanProtected refuses protecting one more branch of a project that
// has n protected branches: Neon offers protection on paid plans only, up
// to a number of branches per project.
func checkPlanProtected(pl Plan, n int) error {
	switch {
	case pl.ProtectedBranches == 0:
		return newErr(KindUnprocessable, "protected branches are not available on the %s plan", pl.Name)
	case n >= pl.ProtectedBranches:
		return newErr(KindUnprocessable, "the project has reached its limit of %d protected branches on the %s plan; unprotect a branch first", pl.ProtectedBranches, pl.Name)
	}
	return nil
}

// protectedCount counts the protected branches among branches.
func protectedCount(branches []metastore.Branch) int {
	n := 0
	for _, b := range branches {
		if b.Protected {
			n++
		}
	}
	return n
}

// defaultSuspendSeconds is what suspend_timeout_seconds 0 means (Neon's 300 s).
const defaultSuspendSeconds = 300

// checkPlanHistory refuses a history window above the plan's maximum.
func checkPlanHistory(pl Plan, sec int) error {
	if sec > pl.HistoryRetentionMaxSeconds {
		return newErr(KindInvalid, "history_retention_seconds must be at most %d on the %s plan, got %d", pl.HistoryRetentionMaxSeconds, pl.Name, sec)
	}
	return nil
}

// checkPlanEndpoint checks an endpoint's size and suspend timeout.
func checkPlanEndpoint(pl Plan, minCU, maxCU float64, suspend int64) error {
	if err := checkPlanCU(pl, minCU, maxCU); err != nil {
		return err
	}
	return checkPlanSuspend(pl, suspend)
}

// checkPlanDefaults checks a project's default endpoint settings.
func checkPlanDefaults(pl Plan, d endpointDefaults) error {
	if d.MinCU != nil || d.MaxCU != nil {
		lo, hi := 0.25, 0.25
		if d.MinCU != nil {
			lo, hi = *d.MinCU, *d.MinCU
		}
		if d.MaxCU != nil {
			hi = *d.MaxCU
		}
		if err := checkPlanCU(pl, lo, hi); err != nil {
			return err
		}
	}
	if d.Suspend != nil {
		return checkPlanSuspend(pl, *d.Suspend)
	}
	return nil
}

// errProjectsLimit is Neon's answer to a project create over the org's
// projects limit (422 PROJECTS_LIMIT_EXCEEDED, "user projects limit of 1
// exceeded, got 1" as observed).
func errProjectsLimit(limit, got int) error {
	return &Error{Kind: KindUnprocessable, Code: "PROJECTS_LIMIT_EXCEEDED",
		Msg: fmt.Sprintf("user projects limit of %d exceeded, got %d", limit, got)}
}

// errBranchesLimit is the same answer for a project's branches.
func errBranchesLimit(limit, got int) error {
	return &Error{Kind: KindUnprocessable, Code: "BRANCHES_LIMIT_EXCEEDED",
		Msg: fmt.Sprintf("branches limit of %d exceeded, got %d", limit, got)}
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
		return errProjectsLimit(pl.ProjectsPerOrg, n)
	}
	return nil
}

// PlanPatch changes a plan; nil fields stay as they are (a new plan starts
// from the "free" plan's values).
type PlanPatch struct {
	ProjectsPerOrg                 *int     `json:"projects_per_org,omitempty"`
	BranchesPerProject             *int     `json:"branches_per_project,omitempty"`
	RootBranches                   *int     `json:"root_branches,omitempty"`
	MinCU                          *float64 `json:"min_cu,omitempty"`
	MaxCU                          *float64 `json:"max_cu,omitempty"`
	MaxCUSpread                    *float64 `json:"max_cu_spread,omitempty"`
	MinSuspendTimeoutSeconds       *int64   `json:"min_suspend_timeout_seconds,omitempty"`
	SuspendDisableAllowed          *bool    `json:"suspend_disable_allowed,omitempty"`
	ManualSnapshots                *int     `json:"manual_snapshots,omitempty"`
	ProtectedBranches              *int     `json:"protected_branches,omitempty"`
	BackupSchedules                *bool    `json:"backup_schedules,omitempty"`
	HistoryRetentionDefaultSeconds *int     `json:"history_retention_default_seconds,omitempty"`
	HistoryRetentionMaxSeconds     *int     `json:"history_retention_max_seconds,omitempty"`
	StorageQuotaBytes              *int64   `json:"storage_quota_bytes,omitempty"`
	TransferQuotaBytes             *int64   `json:"transfer_quota_bytes,omitempty"`
	ActiveTimeQuotaSeconds         *int64   `json:"active_time_quota_seconds,omitempty"`
	ComputeTimeQuotaSeconds        *int64   `json:"compute_time_quota_seconds,omitempty"`
}

func (pp PlanPatch) apply(pl Plan) Plan {
	setIf(&pl.ProjectsPerOrg, pp.ProjectsPerOrg)
	setIf(&pl.BranchesPerProject, pp.BranchesPerProject)
	setIf(&pl.RootBranches, pp.RootBranches)
	setIf(&pl.MinCU, pp.MinCU)
	setIf(&pl.MaxCU, pp.MaxCU)
	setIf(&pl.MaxCUSpread, pp.MaxCUSpread)
	setIf(&pl.MinSuspendTimeoutSeconds, pp.MinSuspendTimeoutSeconds)
	setIf(&pl.SuspendDisableAllowed, pp.SuspendDisableAllowed)
	setIf(&pl.ManualSnapshots, pp.ManualSnapshots)
	setIf(&pl.ProtectedBranches, pp.ProtectedBranches)
	setIf(&pl.BackupSchedules, pp.BackupSchedules)
	setIf(&pl.HistoryRetentionDefaultSeconds, pp.HistoryRetentionDefaultSeconds)
	setIf(&pl.HistoryRetentionMaxSeconds, pp.HistoryRetentionMaxSeconds)
	setIf(&pl.StorageQuotaBytes, pp.StorageQuotaBytes)
	setIf(&pl.TransferQuotaBytes, pp.TransferQuotaBytes)
	setIf(&pl.ActiveTimeQuotaSeconds, pp.ActiveTimeQuotaSeconds)
	setIf(&pl.ComputeTimeQuotaSeconds, pp.ComputeTimeQuotaSeconds)
	return pl
}

// setIf sets *dst to *v when v is given.
func setIf[T any](dst, v *T) {
	if v != nil {
		*dst = *v
	}
}

// validPlan checks a plan's limits against each other and Neon's rules.
func validPlan(pl Plan) error {
	switch {
	case !ids.ValidResource(pl.Name):
		return newErr(KindInvalid, "plan name %q must be lower-case letters, digits and dashes", pl.Name)
	case pl.ProjectsPerOrg < 0:
		return newErr(KindInvalid, "projects_per_org must not be negative")
	case pl.BranchesPerProject < 1 || pl.RootBranches < 1:
		return newErr(KindInvalid, "branches_per_project and root_branches must be at least 1")
	case pl.MaxCUSpread < 0 || pl.MaxCUSpread > 8:
		return newErr(KindInvalid, "max_cu_spread must be between 0 and 8 (Neon's largest autoscaling range)")
	case pl.MinSuspendTimeoutSeconds < 0 || pl.MinSuspendTimeoutSeconds > 604800:
		return newErr(KindInvalid, "min_suspend_timeout_seconds must be between 0 and 604800")
	case pl.ManualSnapshots < 0 || pl.ProtectedBranches < 0:
		return newErr(KindInvalid, "manual_snapshots and protected_branches must not be negative")
	case pl.HistoryRetentionDefaultSeconds < 0 || pl.HistoryRetentionMaxSeconds > 2592000 ||
		pl.HistoryRetentionDefaultSeconds > pl.HistoryRetentionMaxSeconds:
		return newErr(KindInvalid, "history retention must satisfy 0 <= history_retention_default_seconds <= history_retention_max_seconds <= 2592000")
	case pl.StorageQuotaBytes < 0 || pl.TransferQuotaBytes < 0 || pl.ActiveTimeQuotaSeconds < 0 || pl.ComputeTimeQuotaSeconds < 0:
		return newErr(KindInvalid, "quotas must not be negative (0 is unlimited)")
	}
	if err := validCU(pl.MinCU, pl.MinCU); err != nil {
		return newErr(KindInvalid, "min_cu %v is not a valid compute size", pl.MinCU)
	}
	if err := validCU(pl.MaxCU, pl.MaxCU); err != nil {
		return newErr(KindInvalid, "max_cu %v is not a valid compute size", pl.MaxCU)
	}
	if pl.MaxCU < pl.MinCU {
		return newErr(KindInvalid, "max_cu must be at least min_cu")
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
func (p *Platform) SetPlan(ctx context.Context, pr Principal, name string, pp PlanPatch) (Plan, error) {
	if err := p.checkAdmin(ctx, pr); err != nil {
		return Plan{}, err
	}
	return p.setPlan(ctx, name, pp)
}

// ListPlans returns every plan to the admin.
func (p *Platform) ListPlans(ctx context.Context, pr Principal) ([]Plan, error) {
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
	pl := pp.apply(base)
	if err := validPlan(pl); err != nil {
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
func (p *Platform) checkAdmin(ctx context.Context, pr Principal) error {
	if !pr.Personal() {
		return newErr(KindForbidden, "plans can be changed only with the admin's personal API key")
	}
	p.plans.mu.Lock()
	admin := p.plans.admin
	p.plans.mu.Unlock()
	if admin == "" {
		id, err := p.store.FirstUser(ctx)
		if err != nil {
			return err
		}
		admin = id.String()
		p.plans.mu.Lock()
		p.plans.admin = admin
		p.plans.mu.Unlock()
	}
	if pr.UserID.String() != admin {
		return newErr(KindForbidden, "plans can be changed only with the admin's personal API key")
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
			if err := checkPlanCU(pl, e.MinCU, e.MaxCU); err != nil {
				return err
			}
		}
		if suspend {
			return checkPlanSuspend(pl, e.SuspendTimeoutSeconds)
		}
		return nil
	})
}

// PlanByName returns a plan.
func (p *Platform) PlanByName(ctx context.Context, name string) (Plan, error) {
	return p.plan(ctx, name)
}
