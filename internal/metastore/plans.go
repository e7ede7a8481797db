package metastore

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Plan is a row of the plans table: the limits an org's plan puts on its
// projects. Quotas of 0 mean unlimited.
type Plan struct {
	Name                           string
	ProjectsPerOrg                 int
	BranchesPerProject             int
	RootBranches                   int
	MinCU, MaxCU, MaxCUSpread      float64
	MinSuspendTimeoutSeconds       int64
	SuspendDisableAllowed          bool
	ManualSnapshots                int
	ProtectedBranches              int
	BackupSchedules                bool
	HistoryRetentionDefaultSeconds int
	HistoryRetentionMaxSeconds     int
	StorageQuotaBytes              int64
	TransferQuotaBytes             int64
	ActiveTimeQuotaSeconds         int64
	ComputeTimeQuotaSeconds        int64
	UpdatedAt                      time.Time
}

const planCols = `name, projects_per_org, branches_per_project, root_branches, min_cu, max_cu, max_cu_spread,
	min_suspend_timeout_seconds, suspend_disable_allowed, manual_snapshots,
	history_retention_default_seconds, history_retention_max_seconds,
	storage_quota_bytes, transfer_quota_bytes, active_time_quota_seconds, compute_time_quota_seconds, updated_at,
	protected_branches, backup_schedules`

func scanPlan(row pgx.Row) (Plan, error) {
	var p Plan
	err := row.Scan(&p.Name, &p.ProjectsPerOrg, &p.BranchesPerProject, &p.RootBranches, &p.MinCU, &p.MaxCU, &p.MaxCUSpread,
		&p.MinSuspendTimeoutSeconds, &p.SuspendDisableAllowed, &p.ManualSnapshots,
		&p.HistoryRetentionDefaultSeconds, &p.HistoryRetentionMaxSeconds,
		&p.StorageQuotaBytes, &p.TransferQuotaBytes, &p.ActiveTimeQuotaSeconds, &p.ComputeTimeQuotaSeconds, &p.UpdatedAt,
		&p.ProtectedBranches, &p.BackupSchedules)
	return p, err
}

// Plans returns every plan, by name.
func (s *Store) Plans(ctx context.Context) ([]Plan, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+planCols+` FROM plans ORDER BY name`)
	if err != nil {
		return nil, mapErr("list plans", err)
	}
	out, err := collect(rows, scanPlan)
	return out, mapErr("list plans", err)
}

// UpsertPlan creates or replaces a plan. The table's checks refuse
// inconsistent limits (e.g. max_cu below min_cu).
func (s *Store) UpsertPlan(ctx context.Context, p Plan) (Plan, error) {
	out, err := scanPlan(s.pool.QueryRow(ctx, `INSERT INTO plans (`+planCols+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,now(),$17,$18)
		ON CONFLICT (name) DO UPDATE SET projects_per_org = $2, branches_per_project = $3, root_branches = $4,
			min_cu = $5, max_cu = $6, max_cu_spread = $7, min_suspend_timeout_seconds = $8,
			suspend_disable_allowed = $9, manual_snapshots = $10, history_retention_default_seconds = $11,
			history_retention_max_seconds = $12, storage_quota_bytes = $13, transfer_quota_bytes = $14,
			active_time_quota_seconds = $15, compute_time_quota_seconds = $16, updated_at = now(),
			protected_branches = $17, backup_schedules = $18
		RETURNING `+planCols,
		p.Name, p.ProjectsPerOrg, p.BranchesPerProject, p.RootBranches, p.MinCU, p.MaxCU, p.MaxCUSpread,
		p.MinSuspendTimeoutSeconds, p.SuspendDisableAllowed, p.ManualSnapshots,
		p.HistoryRetentionDefaultSeconds, p.HistoryRetentionMaxSeconds,
		p.StorageQuotaBytes, p.TransferQuotaBytes, p.ActiveTimeQuotaSeconds, p.ComputeTimeQuotaSeconds,
		p.ProtectedBranches, p.BackupSchedules))
	return out, mapErr("upsert plan "+p.Name, err)
}

// OrgProjectCount counts an org's live projects.
func (s *Store) OrgProjectCount(ctx context.Context, orgID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM projects WHERE org_id = $1 AND deleted_at IS NULL`, orgID).Scan(&n)
	return n, mapErr("count org projects", err)
}

// FirstUser returns the oldest user: the admin made at the first start.
func (s *Store) FirstUser(ctx context.Context) (uuid.UUID, error) {
	var id uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT id FROM users ORDER BY created_at, id LIMIT 1`).Scan(&id)
	return id, mapErr("first user", err)
}
