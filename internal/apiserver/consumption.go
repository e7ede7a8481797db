package apiserver

import (
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/platform"
	"github.com/grovedb/grove/internal/usage"
)

func (s *Server) consumptionRoutes() {
	s.handle("GET /consumption_history/projects", s.consumptionProjects)
	s.handle("GET /consumption_history/v2/projects", s.consumptionProjectsV2)
	s.handle("GET /consumption_history/v2/branches", s.consumptionBranchesV2)
	// Neon removed the account endpoint from its spec (2.7.3); it is served
	// for older clients but left out of the API description.
	s.handle("GET /consumption_history/account", s.consumptionAccount)
	s.patterns = slices.DeleteFunc(s.patterns, func(p string) bool { return p == "GET /consumption_history/account" })
}

// Metric names.
var (
	v1Optional = []string{"data_storage_bytes_hour", "logical_size_bytes", "logical_size_bytes_hour"}
	v1Metrics  = append([]string{"active_time_seconds", "compute_time_seconds", "written_data_bytes", "synthetic_storage_size_bytes"}, v1Optional...)
	v2Branch   = []string{"compute_unit_seconds", "root_branch_bytes_month", "child_branch_bytes_month",
		"instant_restore_bytes_month", "public_network_transfer_bytes", "private_network_transfer_bytes"}
	v2Project = append(slices.Clone(v2Branch), "extra_branches_month", "snapshot_storage_bytes_month")
)

// queryIDs reads a list parameter given repeated, comma-separated or both.
func queryIDs(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}

// consumptionInput reads the parameters the consumption endpoints share;
// maxLimit and defLimit bound limit.
func consumptionInput(r *http.Request, defLimit, maxLimit int) (platform.ConsumptionInput, error) {
	q := r.URL.Query()
	var in platform.ConsumptionInput
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &in.From}, {"to", &in.To}} {
		v := q.Get(p.name)
		if v == "" {
			return in, badRequest("invalid request: query parameter %s is required", p.name)
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return in, badRequest("invalid request: query parameter %s: %q is not an RFC 3339 date-time", p.name, v)
		}
		*p.t = t
	}
	in.Granularity = q.Get("granularity")
	if in.Granularity == "" {
		return in, badRequest("invalid request: query parameter granularity is required")
	}
	limit, err := queryInt(r, "limit", defLimit)
	if err != nil {
		return in, err
	}
	if limit < 1 || limit > maxLimit {
		return in, badRequest("invalid request: limit must be between 1 and %d", maxLimit)
	}
	in.Limit = limit
	in.Cursor = q.Get("cursor")
	in.OrgID = q.Get("org_id")
	in.ProjectIDs = queryIDs(r, "project_ids")
	if len(in.ProjectIDs) > 100 {
		return in, badRequest("invalid request: project_ids: at most 100 projects")
	}
	return in, nil
}

// metricsParam reads metrics, each of which must be in allowed.
func metricsParam(r *http.Request, allowed []string, required bool) ([]string, error) {
	ms := queryIDs(r, "metrics")
	if len(ms) == 0 && required {
		return nil, badRequest("invalid request: query parameter metrics is required")
	}
	for _, m := range ms {
		if !slices.Contains(allowed, m) {
			return nil, badRequest("invalid request: unsupported metric %q: supported are %s", m, strings.Join(allowed, ", "))
		}
	}
	return ms, nil
}

func round(f float64) uint64 {
	if f <= 0 {
		return 0
	}
	return uint64(math.Round(f))
}

// timeframeEnd is the end of the timeframe starting at t.
func timeframeEnd(granularity string, t time.Time) time.Time {
	switch granularity {
	case "hourly":
		return t.Add(time.Hour)
	case "daily":
		return t.AddDate(0, 0, 1)
	}
	return t.AddDate(0, 1, 0)
}

// period returns the billing period (month, UTC) holding t and whether it
// has ended.
func period(t time.Time) (start, end time.Time, past bool) {
	y, m, _ := t.UTC().Date()
	start = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	end = start.AddDate(0, 1, 0)
	return start, end, !end.After(time.Now())
}

// v1Periods groups v1 timeframes (points of one owner, oldest first) into
// billing periods.
func v1Periods(owner, plan, granularity string, pts []platform.ConsumptionPoint, metrics []string) apitypes.List[apitypes.ConsumptionHistoryPerPeriod] {
	out := apitypes.List[apitypes.ConsumptionHistoryPerPeriod]{}
	for _, pt := range pts {
		start, end, past := period(pt.Start)
		if len(out) == 0 || !out[len(out)-1].PeriodStart.Equal(start) {
			pe := apitypes.ConsumptionHistoryPerPeriod{PeriodID: usage.PeriodID(owner, start), PeriodPlan: plan,
				PeriodStart: at(start), Consumption: apitypes.List[apitypes.ConsumptionHistoryPerTimeframe]{}}
			if past {
				pe.PeriodEnd = at(end)
			}
			out = append(out, pe)
		}
		tf := apitypes.ConsumptionHistoryPerTimeframe{
			TimeframeStart: at(pt.Start), TimeframeEnd: at(timeframeEnd(granularity, pt.Start)),
			ActiveTimeSeconds: round(pt.ActiveSeconds), ComputeTimeSeconds: round(pt.ComputeSeconds),
			WrittenDataBytes: uint64(max(pt.WrittenBytes, 0)), SyntheticStorageSizeBytes: uint64(max(pt.StorageBytes, 0)),
		}
		size, hours := uint64(max(pt.StorageBytes, 0)), uint64(max(pt.StorageByteHours, 0))
		for _, m := range metrics {
			switch m {
			case "data_storage_bytes_hour":
				tf.DataStorageBytesHour = &hours
			case "logical_size_bytes":
				tf.LogicalSizeBytes = &size
			case "logical_size_bytes_hour":
				tf.LogicalSizeBytesHour = &hours
			}
		}
		last := &out[len(out)-1]
		last.Consumption = append(last.Consumption, tf)
	}
	return out
}

// v1Params reads the parameters of the v1 endpoints: those they share
// with v2, and the optional metrics asked for, through metrics or the
// deprecated include_v1_metrics.
func v1Params(r *http.Request) (platform.ConsumptionInput, []string, error) {
	in, err := consumptionInput(r, 10, 100)
	if err != nil {
		return in, nil, err
	}
	ms, err := v1MetricsParam(r)
	return in, ms, err
}

func v1MetricsParam(r *http.Request) ([]string, error) {
	ms, err := metricsParam(r, v1Metrics, false)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		inc, err := queryBool(r, "include_v1_metrics")
		if err != nil {
			return nil, err
		}
		if inc {
			ms = []string{"data_storage_bytes_hour"}
		}
	}
	return ms, nil
}

// byProject splits points ordered by project into a map.
func byProject(pts []platform.ConsumptionPoint) map[string][]platform.ConsumptionPoint {
	out := map[string][]platform.ConsumptionPoint{}
	for _, pt := range pts {
		out[pt.ProjectID] = append(out[pt.ProjectID], pt)
	}
	return out
}

func (s *Server) consumptionProjects(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	in, metrics, err := v1Params(r)
	if err != nil {
		return err
	}
	page, err := s.p.ConsumptionHistory(r.Context(), pr, in)
	if err != nil {
		return err
	}
	pts := byProject(page.Points)
	resp := apitypes.ConsumptionHistoryPerProjectResponse{Projects: apitypes.List[apitypes.ConsumptionHistoryPerProject]{}}
	for _, pj := range page.Projects {
		resp.Projects = append(resp.Projects, apitypes.ConsumptionHistoryPerProject{ProjectID: pj.ID,
			Periods: v1Periods(pj.ID, page.Plans[pj.OrgID], in.Granularity, pts[pj.ID], metrics)})
	}
	if page.Cursor != "" {
		resp.Pagination = &apitypes.Pagination{Cursor: page.Cursor}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// consumptionAccount is the legacy account-wide history: every project of
// org_id (or of the caller's orgs) summed per timeframe.
func (s *Server) consumptionAccount(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	in, metrics, err := v1Params(r)
	if err != nil {
		return err
	}
	in.Limit, in.Cursor, in.ProjectIDs = math.MaxInt32, "", nil
	page, err := s.p.ConsumptionHistory(r.Context(), pr, in)
	if err != nil {
		return err
	}
	sum := map[time.Time]*platform.ConsumptionPoint{}
	var starts []time.Time
	for _, pt := range page.Points {
		a := sum[pt.Start]
		if a == nil {
			a = &platform.ConsumptionPoint{Start: pt.Start}
			sum[pt.Start] = a
			starts = append(starts, pt.Start)
		}
		a.ActiveSeconds += pt.ActiveSeconds
		a.ComputeSeconds += pt.ComputeSeconds
		a.WrittenBytes += pt.WrittenBytes
		a.TransferBytes += pt.TransferBytes
		a.StorageBytes += pt.StorageBytes
		a.StorageByteHours += pt.StorageByteHours
	}
	slices.SortFunc(starts, time.Time.Compare)
	agg := make([]platform.ConsumptionPoint, len(starts))
	for i, t := range starts {
		agg[i] = *sum[t]
	}
	owner, plan := strings.Join(pr.OrgIDs, ","), ""
	if in.OrgID != "" {
		owner = in.OrgID
	}
	for _, p := range page.Plans {
		plan = p
	}
	writeJSON(w, http.StatusOK, apitypes.ConsumptionHistoryPerAccountResponse{
		Periods: v1Periods(owner, plan, in.Granularity, agg, metrics)})
	return nil
}

// v2Values turns a timeframe's usage into the requested v2 metrics, leaving
// out those without usage. Storage is in byte-months: byte-hours over the
// hours of the timeframe's month.
func v2Values(pt platform.ConsumptionPoint, root bool, metrics []string) apitypes.List[apitypes.ConsumptionMetricValue] {
	ps, pe, _ := period(pt.Start)
	monthHours := pe.Sub(ps).Hours()
	out := apitypes.List[apitypes.ConsumptionMetricValue]{}
	for _, m := range metrics {
		var v int64
		switch m {
		case "compute_unit_seconds":
			v = int64(round(pt.ComputeSeconds))
		case "public_network_transfer_bytes":
			v = pt.TransferBytes
		case "root_branch_bytes_month":
			if root {
				v = int64(math.Round(float64(pt.StorageByteHours) / monthHours))
			}
		case "child_branch_bytes_month":
			if !root {
				v = int64(math.Round(float64(pt.StorageByteHours) / monthHours))
			}
		}
		if v != 0 {
			out = append(out, apitypes.ConsumptionMetricValue{MetricName: m, Value: v})
		}
	}
	return out
}

// v2Periods groups per-branch points (one owner's, ordered by branch then
// time) into billing periods of timeframes; the metrics of a timeframe sum
// its branches'. Timeframes without usage are left out.
func v2Periods(owner, plan, granularity string, pts []platform.ConsumptionPoint, roots map[string]bool, metrics []string) apitypes.List[apitypes.ConsumptionHistoryPerPeriodV2] {
	vals := map[time.Time]map[string]int64{}
	var starts []time.Time
	for _, pt := range pts {
		for _, mv := range v2Values(pt, roots[pt.BranchID], metrics) {
			if vals[pt.Start] == nil {
				vals[pt.Start] = map[string]int64{}
				starts = append(starts, pt.Start)
			}
			vals[pt.Start][mv.MetricName] += mv.Value
		}
	}
	slices.SortFunc(starts, time.Time.Compare)
	out := apitypes.List[apitypes.ConsumptionHistoryPerPeriodV2]{}
	for _, t := range starts {
		start, end, past := period(t)
		if len(out) == 0 || !out[len(out)-1].PeriodStart.Equal(start) {
			pe := apitypes.ConsumptionHistoryPerPeriodV2{PeriodID: usage.PeriodID(owner, start), PeriodPlan: plan,
				PeriodStart: at(start), Consumption: apitypes.List[apitypes.ConsumptionHistoryPerTimeframeV2]{}}
			if past {
				pe.PeriodEnd = at(end)
			}
			out = append(out, pe)
		}
		tf := apitypes.ConsumptionHistoryPerTimeframeV2{TimeframeStart: at(t), TimeframeEnd: at(timeframeEnd(granularity, t)),
			Metrics: apitypes.List[apitypes.ConsumptionMetricValue]{}}
		for _, m := range metrics {
			if v := vals[t][m]; v != 0 {
				tf.Metrics = append(tf.Metrics, apitypes.ConsumptionMetricValue{MetricName: m, Value: v})
			}
		}
		last := &out[len(out)-1]
		last.Consumption = append(last.Consumption, tf)
	}
	return out
}

// v2Input reads the parameters both v2 consumption routes take: the
// common ones, required metrics and a required org_id.
func v2Input(r *http.Request, defLimit, maxLimit int, allowed []string) (platform.ConsumptionInput, []string, error) {
	in, err := consumptionInput(r, defLimit, maxLimit)
	if err != nil {
		return in, nil, err
	}
	metrics, err := metricsParam(r, allowed, true)
	if err != nil {
		return in, nil, err
	}
	if in.OrgID == "" {
		return in, nil, badRequest("invalid request: query parameter org_id is required")
	}
	in.RequireOrg = true
	return in, metrics, nil
}

func (s *Server) consumptionProjectsV2(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	in, metrics, err := v2Input(r, 10, 100, v2Project)
	if err != nil {
		return err
	}
	in.PointsByBranch = true
	page, err := s.p.ConsumptionHistory(r.Context(), pr, in)
	if err != nil {
		return err
	}
	pts := byProject(page.Points)
	resp := apitypes.ConsumptionHistoryPerProjectV2Response{Projects: apitypes.List[apitypes.ConsumptionHistoryPerProjectV2]{}}
	for _, pj := range page.Projects {
		resp.Projects = append(resp.Projects, apitypes.ConsumptionHistoryPerProjectV2{ProjectID: pj.ID,
			Periods: v2Periods(pj.ID, page.Plans[pj.OrgID], in.Granularity, pts[pj.ID], page.Roots, metrics)})
	}
	if page.Cursor != "" {
		resp.Pagination = &apitypes.Pagination{Cursor: page.Cursor}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) consumptionBranchesV2(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	in, metrics, err := v2Input(r, 100, 1000, v2Branch)
	if err != nil {
		return err
	}
	if len(in.ProjectIDs) == 0 {
		return badRequest("invalid request: query parameter project_ids is required")
	}
	in.BranchIDs = queryIDs(r, "branch_ids")
	if len(in.BranchIDs) > 100 {
		return badRequest("invalid request: branch_ids: at most 100 branches")
	}
	in.ByBranch = true
	page, err := s.p.ConsumptionHistory(r.Context(), pr, in)
	if err != nil {
		return err
	}
	pts := map[string][]platform.ConsumptionPoint{}
	for _, pt := range page.Points {
		pts[pt.BranchID] = append(pts[pt.BranchID], pt)
	}
	plan := ""
	for _, p := range page.Plans {
		plan = p
	}
	resp := apitypes.ConsumptionHistoryPerBranchV2Response{Branches: apitypes.List[apitypes.ConsumptionHistoryPerBranchV2]{}}
	for _, b := range page.Branches {
		resp.Branches = append(resp.Branches, apitypes.ConsumptionHistoryPerBranchV2{ProjectID: b.ProjectID, BranchID: b.ID,
			Periods: v2Periods(b.ID, plan, in.Granularity, pts[b.ID], page.Roots, metrics)})
	}
	if page.Cursor != "" {
		resp.Pagination = &apitypes.Pagination{Cursor: page.Cursor}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
