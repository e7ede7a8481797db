package platform

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
)

// ErrQuotaExceeded is matched (errors.Is) by every *QuotaError.
var ErrQuotaExceeded = errors.New("quota exceeded")

// QuotaError says which quota of project.settings.quota a project (or, for
// logical_size_bytes, a branch) exceeded. Its message is Neon's.
type QuotaError struct {
	Metric              string // the quota's key
	ProjectID, BranchID string
}

func (e *QuotaError) Error() string {
	const upgrade = " Upgrade your plan to increase limits."
	switch e.Metric {
	case "active_time_seconds", "compute_time_seconds":
		return "Your account or project has exceeded the compute time quota." + upgrade
	case "data_transfer_bytes":
		return "Your project has exceeded the data transfer quota." + upgrade
	case "written_data_bytes":
		return "Your project has exceeded the written data quota." + upgrade
	default:
		return "Your branch has exceeded the logical size quota." + upgrade
	}
}

// Is makes errors.Is(err, ErrQuotaExceeded) true.
func (e *QuotaError) Is(target error) bool { return target == ErrQuotaExceeded }

// projectQuota is project.settings.quota; 0 or absent is unlimited.
type projectQuota struct {
	ActiveTimeSeconds  int64 `json:"active_time_seconds"`
	ComputeTimeSeconds int64 `json:"compute_time_seconds"`
	WrittenDataBytes   int64 `json:"written_data_bytes"`
	DataTransferBytes  int64 `json:"data_transfer_bytes"`
	LogicalSizeBytes   int64 `json:"logical_size_bytes"`
}

// exceeded returns the first period quota u reaches, or "".
func (q projectQuota) exceeded(u Usage) string {
	switch {
	case q.ActiveTimeSeconds > 0 && u.ActiveSeconds >= q.ActiveTimeSeconds:
		return "active_time_seconds"
	case q.ComputeTimeSeconds > 0 && u.ComputeSeconds >= q.ComputeTimeSeconds:
		return "compute_time_seconds"
	case q.WrittenDataBytes > 0 && u.WrittenBytes >= q.WrittenDataBytes:
		return "written_data_bytes"
	case q.DataTransferBytes > 0 && u.TransferBytes >= q.DataTransferBytes:
		return "data_transfer_bytes"
	}
	return ""
}

// checkQuotas re-evaluates the quotas of the projects (every project with
// a quota when ids is nil) against the current period's usage and the
// branches' logical sizes, records which projects and branches are over,
// and returns those newly over.
func (p *Platform) checkQuotas(ctx context.Context, ids []string) (map[string]*QuotaError, error) {
	raw, err := p.store.ProjectQuotas(ctx, ids)
	if err != nil {
		return nil, err
	}
	quotas := map[string]projectQuota{}
	var withQuota []string
	for id, r := range raw {
		var q projectQuota
		if err := json.Unmarshal(r, &q); err != nil {
			continue // validated on write; an unreadable quota limits nothing
		}
		quotas[id] = q
		withQuota = append(withQuota, id)
	}
	over := map[string]*QuotaError{} // project or branch id → exceeded
	if len(withQuota) > 0 {
		usage, err := p.ProjectUsage(ctx, withQuota)
		if err != nil {
			return nil, err
		}
		for id, q := range quotas {
			if m := q.exceeded(usage[id]); m != "" {
				over[id] = &QuotaError{Metric: m, ProjectID: id}
			}
		}
		infos, err := p.store.BranchUsageInfos(ctx, withQuota)
		if err != nil {
			return nil, err
		}
		for _, b := range infos {
			if q := quotas[b.ProjectID]; q.LogicalSizeBytes > 0 && b.LogicalSize >= q.LogicalSizeBytes {
				over[b.ID] = &QuotaError{Metric: "logical_size_bytes", ProjectID: b.ProjectID, BranchID: b.ID}
			}
		}
	}
	fresh := map[string]*QuotaError{}
	p.usage.mu.Lock()
	defer p.usage.mu.Unlock()
	if p.usage.blocked == nil {
		p.usage.blocked = map[string]*QuotaError{}
	}
	for k, qe := range p.usage.blocked {
		if ids == nil || slices.Contains(ids, qe.ProjectID) {
			if _, still := over[k]; !still {
				delete(p.usage.blocked, k)
			}
		}
	}
	for k, qe := range over {
		if _, was := p.usage.blocked[k]; !was {
			fresh[k] = qe
		}
		p.usage.blocked[k] = qe
	}
	return fresh, nil
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
	var qe *QuotaError
	if errors.As(err, &qe) {
		return &Error{Kind: KindForbidden, Msg: qe.Error(), Err: qe}
	}
	return err
}

var periodNamespace = uuid.MustParse("5b1f0c3e-2f7a-4c8e-9a61-6f0d2b9c7e41")

func uuidFrom(s string) string { return uuid.NewSHA1(periodNamespace, []byte(s)).String() }
