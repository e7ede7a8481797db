// Package usage is the arithmetic of consumption: billing periods, the
// windows and rounding of consumption history, sums of stored usage points,
// the rows a metering flush books to branches, and project quotas. It
// reads no store and meters nothing: the platform passes in what it read. Errors are *errkind.Error with the messages the
// API returns.
package usage

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/metering"
)

// Usage is consumption summed over the current billing period.
type Usage struct {
	ActiveSeconds, ComputeSeconds int64
	WrittenBytes, TransferBytes   int64
	StorageByteHours              int64
	PeriodStart, PeriodEnd        time.Time
}

// BillingPeriod is the calendar month (UTC) holding t, Neon's billing
// period: a project is in one from its creation, before any usage is stored.
func BillingPeriod(t time.Time) (start, end time.Time) {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC), time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
}

// Sum adds up usage points of the period [start, end) per project, or per
// branch.
func Sum(pts []metastore.ConsumptionPoint, byBranch bool, start, end time.Time) map[string]Usage {
	out := map[string]Usage{}
	for _, pt := range pts {
		k := pt.ProjectID
		if byBranch {
			k = pt.BranchID
		}
		u := out[k]
		u.ActiveSeconds += int64(pt.ActiveSeconds)
		u.ComputeSeconds += int64(pt.ComputeSeconds)
		u.WrittenBytes += pt.WrittenBytes
		u.TransferBytes += pt.TransferBytes
		u.StorageByteHours += pt.StorageByteHours
		out[k] = u
	}
	for k, u := range out {
		u.PeriodStart, u.PeriodEnd = start, end
		out[k] = u
	}
	return out
}

// Consumption history windows, as Neon's.
var (
	epoch   = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	windows = map[string]struct {
		trunc  string
		window time.Duration
		round  func(time.Time) time.Time
		next   func(time.Time) time.Time
	}{
		"hourly": {"hour", 168 * time.Hour, func(t time.Time) time.Time { return t.Truncate(time.Hour) },
			func(t time.Time) time.Time { return t.Add(time.Hour) }},
		"daily": {"day", 60 * 24 * time.Hour, func(t time.Time) time.Time { return t.Truncate(24 * time.Hour) },
			func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
		"monthly": {"month", 366 * 24 * time.Hour, func(t time.Time) time.Time {
			y, m, _ := t.Date()
			return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		}, func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
	}
)

// Window checks a history range for a granularity and rounds it: from
// down to its timeframe, to up to the end of its timeframe. A range
// reaching further back than the granularity allows (hourly 168 hours,
// daily 60 days, monthly a year) or before March 2024 is Neon's 406.
func Window(granularity string, from, to, now time.Time) (trunc string, rf, rt time.Time, err error) {
	w, ok := windows[granularity]
	if !ok {
		return "", rf, rt, errkind.New(errkind.Invalid, "invalid granularity %q: must be hourly, daily or monthly", granularity)
	}
	from, to, now = from.UTC(), to.UTC(), now.UTC()
	if !to.After(from) {
		return "", rf, rt, errkind.New(errkind.Invalid, "to must be after from")
	}
	rf = w.round(from)
	rt = w.round(to)
	if rt.Before(to) {
		rt = w.next(rt)
	}
	if rf.Before(epoch) {
		return "", rf, rt, errkind.New(errkind.NotAcceptable, "consumption history is available from %s", epoch.Format(time.RFC3339))
	}
	if rf.Before(w.round(now.Add(-w.window))) {
		return "", rf, rt, errkind.New(errkind.NotAcceptable, "the from and to range is outside the boundaries of %s granularity: %s metrics are limited to the last %s",
			granularity, granularity, map[string]string{"hourly": "168 hours", "daily": "60 days", "monthly": "year"}[granularity])
	}
	return w.trunc, rf, rt, nil
}

// PageBranches filters branches (ordered by project then id) and returns
// the page after cursor ("project/branch") with its own last branch's
// cursor ("" for an empty page).
func PageBranches(infos []metastore.BranchUsageInfo, filter []string, cursor string, limit int) (page []metastore.BranchUsageInfo, next string) {
	cp, cb, _ := strings.Cut(cursor, "/")
	for _, b := range infos {
		if len(filter) > 0 && !slices.Contains(filter, b.ID) {
			continue
		}
		if cursor != "" && (b.ProjectID < cp || (b.ProjectID == cp && b.ID <= cb)) {
			continue
		}
		page = append(page, b)
		if len(page) == limit {
			break
		}
	}
	if len(page) > 0 {
		last := page[len(page)-1]
		next = last.ProjectID + "/" + last.ID
	}
	return page, next
}

var periodNamespace = uuid.MustParse("5b1f0c3e-2f7a-4c8e-9a61-6f0d2b9c7e41")

// PeriodID is a stable id of a project's (or branch's) billing period
// starting at start.
func PeriodID(owner string, start time.Time) string {
	s := fmt.Sprintf("consumption-period/%s/%s", owner, start.UTC().Format("2006-01"))
	return uuid.NewSHA1(periodNamespace, []byte(s)).String()
}

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

// Quota is project.settings.quota; 0 or absent is unlimited.
type Quota struct {
	ActiveTimeSeconds  int64 `json:"active_time_seconds"`
	ComputeTimeSeconds int64 `json:"compute_time_seconds"`
	WrittenDataBytes   int64 `json:"written_data_bytes"`
	DataTransferBytes  int64 `json:"data_transfer_bytes"`
	LogicalSizeBytes   int64 `json:"logical_size_bytes"`
}

// ParseQuotas reads the stored quotas of projects (project.settings.quota
// by project id). They are validated on write: an unreadable one limits
// nothing and is left out.
func ParseQuotas(raw map[string]json.RawMessage) map[string]Quota {
	quotas := make(map[string]Quota, len(raw))
	for id, r := range raw {
		var q Quota
		if err := json.Unmarshal(r, &q); err == nil {
			quotas[id] = q
		}
	}
	return quotas
}

// Exceeded returns the first period quota u reaches, or "".
func (q Quota) Exceeded(u Usage) string {
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

// Over returns the projects and branches over their quota, by project or
// branch id: a project whose period usage reaches one of its period
// quotas, a branch whose logical size reaches its project's
// logical_size_bytes.
func Over(quotas map[string]Quota, period map[string]Usage, branches []metastore.BranchUsageInfo) map[string]*QuotaError {
	over := map[string]*QuotaError{}
	for id, q := range quotas {
		if m := q.Exceeded(period[id]); m != "" {
			over[id] = &QuotaError{Metric: m, ProjectID: id}
		}
	}
	for _, b := range branches {
		if q := quotas[b.ProjectID]; q.LogicalSizeBytes > 0 && b.LogicalSize >= q.LogicalSizeBytes {
			over[b.ID] = &QuotaError{Metric: "logical_size_bytes", ProjectID: b.ProjectID, BranchID: b.ID}
		}
	}
	return over
}

// Blocked is the projects and branches found over their quotas, by project
// or branch id.
type Blocked map[string]*QuotaError

// Update records a check of the projects ids (every project when nil)
// that found over: their entries no longer over are dropped, the others
// set. It returns those newly over.
func (b Blocked) Update(ids []string, over map[string]*QuotaError) map[string]*QuotaError {
	for k, qe := range b {
		if ids == nil || slices.Contains(ids, qe.ProjectID) {
			if _, still := over[k]; !still {
				delete(b, k)
			}
		}
	}
	fresh := map[string]*QuotaError{}
	for k, qe := range over {
		if _, was := b[k]; !was {
			fresh[k] = qe
		}
		b[k] = qe
	}
	return fresh
}

// Endpoints returns the endpoints of a metering flush, sorted, once each.
func Endpoints(recs []metering.Record) []string {
	ids := make([]string, 0, len(recs))
	for _, r := range recs {
		ids = append(ids, r.Endpoint)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Rows books a metering flush to the branches that own its endpoints
// (owners), and returns the projects it touched (sorted, once each) and
// how many records it dropped: those of endpoints that no longer exist.
func Rows(recs []metering.Record, owners map[string]metastore.EndpointOwner) (rows []metastore.ConsumptionRow, projects []string, dropped int) {
	rows = make([]metastore.ConsumptionRow, 0, len(recs))
	for _, r := range recs {
		o, ok := owners[r.Endpoint]
		if !ok {
			dropped++
			continue
		}
		rows = append(rows, metastore.ConsumptionRow{ProjectID: o.ProjectID, BranchID: o.BranchID, Bucket: r.Start,
			ActiveSeconds: r.ActiveSeconds, ComputeSeconds: r.ComputeSeconds,
			WrittenBytes: r.WrittenBytes, TransferBytes: r.TransferBytes})
		projects = append(projects, o.ProjectID)
	}
	slices.Sort(projects)
	return rows, slices.Compact(projects), dropped
}
