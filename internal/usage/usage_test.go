package usage

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/metering"
)

func TestWindow(t *testing.T) {
	now := time.Date(2026, 5, 20, 15, 30, 0, 0, time.UTC)
	d := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		gran, from, to string
		trunc          string
		rf, rt         string
		kind           errkind.Kind // 0: no error
	}{
		{"hourly", "2026-05-20T10:15:00Z", "2026-05-20T12:00:00Z", "hour", "2026-05-20T10:00:00Z", "2026-05-20T12:00:00Z", 0},
		{"hourly", "2026-05-20T10:15:00Z", "2026-05-20T12:01:00Z", "hour", "2026-05-20T10:00:00Z", "2026-05-20T13:00:00Z", 0},
		{"hourly", "2026-05-13T15:00:00Z", "2026-05-20T12:00:00Z", "hour", "2026-05-13T15:00:00Z", "2026-05-20T12:00:00Z", 0},
		{"hourly", "2026-05-13T14:00:00Z", "2026-05-20T12:00:00Z", "", "", "", errkind.NotAcceptable},
		{"daily", "2026-03-21T08:00:00Z", "2026-05-20T08:00:00Z", "day", "2026-03-21T00:00:00Z", "2026-05-21T00:00:00Z", 0},
		{"daily", "2026-03-20T00:00:00Z", "2026-05-20T00:00:00Z", "", "", "", errkind.NotAcceptable},
		{"monthly", "2025-06-10T00:00:00Z", "2026-05-20T00:00:00Z", "month", "2025-06-01T00:00:00Z", "2026-06-01T00:00:00Z", 0},
		{"monthly", "2025-04-01T00:00:00Z", "2026-05-20T00:00:00Z", "", "", "", errkind.NotAcceptable},
		{"monthly", "2024-02-01T00:00:00Z", "2024-05-01T00:00:00Z", "", "", "", errkind.NotAcceptable},
		{"weekly", "2026-05-20T10:00:00Z", "2026-05-20T12:00:00Z", "", "", "", errkind.Invalid},
		{"hourly", "2026-05-20T12:00:00Z", "2026-05-20T12:00:00Z", "", "", "", errkind.Invalid},
		{"hourly", "2026-05-20T13:00:00Z", "2026-05-20T12:00:00Z", "", "", "", errkind.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.gran+" "+tc.from+" "+tc.to, func(t *testing.T) {
			trunc, rf, rt, err := Window(tc.gran, d(tc.from), d(tc.to), now)
			if tc.kind != 0 {
				var e *errkind.Error
				if !errors.As(err, &e) || e.Kind != tc.kind {
					t.Fatalf("err = %v, want kind %d", err, tc.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if trunc != tc.trunc || !rf.Equal(d(tc.rf)) || !rt.Equal(d(tc.rt)) {
				t.Errorf("= %s %s %s, want %s %s %s", trunc, rf, rt, tc.trunc, tc.rf, tc.rt)
			}
		})
	}
}

func TestQuotaExceeded(t *testing.T) {
	u := Usage{ActiveSeconds: 100, ComputeSeconds: 25, WrittenBytes: 1 << 20, TransferBytes: 5000}
	tests := []struct {
		q    Quota
		want string
	}{
		{Quota{}, ""},
		{Quota{ActiveTimeSeconds: 101, DataTransferBytes: 5001}, ""},
		{Quota{ActiveTimeSeconds: 100}, "active_time_seconds"},
		{Quota{ComputeTimeSeconds: 20}, "compute_time_seconds"},
		{Quota{WrittenDataBytes: 1 << 20}, "written_data_bytes"},
		{Quota{DataTransferBytes: 4000, LogicalSizeBytes: 1}, "data_transfer_bytes"},
	}
	for _, tc := range tests {
		if got := tc.q.Exceeded(u); got != tc.want {
			t.Errorf("%+v: exceeded = %q, want %q", tc.q, got, tc.want)
		}
	}
	if err := (&QuotaError{Metric: "data_transfer_bytes"}); !errors.Is(err, ErrQuotaExceeded) {
		t.Error("a QuotaError is not ErrQuotaExceeded")
	}
}

func TestOver(t *testing.T) {
	quotas := map[string]Quota{"p1": {ActiveTimeSeconds: 100}, "p2": {LogicalSizeBytes: 10}}
	period := map[string]Usage{"p1": {ActiveSeconds: 100}, "p2": {ActiveSeconds: 1000}}
	branches := []metastore.BranchUsageInfo{
		{ID: "b1", ProjectID: "p2", LogicalSize: 10},
		{ID: "b2", ProjectID: "p2", LogicalSize: 9},
		{ID: "b3", ProjectID: "p1", LogicalSize: 1 << 30},
	}
	got := Over(quotas, period, branches)
	want := map[string]QuotaError{
		"p1": {Metric: "active_time_seconds", ProjectID: "p1"},
		"b1": {Metric: "logical_size_bytes", ProjectID: "p2", BranchID: "b1"},
	}
	if len(got) != len(want) {
		t.Fatalf("Over = %v, want %v", got, want)
	}
	for k, w := range want {
		if g := got[k]; g == nil || *g != w {
			t.Errorf("Over[%s] = %+v, want %+v", k, g, w)
		}
	}
}

func TestSumAndPeriod(t *testing.T) {
	start, end := BillingPeriod(time.Date(2026, 5, 20, 15, 30, 0, 0, time.FixedZone("x", 3600)))
	if !start.Equal(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) || !end.Equal(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("BillingPeriod = %s, %s", start, end)
	}
	pts := []metastore.ConsumptionPoint{
		{ProjectID: "p", BranchID: "a", ActiveSeconds: 10, WrittenBytes: 1},
		{ProjectID: "p", BranchID: "b", ActiveSeconds: 5, TransferBytes: 2},
	}
	if got := Sum(pts, false, start, end)["p"]; got.ActiveSeconds != 15 || got.WrittenBytes != 1 || got.TransferBytes != 2 || !got.PeriodEnd.Equal(end) {
		t.Errorf("by project: %+v", got)
	}
	if got := Sum(pts, true, start, end); len(got) != 2 || got["b"].ActiveSeconds != 5 {
		t.Errorf("by branch: %+v", got)
	}
	if PeriodID("p", start) != PeriodID("p", start.Add(time.Hour)) || PeriodID("p", start) == PeriodID("p", end) {
		t.Error("PeriodID is not one id per owner and month")
	}
}

// TestBlocked: a check drops what its projects no longer exceed, keeps
// other projects' entries, and returns only what is newly over.
func TestBlocked(t *testing.T) {
	qa := &QuotaError{Metric: "written_data_bytes", ProjectID: "a"}
	qb := &QuotaError{Metric: "logical_size_bytes", ProjectID: "b", BranchID: "br-b"}
	b := Blocked{}
	if fresh := b.Update(nil, map[string]*QuotaError{"a": qa, "br-b": qb}); len(fresh) != 2 || len(b) != 2 {
		t.Fatalf("first check: fresh %v, blocked %v", fresh, b)
	}
	if fresh := b.Update([]string{"a"}, map[string]*QuotaError{"a": qa}); len(fresh) != 0 || len(b) != 2 {
		t.Fatalf("still over: fresh %v, blocked %v", fresh, b)
	}
	if fresh := b.Update([]string{"a"}, nil); len(fresh) != 0 || b["a"] != nil || b["br-b"] != qb {
		t.Fatalf("a back under: fresh %v, blocked %v", fresh, b)
	}
	if fresh := b.Update(nil, nil); len(fresh) != 0 || len(b) != 0 {
		t.Fatalf("every project under: fresh %v, blocked %v", fresh, b)
	}
}

// TestRows: a flush is booked to the branches that own its endpoints;
// records of deleted endpoints are dropped.
func TestRows(t *testing.T) {
	at := time.Date(2026, 5, 20, 15, 0, 0, 0, time.UTC)
	rec := func(ep string, active float64) metering.Record {
		return metering.Record{Endpoint: ep, Start: at, Usage: metering.Usage{ActiveSeconds: active, WrittenBytes: 10}}
	}
	recs := []metering.Record{rec("ep-b", 5), rec("ep-a", 1), rec("ep-gone", 7), rec("ep-a", 2), rec("ep-c", 3)}
	if got := Endpoints(recs); !slices.Equal(got, []string{"ep-a", "ep-b", "ep-c", "ep-gone"}) {
		t.Errorf("Endpoints = %v", got)
	}
	owners := map[string]metastore.EndpointOwner{
		"ep-a": {ProjectID: "p2", BranchID: "br-a"}, "ep-b": {ProjectID: "p1", BranchID: "br-b"}, "ep-c": {ProjectID: "p2", BranchID: "br-c"},
	}
	rows, projects, dropped := Rows(recs, owners)
	if len(rows) != 4 || dropped != 1 || !slices.Equal(projects, []string{"p1", "p2"}) {
		t.Fatalf("Rows = %+v, %v, %d", rows, projects, dropped)
	}
	if r := rows[1]; r.ProjectID != "p2" || r.BranchID != "br-a" || !r.Bucket.Equal(at) || r.ActiveSeconds != 1 || r.WrittenBytes != 10 {
		t.Errorf("row of ep-a: %+v", r)
	}
}

func TestParseQuotas(t *testing.T) {
	got := ParseQuotas(map[string]json.RawMessage{
		"p1": json.RawMessage(`{"active_time_seconds":3600,"logical_size_bytes":1024}`),
		"p2": json.RawMessage(`"broken"`),
	})
	if len(got) != 1 || got["p1"] != (Quota{ActiveTimeSeconds: 3600, LogicalSizeBytes: 1024}) {
		t.Errorf("ParseQuotas = %+v", got)
	}
}

// TestPageBranches: the page after a cursor, filtered, with the cursor of
// its last branch.
func TestPageBranches(t *testing.T) {
	infos := []metastore.BranchUsageInfo{{ProjectID: "p1", ID: "b1"}, {ProjectID: "p1", ID: "b2"}, {ProjectID: "p2", ID: "b1"}, {ProjectID: "p2", ID: "b3"}}
	ids := func(page []metastore.BranchUsageInfo) (out []string) {
		for _, b := range page {
			out = append(out, b.ProjectID+"/"+b.ID)
		}
		return out
	}
	page, next := PageBranches(infos, nil, "", 2)
	if !slices.Equal(ids(page), []string{"p1/b1", "p1/b2"}) || next != "p1/b2" {
		t.Fatalf("first page: %v, %q", ids(page), next)
	}
	page, next = PageBranches(infos, nil, next, 2)
	if !slices.Equal(ids(page), []string{"p2/b1", "p2/b3"}) || next != "p2/b3" {
		t.Fatalf("second page: %v, %q", ids(page), next)
	}
	if page, next = PageBranches(infos, nil, next, 2); len(page) != 0 || next != "" {
		t.Fatalf("past the end: %v, %q", ids(page), next)
	}
	if page, _ = PageBranches(infos, []string{"b1"}, "", 10); !slices.Equal(ids(page), []string{"p1/b1", "p2/b1"}) {
		t.Fatalf("filtered: %v", ids(page))
	}
}
