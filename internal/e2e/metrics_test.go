package e2e

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
)

// scrapeMetrics reads the API listener's /metrics with key.
func scrapeMetrics(t *testing.T, g *grovetest.Grove, key string) string {
	t.Helper()
	st, body := getMetrics(t, "http://"+g.APIAddr+"/metrics", key)
	if st != 200 {
		t.Fatalf("/metrics: %d %s", st, body)
	}
	return body
}

func getMetrics(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sample returns the value of the series named exactly by series (name
// and labels as printed), or -1 when absent.
func sample(text, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// TestMetrics: after a project is created, suspended, woken by a
// connection and queried, /metrics shows the request, the cold start, the
// proxy's traffic, the computes by state and the storage; only the admin
// key reads it on the API listener, any scraper on --metrics-addr.
func TestMetrics(t *testing.T) {
	metricsAddr := grovetest.FreeAddr(t)
	g := start(t, "--metrics-addr", metricsAddr)
	before := scrapeMetrics(t, g, g.Key)

	cp := g.CreateSeed()
	ep := cp.Endpoints[0].ID
	uri := cp.ConnectionURIs[0].ConnectionURI
	// Running first (a create without a warm instance starts the compute
	// at the first connection), then suspended, then woken.
	if out, err := grovetest.Psql(t, uri, "select 1"); err != nil {
		t.Fatalf("first connection: %v: %s", err, out)
	}
	var eo apitypes.EndpointOperations
	if st, raw := g.API("POST", "/projects/"+cp.Project.ID+"/endpoints/"+ep+"/suspend", nil, &eo); st != 200 {
		t.Fatalf("suspend: %d %s", st, raw)
	}
	idle := scrapeMetrics(t, g, g.Key)
	if v := sample(idle, `grove_computes{state="suspended"}`); v < 1 {
		t.Errorf("suspended computes after a suspend: %v, want ≥ 1", v)
	}
	if out, err := grovetest.Psql(t, uri, "select count(*) from generate_series(1, 1000)"); err != nil || out != "1000" {
		t.Fatalf("wake by a connection: %v: %s", err, out)
	}
	after := scrapeMetrics(t, g, g.Key)

	moved := []struct {
		series string
		min    float64 // increase at least
	}{
		{`grove_api_request_duration_seconds_count{method="POST",route="/projects",status="2xx"}`, 1},
		{`grove_api_request_duration_seconds_count{method="POST",route="/projects/{project_id}/endpoints/{endpoint_id}/suspend",status="2xx"}`, 1},
		{`grove_compute_cold_starts_total`, 1},
		{`grove_compute_cold_start_duration_seconds_count`, 1},
		{`grove_compute_events_total{event="started"}`, 1},
		{`grove_compute_events_total{event="suspended"}`, 1},
		{`grove_proxy_connections_total`, 1},
		{`grove_proxy_bytes_total{direction="in"}`, 1},
		{`grove_proxy_bytes_total{direction="out"}`, 1},
		{`grove_storage_volumes{driver="` + driverOf(after) + `"}`, 1},
	}
	for _, m := range moved {
		b, a := max(0, sample(before, m.series)), sample(after, m.series)
		if a-b < m.min {
			t.Errorf("%s: %v before, %v after; want an increase of at least %v", m.series, b, a, m.min)
		}
	}
	present := []string{
		`grove_computes{state="active"}`,
		`grove_computes{state="suspended"}`,
		`grove_proxy_connections_open`,
		`grove_storage_filesystem_size_bytes{driver="` + driverOf(after) + `"}`,
		`grove_storage_filesystem_used_bytes{driver="` + driverOf(after) + `"}`,
		`grove_autoscale_decisions_total{direction="up"}`,
		`grove_autoscale_decisions_total{direction="down"}`,
		`grove_autoscale_cu`,
		`go_goroutines`,
	}
	for _, s := range present {
		if sample(after, s) < 0 {
			t.Errorf("metrics lack %s", s)
		}
	}
	if v := sample(after, `grove_computes{state="active"}`); v < 1 {
		t.Errorf("active computes after the wake: %v, want ≥ 1", v)
	}
	if strings.Contains(after, "grove_metrics_source_errors") {
		t.Errorf("a source failed:\n%s", after)
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", after)
	}

	// Who reads them.
	var key apitypes.ApiKeyCreateResponse
	if st, raw := g.API("POST", "/api_keys", map[string]string{"key_name": "not admin"}, &key); st != 200 {
		t.Fatalf("create key: %d %s", st, raw)
	}
	tests := []struct {
		name, url, key string
		status         int
	}{
		{"API listener, admin key", "http://" + g.APIAddr + "/metrics", g.Key, 200},
		{"API listener, no key", "http://" + g.APIAddr + "/metrics", "", 401},
		{"API listener, another personal key", "http://" + g.APIAddr + "/metrics", key.Key, 403},
		{"API listener, wrong key", "http://" + g.APIAddr + "/metrics", "napi_wrong", 403},
		{"metrics listener, no key", "http://" + metricsAddr + "/metrics", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body := getMetrics(t, tt.url, tt.key)
			if st != tt.status {
				t.Fatalf("%d, want %d: %s", st, tt.status, body)
			}
			if st == 200 && !strings.Contains(body, "# TYPE grove_computes gauge") {
				t.Fatalf("not Prometheus' text format:\n%s", body)
			}
		})
	}
}

// driverOf returns the storage driver label of a scrape.
func driverOf(text string) string {
	m := regexp.MustCompile(`grove_storage_volumes\{driver="([a-z]+)"\}`).FindStringSubmatch(text)
	if m == nil {
		return "?"
	}
	return m[1]
}
