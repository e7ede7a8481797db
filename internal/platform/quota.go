package platform

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/usage"
)

// checkQuotas re-evaluates the quotas of the projects (every project with
// a quota when ids is nil) against the current period's usage and the
// branches' logical sizes, records which projects and branches are over,
// and returns those newly over.
func (p *Platform) checkQuotas(ctx context.Context, ids []string) (map[string]*usage.QuotaError, error) {
	raw, err := p.store.ProjectQuotas(ctx, ids)
	if err != nil {
		return nil, err
	}
	quotas := usage.ParseQuotas(raw)
	withQuota := slices.Collect(maps.Keys(quotas))
	over := map[string]*usage.QuotaError{} // project or branch id → exceeded
	if len(withQuota) > 0 {
		period, err := p.ProjectUsage(ctx, withQuota)
		if err != nil {
			return nil, err
		}
		infos, err := p.store.BranchUsageInfos(ctx, withQuota)
		if err != nil {
			return nil, err
		}
		over = usage.Over(quotas, period, infos)
	}
	p.usage.mu.Lock()
	defer p.usage.mu.Unlock()
	if p.usage.blocked == nil {
		p.usage.blocked = usage.Blocked{}
	}
	return p.usage.blocked.Update(ids, over), nil
}

// enforceQuotas checks the projects' quotas and suspends the running
// computes of those newly over: every compute of the project, or only the
// branch's for logical_size_bytes.
func (p *Platform) enforceQuotas(ctx context.Context, ids []string) {
	fresh, err := p.checkQuotas(ctx, ids)
	if err != nil {
		p.log.Warn("check quotas", "err", err)
		return
	}
	if len(fresh) == 0 {
		return
	}
	var running []string
	for _, in := range p.cfg.Computes.List() {
		running = append(running, in.ID())
	}
	owners, err := p.endpointOwners(ctx, running)
	if err != nil {
		p.log.Warn("check quotas", "err", err)
		return
	}
	for id, o := range owners {
		qe := fresh[o.ProjectID]
		if qe == nil {
			qe = fresh[o.BranchID]
		}
		if qe == nil {
			continue
		}
		p.log.Info("quota exceeded: suspending compute", "project", o.ProjectID, "branch", o.BranchID,
			"endpoint", id, "quota", qe.Metric)
		go func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if err := p.cfg.Computes.Suspend(sctx, id); err != nil {
				p.log.Warn("quota: suspend compute", "endpoint", id, "err", err)
			}
		}()
	}
}

// EnforceQuotas checks every project with a quota once (at start, before
// usage flows) and suspends the computes of those over.
func (p *Platform) EnforceQuotas(ctx context.Context) { p.enforceQuotas(ctx, nil) }

// quotaBlock returns the quota keeping a project's (or a branch's) computes
// from starting, evaluated now so that a raised quota or a new period lets
// them start at once.
func (p *Platform) quotaBlock(ctx context.Context, projectID, branchID string) error {
	if p.meter() == nil {
		return nil
	}
	if _, err := p.checkQuotas(ctx, []string{projectID}); err != nil {
		return err
	}
	p.usage.mu.Lock()
	defer p.usage.mu.Unlock()
	if qe := p.usage.blocked[projectID]; qe != nil {
		return qe
	}
	if qe := p.usage.blocked[branchID]; qe != nil {
		return qe
	}
	return nil
}

// quotaError is quotaBlock's error as the API's: Neon refuses to start a
// compute over quota.
func quotaError(err error) error {
	var qe *usage.QuotaError
	if errors.As(err, &qe) {
		return &errkind.Error{Kind: errkind.Forbidden, Msg: qe.Error(), Err: qe}
	}
	return err
}
