package platform

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/metering"
	"github.com/grovedb/grove/internal/usage"
)

// usageState is the platform's side of metering: the meter, the owners of
// metered endpoints, the WAL positions last sampled and the quotas found
// exceeded.
type usageState struct {
	mu      sync.Mutex
	meter   *metering.Meter
	owners  map[string]metastore.EndpointOwner // endpoint → project and branch
	lsn     map[string]int64                   // volume → WAL position last sampled (sizes.go)
	size    map[string]int64                   // volume → logical size last recorded
	blocked usage.Blocked                      // project or branch id → quota exceeded
	limited map[string]bool                    // volume → writes refused for its size (sizelimits.go)
}

func (p *Platform) meter() *metering.Meter {
	p.usage.mu.Lock()
	defer p.usage.mu.Unlock()
	return p.usage.meter
}

// instanceCU is the size a compute runs at: the autoscaler's current CU, its
// maximum before the first measurement.
func instanceCU(in *compute.Instance) float64 {
	cu := in.CU()
	if cu <= 0 {
		cu = in.Spec().MaxCU
	}
	if cu <= 0 {
		cu = 0.25
	}
	return cu
}

// MeterEvent books a compute lifecycle event: a start opens its active
// span, a suspend or failure closes it. It does not block.
func (p *Platform) MeterEvent(e compute.Event) {
	m := p.meter()
	if m == nil || !metered(e.ID) {
		return
	}
	switch e.Kind {
	case compute.EventStarted, compute.EventRestarted:
		cu := 0.25
		if in, ok := p.cfg.Computes.Get(e.ID); ok {
			cu = instanceCU(in)
		}
		// The endpoint may have moved to another branch since it last ran.
		p.usage.mu.Lock()
		delete(p.usage.owners, e.ID)
		p.usage.mu.Unlock()
		m.Started(e.ID, e.Time, cu)
	case compute.EventSuspended, compute.EventFailed, compute.EventCrashed:
		m.Stopped(e.ID, e.Time)
	}
}

// metered reports whether a compute id is an endpoint's: warm instances
// (no endpoint yet) are nobody's usage.
func metered(computeID string) bool { return strings.HasPrefix(computeID, "ep-") }

// ActiveComputes returns the running computes and the CU of each.
func (p *Platform) ActiveComputes() map[string]float64 {
	out := map[string]float64{}
	for _, in := range p.cfg.Computes.List() {
		if in.State() == compute.StateActive && metered(in.ID()) {
			out[in.ID()] = instanceCU(in)
		}
	}
	return out
}

// endpointOwners returns the project and branch of each endpoint among ids
// that still exists, from the cache or the store.
func (p *Platform) endpointOwners(ctx context.Context, ids []string) (map[string]metastore.EndpointOwner, error) {
	out := make(map[string]metastore.EndpointOwner, len(ids))
	var missing []string
	p.usage.mu.Lock()
	for _, id := range ids {
		if o, ok := p.usage.owners[id]; ok {
			out[id] = o
		} else {
			missing = append(missing, id)
		}
	}
	p.usage.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	found, err := p.store.EndpointOwners(ctx, missing)
	if err != nil {
		return nil, err
	}
	p.usage.mu.Lock()
	if p.usage.owners == nil {
		p.usage.owners = map[string]metastore.EndpointOwner{}
	}
	for id, o := range found {
		p.usage.owners[id] = o
		out[id] = o
	}
	p.usage.mu.Unlock()
	return out, nil
}

// RecordUsage stores a metering flush per branch (the meter's sink) and
// checks the quotas of the projects it touched. Usage of an endpoint
// deleted before the flush has no branch left and is dropped.
func (p *Platform) RecordUsage(ctx context.Context, recs []metering.Record) error {
	owners, err := p.endpointOwners(ctx, usage.Endpoints(recs))
	if err != nil {
		return err
	}
	rows, projects, dropped := usage.Rows(recs, owners)
	if dropped > 0 {
		p.log.Debug("metering: usage of deleted endpoints dropped", "records", dropped)
	}
	if err := p.store.AddConsumption(ctx, rows); err != nil {
		return err
	}
	if len(projects) > 0 {
		p.enforceQuotas(ctx, projects)
	}
	return nil
}

func (p *Platform) bucketSeconds() float64 {
	if m := p.meter(); m != nil {
		return m.Bucket().Seconds()
	}
	return metering.DefaultBucket.Seconds()
}

// periodUsage sums the current period per project, or per branch.
func (p *Platform) periodUsage(ctx context.Context, projectIDs []string, byBranch bool) (map[string]usage.Usage, error) {
	start, end := usage.BillingPeriod(time.Now())
	pts, err := p.store.Consumption(ctx, metastore.ConsumptionQuery{ProjectIDs: projectIDs, ByBranch: byBranch,
		From: start, To: end, Trunc: "month", BucketSeconds: p.bucketSeconds()})
	if err != nil {
		return nil, err
	}
	return usage.Sum(pts, byBranch, start, end), nil
}

// ProjectUsage returns the current billing period's totals of each project
// (the running totals on project objects); a project without usage has
// zero totals with the period set. It reads stored usage only: no compute
// is woken or queried.
func (p *Platform) ProjectUsage(ctx context.Context, projectIDs []string) (map[string]usage.Usage, error) {
	out, err := p.periodUsage(ctx, projectIDs, false)
	if err != nil {
		return nil, err
	}
	start, end := usage.BillingPeriod(time.Now())
	for _, id := range projectIDs {
		if _, ok := out[id]; !ok {
			out[id] = usage.Usage{PeriodStart: start, PeriodEnd: end}
		}
	}
	return out, nil
}

// BranchUsage returns the current billing period's totals of a project's
// branches, by branch id.
func (p *Platform) BranchUsage(ctx context.Context, projectID string) (map[string]usage.Usage, error) {
	return p.periodUsage(ctx, []string{projectID}, true)
}

// Consumption history.

// ConsumptionInput is a consumption_history request.
type ConsumptionInput struct {
	OrgID       string
	RequireOrg  bool     // v2: org_id is required
	ProjectIDs  []string // filter (v1, v2 projects) or the projects (v2 branches)
	BranchIDs   []string // v2 branches filter
	From, To    time.Time
	Granularity string // hourly | daily | monthly
	Cursor      string
	Limit       int
	// ByBranch pages branches instead of projects and returns per-branch
	// points; PointsByBranch only returns per-branch points.
	ByBranch, PointsByBranch bool
}

// ConsumptionPage is one page of consumption history.
type ConsumptionPage struct {
	Projects []metastore.Project          // the page's projects (project pages)
	Branches []metastore.BranchUsageInfo  // the page's branches (branch pages)
	Roots    map[string]bool              // branch id → root branch, for the page's projects
	Points   []metastore.ConsumptionPoint // by project (and branch), oldest first
	Plans    map[string]string            // org id → plan
	Cursor   string                       // "" on an empty page
}

// ConsumptionHistory returns a page of consumption history. It reads stored
// usage only: no compute is woken or queried.
func (p *Platform) ConsumptionHistory(ctx context.Context, pr accounts.Principal, in ConsumptionInput) (ConsumptionPage, error) {
	var page ConsumptionPage
	trunc, from, to, err := usage.Window(in.Granularity, in.From, in.To, time.Now())
	if err != nil {
		return page, err
	}
	if in.OrgID == "" && in.RequireOrg {
		return page, newErr(errkind.Invalid, "org_id is required")
	}
	orgs, err := pr.Orgs(in.OrgID)
	if err != nil {
		return page, err
	}
	projects, err := p.consumptionProjects(ctx, pr, orgs, in)
	if err != nil {
		return page, err
	}
	ids := make([]string, len(projects))
	for i, pj := range projects {
		ids[i] = pj.ID
	}
	page.Plans = map[string]string{}
	for _, pj := range projects {
		if _, ok := page.Plans[pj.OrgID]; !ok {
			_, org, err := p.ProjectOwner(ctx, pj)
			if err != nil {
				return page, err
			}
			page.Plans[pj.OrgID] = org.Plan
		}
	}
	q := metastore.ConsumptionQuery{ProjectIDs: ids, From: from, To: to, Trunc: trunc,
		ByBranch: in.ByBranch || in.PointsByBranch, BucketSeconds: p.bucketSeconds()}
	if in.ByBranch || in.PointsByBranch {
		infos, err := p.store.BranchUsageInfos(ctx, ids)
		if err != nil {
			return page, err
		}
		page.Roots = map[string]bool{}
		for _, b := range infos {
			page.Roots[b.ID] = b.Root
		}
		if in.ByBranch {
			page.Branches, page.Cursor = usage.PageBranches(infos, in.BranchIDs, in.Cursor, in.Limit)
			q.BranchIDs = make([]string, len(page.Branches))
			for i, b := range page.Branches {
				q.BranchIDs[i] = b.ID
			}
		}
	}
	if !in.ByBranch {
		page.Projects = projects
		if len(projects) > 0 {
			page.Cursor = projects[len(projects)-1].ID
		}
	}
	if len(ids) == 0 || (in.ByBranch && len(q.BranchIDs) == 0) {
		return page, nil
	}
	page.Points, err = p.store.Consumption(ctx, q)
	return page, err
}

// consumptionProjects returns the projects a history request covers: the
// listed ones the caller reaches (unknown ids are left out), or a page of
// the orgs' projects by id. Branch pages take every listed project and
// page their branches instead.
func (p *Platform) consumptionProjects(ctx context.Context, pr accounts.Principal, orgs []string, in ConsumptionInput) ([]metastore.Project, error) {
	if len(in.ProjectIDs) == 0 {
		if in.ByBranch {
			return nil, newErr(errkind.Invalid, "project_ids is required")
		}
		return p.store.ListProjects(ctx, metastore.ProjectFilter{OrgIDs: orgs, ProjectID: pr.ProjectID,
			After: in.Cursor, Limit: in.Limit})
	}
	want := slices.Clone(in.ProjectIDs)
	slices.Sort(want)
	want = slices.Compact(want)
	var out []metastore.Project
	for _, id := range want {
		if !in.ByBranch && id <= in.Cursor {
			continue
		}
		if !ids.ValidResource(id) {
			return nil, newErr(errkind.Invalid, "invalid project id %q", id)
		}
		pj, err := p.store.GetProject(ctx, id)
		if err != nil || !pr.CanProject(pj) || !slices.Contains(orgs, pj.OrgID) {
			continue
		}
		out = append(out, pj)
		if !in.ByBranch && len(out) == in.Limit {
			break
		}
	}
	return out, nil
}
