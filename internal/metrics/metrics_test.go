package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/autoscale"
	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/proxy"
)

// scrape returns the registry's text exposition.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 {
		t.Fatalf("scrape: %d %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("content type %q, want Prometheus' text format", ct)
	}
	b, _ := io.ReadAll(w.Body)
	return string(b)
}

func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	m := New(Config{
		ComputeStates: func() map[string]int { return map[string]int{"active": 3, "starting": 1} },
		Endpoints:     func(context.Context) (int, error) { return 10, nil },
		Proxy:         func() Traffic { return Traffic{Open: 2, Total: 7, BytesIn: 100, BytesOut: 5000} },
		Autoscale:     func() Scaling { return Scaling{Ups: 4, Downs: 1, Computes: 3, CU: 1.75} },
		Storage: Storage{Driver: "btrfs", Root: dir,
			Volumes: func(context.Context) (int, error) { return 12, nil }},
	})
	m.ObserveAPI("/projects/{project_id}", "GET", 200, 30*time.Millisecond)
	m.ObserveAPI("/projects/{project_id}", "GET", 404, time.Millisecond)
	m.ObserveAPI("", "GET", 404, time.Millisecond)
	m.RateLimited("route")
	for _, e := range []compute.Event{
		{Kind: compute.EventStarted, ID: "ep-a-1", Duration: 400 * time.Millisecond},
		{Kind: compute.EventStarted, ID: "ep-b-2", Duration: 2 * time.Second},
		{Kind: compute.EventStarted, ID: "pool-1234", Duration: time.Second}, // a warm instance: not counted
		{Kind: compute.EventSuspended, ID: "ep-a-1"},
		{Kind: compute.EventRestarted, ID: "ep-a-1", Duration: time.Second},
	} {
		m.ComputeEvent(e)
	}
	out := scrape(t, m)
	for _, want := range []string{
		`grove_api_request_duration_seconds_count{method="GET",route="/projects/{project_id}",status="2xx"} 1`,
		`grove_api_request_duration_seconds_count{method="GET",route="/projects/{project_id}",status="4xx"} 1`,
		`grove_api_request_duration_seconds_bucket{method="GET",route="/projects/{project_id}",status="2xx",le="0.05"} 1`,
		`grove_api_request_duration_seconds_count{method="GET",route="unmatched",status="4xx"} 1`,
		`grove_api_rate_limited_total{limit="route"} 1`,
		`grove_compute_cold_starts_total 2`,
		`grove_compute_cold_start_duration_seconds_count 2`,
		`grove_compute_cold_start_duration_seconds_bucket{le="0.5"} 1`,
		`grove_compute_cold_start_duration_seconds_sum 2.4`,
		`grove_compute_events_total{event="started"} 2`,
		`grove_compute_events_total{event="suspended"} 1`,
		`grove_compute_events_total{event="restarted"} 1`,
		`grove_computes{state="active"} 3`,
		`grove_computes{state="starting"} 1`,
		`grove_computes{state="suspended"} 6`,
		`grove_proxy_connections_open 2`,
		`grove_proxy_connections_total 7`,
		`grove_proxy_bytes_total{direction="in"} 100`,
		`grove_proxy_bytes_total{direction="out"} 5000`,
		`grove_storage_volumes{driver="btrfs"} 12`,
		`grove_storage_filesystem_size_bytes{driver="btrfs"} `,
		`grove_storage_filesystem_used_bytes{driver="btrfs"} `,
		`grove_storage_filesystem_available_bytes{driver="btrfs"} `,
		`grove_autoscale_decisions_total{direction="up"} 4`,
		`grove_autoscale_decisions_total{direction="down"} 1`,
		`grove_autoscale_decisions_total{direction="failed"} 0`,
		`grove_autoscale_computes 3`,
		`grove_autoscale_cu 1.75`,
		`# TYPE grove_proxy_bytes_total counter`,
		`# TYPE grove_computes gauge`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(out, "grove_metrics_source_errors") {
		t.Errorf("source errors reported with every source readable")
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", out)
	}
}

// TestMetricsSources: an unreadable source is reported and its metrics are
// left out; the others are served; absent sources are not reported.
func TestMetricsSources(t *testing.T) {
	tests := []struct {
		name          string
		cfg           Config
		want, notWant []string
	}{
		{"nothing configured", Config{}, nil, []string{"grove_computes", "grove_proxy", "grove_storage", "grove_autoscale", "grove_metrics_source_errors"}},
		{"metadata store down", Config{
			ComputeStates: func() map[string]int { return map[string]int{"active": 1} },
			Endpoints:     func(context.Context) (int, error) { return 0, errors.New("connection refused") },
		}, []string{`grove_computes{state="active"} 1`, `grove_metrics_source_errors{source="endpoints"} 1`}, []string{`state="suspended"`}},
		{"more computes than endpoints (a delete racing the scrape)", Config{
			ComputeStates: func() map[string]int { return map[string]int{"active": 3} },
			Endpoints:     func(context.Context) (int, error) { return 2, nil },
		}, []string{`grove_computes{state="suspended"} 0`}, nil},
		{"data dir gone", Config{Storage: Storage{Driver: "copy", Root: "/nonexistent/grove"}},
			[]string{`grove_metrics_source_errors{source="filesystem"} 1`}, []string{"grove_storage_filesystem"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := scrape(t, New(tt.cfg))
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("scrape lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("scrape has %q", w)
				}
			}
		})
	}
}

func TestSums(t *testing.T) {
	tr := SumTraffic(map[string]proxy.EndpointStats{
		"ep-a": {Open: 1, Total: 3, BytesIn: 10, BytesOut: 20},
		"ep-b": {Open: 0, Total: 2, BytesIn: 5, BytesOut: 7},
	})
	if tr != (Traffic{Open: 1, Total: 5, BytesIn: 15, BytesOut: 27}) {
		t.Errorf("traffic %+v", tr)
	}
	sc := SumScaling(autoscale.Stats{Ups: 2, Downs: 1, Failures: 1, CU: map[string]float64{"ep-a": 0.25, "ep-b": 2}})
	if sc != (Scaling{Ups: 2, Downs: 1, Failures: 1, Computes: 2, CU: 2.25}) {
		t.Errorf("scaling %+v", sc)
	}
	if got := ComputeStatesOf(lister{})(); len(got) != 1 || got["active"] != 0 {
		t.Errorf("states of no computes: %v, want active 0", got)
	}
}

// lister is a compute manager without computes.
type lister struct{}

func (lister) List() []*compute.Instance { return nil }
