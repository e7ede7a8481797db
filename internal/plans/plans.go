// Package plans holds the pure rules of org plans and compute sizes: the
// checks every create and update runs against its org's plan, Neon's
// general rules for autoscaling ranges and suspend timeouts, plan patches
// and their validation, and the checks of a project transfer. It reads no
// store: the platform loads the plans (kept in a Cache) and passes one in. Errors are
// *errkind.Error with the messages the API returns.
package plans

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
)

// Plan is an org plan's limits.
type Plan = metastore.Plan

// MaxHistoryRetention is the longest history any plan keeps (Neon: 30 days).
const MaxHistoryRetention = 30 * 24 * time.Hour

// MaxHistorySeconds is MaxHistoryRetention as the API's
// history_retention_seconds.
const MaxHistorySeconds = int(MaxHistoryRetention / time.Second)

// DefaultSuspendSeconds is what suspend_timeout_seconds 0 means (Neon's 300 s).
const DefaultSuspendSeconds = 300

func invalid(format string, args ...any) error { return errkind.New(errkind.Invalid, format, args...) }

// CheckCU refuses an autoscaling range outside the plan's; ValidCU has
// already applied Neon's general rules.
func CheckCU(pl Plan, minCU, maxCU float64) error {
	switch {
	case minCU < pl.MinCU:
		return invalid("autoscaling_limit_min_cu %v is below the minimum of %v CU on the %s plan", minCU, pl.MinCU, pl.Name)
	case maxCU > pl.MaxCU:
		return invalid("autoscaling_limit_max_cu %v exceeds the maximum of %v CU on the %s plan", maxCU, pl.MaxCU, pl.Name)
	case maxCU-minCU > pl.MaxCUSpread:
		return invalid("autoscaling_limit_max_cu - autoscaling_limit_min_cu must not exceed %v on the %s plan", pl.MaxCUSpread, pl.Name)
	}
	return nil
}

// CheckSuspend refuses a suspend timeout below the plan's minimum, and
// "never" (-1) where the plan always scales to zero. 0 is the default
// (300 s), which every seeded plan allows.
func CheckSuspend(pl Plan, sec int64) error {
	switch {
	case sec == -1 && !pl.SuspendDisableAllowed:
		return invalid("suspend_timeout_seconds -1 (never suspend) is not allowed on the %s plan; scale to zero cannot be disabled", pl.Name)
	case sec == 0 && DefaultSuspendSeconds < pl.MinSuspendTimeoutSeconds:
		return invalid("suspend_timeout_seconds must be at least %d on the %s plan", pl.MinSuspendTimeoutSeconds, pl.Name)
	case sec > 0 && sec < pl.MinSuspendTimeoutSeconds:
		return invalid("suspend_timeout_seconds must be at least %d on the %s plan, got %d", pl.MinSuspendTimeoutSeconds, pl.Name, sec)
	}
	return nil
}

// CheckProtected refuses protecting one more branch of a project whose
// branches are given: Neon offers protection on paid plans only, up to a
// number of branches per project.
func CheckProtected(pl Plan, branches []metastore.Branch) error {
	n := 0
	for _, b := range branches {
		if b.Protected {
			n++
		}
	}
	switch {
	case pl.ProtectedBranches == 0:
		return errkind.New(errkind.Unprocessable, "protected branches are not available on the %s plan", pl.Name)
	case n >= pl.ProtectedBranches:
		return errkind.New(errkind.Unprocessable, "the project has reached its limit of %d protected branches on the %s plan; unprotect a branch first", pl.ProtectedBranches, pl.Name)
	}
	return nil
}

// CheckHistory refuses a history window above the plan's maximum.
func CheckHistory(pl Plan, sec int) error {
	if sec > pl.HistoryRetentionMaxSeconds {
		return invalid("history_retention_seconds must be at most %d on the %s plan, got %d", pl.HistoryRetentionMaxSeconds, pl.Name, sec)
	}
	return nil
}

// CheckEndpoint checks an endpoint's size and suspend timeout.
func CheckEndpoint(pl Plan, minCU, maxCU float64, suspend int64) error {
	if err := CheckCU(pl, minCU, maxCU); err != nil {
		return err
	}
	return CheckSuspend(pl, suspend)
}

// defaultRange is the autoscaling range default endpoint settings give,
// filled in as an endpoint create would.
func (d EndpointDefaults) defaultRange() (lo, hi float64) {
	lo, hi = 0.25, 0.25
	if d.MinCU != nil {
		lo, hi = *d.MinCU, *d.MinCU
	}
	if d.MaxCU != nil {
		hi = *d.MaxCU
	}
	return lo, hi
}

// CheckDefaults checks a project's default endpoint settings.
func CheckDefaults(pl Plan, d EndpointDefaults) error {
	if d.MinCU != nil || d.MaxCU != nil {
		lo, hi := d.defaultRange()
		if err := CheckCU(pl, lo, hi); err != nil {
			return err
		}
	}
	if d.Suspend != nil {
		return CheckSuspend(pl, *d.Suspend)
	}
	return nil
}

// ProjectsLimitError is Neon's answer to a project create over the org's
// projects limit (422 PROJECTS_LIMIT_EXCEEDED, "user projects limit of 1
// exceeded, got 1" as observed).
func ProjectsLimitError(limit, got int) error {
	return &errkind.Error{Kind: errkind.Unprocessable, Code: "PROJECTS_LIMIT_EXCEEDED",
		Msg: fmt.Sprintf("user projects limit of %d exceeded, got %d", limit, got)}
}

// BranchesLimitError is the same answer for a project's branches.
func BranchesLimitError(limit, got int) error {
	return &errkind.Error{Kind: errkind.Unprocessable, Code: "BRANCHES_LIMIT_EXCEEDED",
		Msg: fmt.Sprintf("branches limit of %d exceeded, got %d", limit, got)}
}

// CheckBranch refuses a new branch of a project with branches beyond the
// plan's limits: of branches, of protected branches (when protected), of
// root branches (a schema-only branch is one), and of its endpoints'
// sizes and suspend timeouts.
func CheckBranch(pl Plan, branches []metastore.Branch, protected, root bool, eps []metastore.Endpoint) error {
	if len(branches) >= pl.BranchesPerProject {
		return BranchesLimitError(pl.BranchesPerProject, len(branches))
	}
	if protected {
		if err := CheckProtected(pl, branches); err != nil {
			return err
		}
	}
	roots := 0
	for _, b := range branches {
		if b.ParentID == nil {
			roots++
		}
	}
	if root && roots >= pl.RootBranches {
		return &errkind.Error{Kind: errkind.Unprocessable, Code: "ROOT_BRANCHES_LIMIT_EXCEEDED",
			Msg: fmt.Sprintf("ROOT_BRANCHES_LIMIT_EXCEEDED: the project has reached its limit of %d root branches; delete unused root branches such as \"(old)\" ones", pl.RootBranches)}
	}
	for _, e := range eps {
		if err := CheckEndpoint(pl, e.MinCU, e.MaxCU, e.SuspendTimeoutSeconds); err != nil {
			return err
		}
	}
	return nil
}

// CheckManualSnapshots refuses a manual snapshot of a project that has as
// many as its plan allows.
func CheckManualSnapshots(pl Plan, existing []metastore.Snapshot) error {
	manual := 0
	for _, s := range existing {
		if s.Manual {
			manual++
		}
	}
	if manual >= pl.ManualSnapshots {
		return errkind.New(errkind.Unprocessable, "the project has reached its limit of %d manual snapshots on the %s plan; delete a snapshot first", pl.ManualSnapshots, pl.Name)
	}
	return nil
}

// Patch changes a plan; nil fields stay as they are (a new plan starts
// from the "free" plan's values).
type Patch struct {
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

// Apply returns pl with the patch's fields set.
func (pp Patch) Apply(pl Plan) Plan {
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

// Validate checks a plan's limits against each other and Neon's rules.
func Validate(pl Plan) error {
	switch {
	case !ids.ValidResource(pl.Name):
		return invalid("plan name %q must be lower-case letters, digits and dashes", pl.Name)
	case pl.ProjectsPerOrg < 0:
		return invalid("projects_per_org must not be negative")
	case pl.BranchesPerProject < 1 || pl.RootBranches < 1:
		return invalid("branches_per_project and root_branches must be at least 1")
	case pl.MaxCUSpread < 0 || pl.MaxCUSpread > 8:
		return invalid("max_cu_spread must be between 0 and 8 (Neon's largest autoscaling range)")
	case pl.MinSuspendTimeoutSeconds < 0 || pl.MinSuspendTimeoutSeconds > 604800:
		return invalid("min_suspend_timeout_seconds must be between 0 and 604800")
	case pl.ManualSnapshots < 0 || pl.ProtectedBranches < 0:
		return invalid("manual_snapshots and protected_branches must not be negative")
	case pl.HistoryRetentionDefaultSeconds < 0 || pl.HistoryRetentionMaxSeconds > MaxHistorySeconds ||
		pl.HistoryRetentionDefaultSeconds > pl.HistoryRetentionMaxSeconds:
		return invalid("history retention must satisfy 0 <= history_retention_default_seconds <= history_retention_max_seconds <= %d", MaxHistorySeconds)
	case pl.StorageQuotaBytes < 0 || pl.TransferQuotaBytes < 0 || pl.ActiveTimeQuotaSeconds < 0 || pl.ComputeTimeQuotaSeconds < 0:
		return invalid("quotas must not be negative (0 is unlimited)")
	}
	if err := ValidCU(pl.MinCU, pl.MinCU); err != nil {
		return invalid("min_cu %v is not a valid compute size", pl.MinCU)
	}
	if err := ValidCU(pl.MaxCU, pl.MaxCU); err != nil {
		return invalid("max_cu %v is not a valid compute size", pl.MaxCU)
	}
	if pl.MaxCU < pl.MinCU {
		return invalid("max_cu must be at least min_cu")
	}
	return nil
}

// ValidCU checks Neon's compute size rules for an autoscaling range.
func ValidCU(min, max float64) error {
	allowed := func(v float64) bool {
		return v == 0.25 || v == 0.5 || (v >= 1 && v <= 56 && v == math.Trunc(v) && (v <= 16 || math.Mod(v, 2) == 0))
	}
	switch {
	case !allowed(min):
		return invalid("autoscaling_limit_min_cu %v is not a valid compute size (0.25, 0.5, or a whole number of CU)", min)
	case !allowed(max):
		return invalid("autoscaling_limit_max_cu %v is not a valid compute size (0.25, 0.5, or a whole number of CU)", max)
	case max < min:
		return invalid("autoscaling_limit_max_cu must be greater than or equal to autoscaling_limit_min_cu")
	case min != max && max-min > 8:
		return invalid("autoscaling_limit_max_cu - autoscaling_limit_min_cu must not exceed 8")
	case min != max && max > 16:
		return invalid("autoscaling_limit_max_cu must not exceed 16 when autoscaling")
	case min != max && max > 10 && min < max/8:
		return invalid("autoscaling_limit_min_cu must be at least autoscaling_limit_max_cu/8 when autoscaling_limit_max_cu exceeds 10")
	}
	return nil
}

// ResolveCU applies requested limits over defaults: a min above the
// default max raises the max with it, as Neon does. The result is checked.
func ResolveCU(minCU, maxCU float64, reqMin, reqMax *float64) (float64, float64, error) {
	if reqMin != nil {
		minCU = *reqMin
		if reqMax == nil && maxCU < minCU {
			maxCU = minCU
		}
	}
	if reqMax != nil {
		maxCU = *reqMax
	}
	return minCU, maxCU, ValidCU(minCU, maxCU)
}

// ValidSuspend checks Neon's rule for suspend_timeout_seconds.
func ValidSuspend(sec int64) error {
	if sec == 0 || sec == -1 || (sec >= 60 && sec <= 604800) {
		return nil
	}
	return invalid("suspend_timeout_seconds must be -1 (never), 0 (default) or between 60 and 604800, got %d", sec)
}

// EndpointDefaults are the stored default_endpoint_settings that new
// endpoints start from.
type EndpointDefaults struct {
	MinCU      *float64          `json:"autoscaling_limit_min_cu"`
	MaxCU      *float64          `json:"autoscaling_limit_max_cu"`
	Suspend    *int64            `json:"suspend_timeout_seconds"`
	PgSettings map[string]string `json:"pg_settings"`
}

// ParseEndpointDefaults reads stored default_endpoint_settings, validated
// on write; what it cannot read defaults nothing.
func ParseEndpointDefaults(raw json.RawMessage) EndpointDefaults {
	var d EndpointDefaults
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &d)
	}
	return d
}

// ValidEndpointDefaults checks default_endpoint_settings by Neon's general
// rules, before they are stored.
func ValidEndpointDefaults(raw json.RawMessage) error {
	var d EndpointDefaults
	if err := json.Unmarshal(raw, &d); err != nil {
		return invalid("project.default_endpoint_settings: %v", err)
	}
	if d.MinCU != nil || d.MaxCU != nil {
		if err := ValidCU(d.defaultRange()); err != nil {
			return err
		}
	}
	if d.Suspend != nil {
		return ValidSuspend(*d.Suspend)
	}
	return nil
}
