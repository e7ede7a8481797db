package apitypes

// Plan is an org plan's limits, served by Grove's admin extension
// (GET /api/v2/admin/plans, PATCH /api/v2/admin/plans/{plan_name}); it
// is not part of Neon's API. Quotas of 0 mean unlimited.
type Plan struct {
	Name                           string  `json:"name"`
	ProjectsPerOrg                 int     `json:"projects_per_org"`
	BranchesPerProject             int     `json:"branches_per_project"`
	RootBranches                   int     `json:"root_branches"`
	MinCU                          float64 `json:"min_cu"`
	MaxCU                          float64 `json:"max_cu"`
	MaxCUSpread                    float64 `json:"max_cu_spread"`
	MinSuspendTimeoutSeconds       int64   `json:"min_suspend_timeout_seconds"`
	SuspendDisableAllowed          bool    `json:"suspend_disable_allowed"`
	ManualSnapshots                int     `json:"manual_snapshots"`
	ProtectedBranches              int     `json:"protected_branches"`
	BackupSchedules                bool    `json:"backup_schedules"`
	HistoryRetentionDefaultSeconds int     `json:"history_retention_default_seconds"`
	HistoryRetentionMaxSeconds     int     `json:"history_retention_max_seconds"`
	StorageQuotaBytes              int64   `json:"storage_quota_bytes"`
	TransferQuotaBytes             int64   `json:"transfer_quota_bytes"`
	ActiveTimeQuotaSeconds         int64   `json:"active_time_quota_seconds"`
	ComputeTimeQuotaSeconds        int64   `json:"compute_time_quota_seconds"`
	UpdatedAt                      Time    `json:"updated_at"`
}

// PlanResponse is one plan.
type PlanResponse struct {
	Plan Plan `json:"plan"`
}

// PlansResponse lists the plans.
type PlansResponse struct {
	Plans List[Plan] `json:"plans"`
}

// PlanUpdate changes a plan: absent fields stay as they are.
type PlanUpdate struct {
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

// PlanUpdateRequest is the body of PATCH /api/v2/admin/plans/{plan_name}.
type PlanUpdateRequest struct {
	Plan PlanUpdate `json:"plan"`
}
