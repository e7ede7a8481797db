package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/client"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/jackc/pgx/v5"
)

// meterInterval is the test grove's metering flush interval.
const meterInterval = 2 * time.Second

// TestConsumption: a compute kept active ~30 s at 1 CU while a client reads
// ~30 MB through the proxy and writes a table shows the same active
// seconds, compute seconds and egress within 5 % and the table's WAL as
// written data, on the project, its branch and the history
// endpoints; a quota crossed while the compute runs suspends it, refuses
// wake-ups through the proxy and the API with Neon's message until it is
// raised; the history endpoints check their parameters; and none of the
// reads wakes a compute.
func TestConsumption(t *testing.T) {
	g := start(t, "--metering-interval", meterInterval.String(), "--metering-bucket", "10s")
	c := checkedClient(g)
	ctx := t.Context()
	orgID := g.OrgID("paid")
	var cp apitypes.CreatedProject
	if st, raw := g.API("POST", "/projects", grovetest.SeedBody(orgID), &cp); st != 201 {
		t.Fatalf("create project: %d %s", st, raw)
	}
	id, br, ep := cp.Project.ID, cp.Branch.ID, cp.Endpoints[0].ID
	uri := cp.ConnectionURIs[0].ConnectionURI
	base := "/projects/" + id
	if st, raw := apiUnlocked(t, g, "POST", base+"/endpoints/"+ep+"/suspend", nil, nil); st != 200 {
		t.Fatalf("suspend: %d %s", st, raw)
	}
	if st, raw := apiUnlocked(t, g, "PATCH", base+"/endpoints/"+ep,
		`{"endpoint":{"autoscaling_limit_min_cu":1,"autoscaling_limit_max_cu":1}}`, nil); st != 200 {
		t.Fatalf("size the endpoint: %d %s", st, raw)
	}
	// What the project's creation used is the baseline, once stored.
	before := settledUsage(t, c, id)

	// The scripted workload: start, read 100 kB rows for ~30 s, suspend.
	// The compute starts somewhere inside the start call and stops inside
	// the suspend call: its active time lies between the workload alone
	// and the workload with both calls, which a loaded machine draws apart.
	const active = 30 * time.Second
	calling := time.Now()
	if st, raw := apiUnlocked(t, g, "POST", base+"/endpoints/"+ep+"/start", nil, nil); st != 200 {
		t.Fatalf("start: %d %s", st, raw)
	}
	began := time.Now()
	read := readFor(t, uri, active/2)
	psql(t, uri, "create table written as select i, repeat('w', 100) as s from generate_series(1, 20000) i") // ~2.5 MB of WAL
	read += readFor(t, uri, active/2)
	ended := time.Now()
	if st, raw := apiUnlocked(t, g, "POST", base+"/endpoints/"+ep+"/suspend", nil, nil); st != 200 {
		t.Fatalf("suspend: %d %s", st, raw)
	}
	least, most := ended.Sub(began).Seconds(), time.Since(calling).Seconds()
	var after apitypes.Project
	grovetest.WaitFor(t, "the workload's usage stored", func() bool {
		after = project(t, c, id)
		return float64(after.ActiveTimeSeconds-before.ActiveTimeSeconds) >= 0.9*least
	})
	after = settledUsage(t, c, id) // later flushes add nothing more, or the checks below see it
	within := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 0.05*want {
			t.Errorf("%s = %.0f, want %.0f ± 5 %%", what, got, want)
		}
	}
	activeS := float64(after.ActiveTimeSeconds - before.ActiveTimeSeconds)
	t.Logf("workload %.1f to %.1f s, %d B read; metered %d active s, %d compute s, %d B egress, %d B WAL", least, most, read,
		after.ActiveTimeSeconds-before.ActiveTimeSeconds, after.ComputeTimeSeconds-before.ComputeTimeSeconds,
		after.DataTransferBytes-before.DataTransferBytes, after.WrittenDataBytes-before.WrittenDataBytes)
	// Usage is metered in whole seconds.
	between := func(what string, got float64) {
		t.Helper()
		if got < 0.95*least-1 || got > 1.05*most+1 {
			t.Errorf("%s = %.0f, want %.1f to %.1f s ± 5 %%", what, got, least, most)
		}
	}
	between("active_time_seconds", activeS)
	between("compute_time_seconds at 1 CU", float64(after.ComputeTimeSeconds-before.ComputeTimeSeconds))
	within("data_transfer_bytes", float64(after.DataTransferBytes-before.DataTransferBytes), float64(read))
	if w := after.WrittenDataBytes - before.WrittenDataBytes; w < 2_000_000 {
		t.Errorf("written_data_bytes grew by %d after writing a 2.5 MB table", w)
	}
	if after.CPUUsedSec != after.ComputeTimeSeconds {
		t.Errorf("cpu_used_sec %d, compute_time_seconds %d, written %d", after.CPUUsedSec, after.ComputeTimeSeconds, after.WrittenDataBytes)
	}
	y, m, _ := time.Now().UTC().Date()
	if !after.ConsumptionPeriodStart.Equal(time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("consumption_period_start = %v", after.ConsumptionPeriodStart)
	}
	b, err := c.GetBranch(ctx, id, br)
	if err != nil {
		t.Fatal(err)
	}
	if b.Branch.ActiveTimeSeconds != after.ActiveTimeSeconds || b.Branch.DataTransferBytes != after.DataTransferBytes {
		t.Errorf("branch totals %d s, %d B; the project's %d s, %d B (one branch)", b.Branch.ActiveTimeSeconds,
			b.Branch.DataTransferBytes, after.ActiveTimeSeconds, after.DataTransferBytes)
	}

	// History: the hourly timeframes sum to the project's totals.
	now := time.Now().UTC()
	p := client.ConsumptionParams{From: now.Add(-2 * time.Hour), To: now.Add(time.Hour), Granularity: "hourly",
		OrgID: orgID, ProjectIDs: []string{id}}
	h, err := c.ConsumptionPerProject(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for _, pj := range h.Projects {
		for _, pe := range pj.Periods {
			for _, tf := range pe.Consumption {
				sum += tf.ActiveTimeSeconds
			}
		}
	}
	if len(h.Projects) != 1 || math.Abs(float64(sum)-float64(after.ActiveTimeSeconds)) > 2 {
		t.Errorf("hourly history sums to %d active seconds over %d projects, want %d", sum, len(h.Projects), after.ActiveTimeSeconds)
	}
	p.Metrics = []string{"compute_unit_seconds", "public_network_transfer_bytes"}
	v2, err := c.ConsumptionPerProjectV2(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := v2Sum(v2.Projects[0].Periods, "public_network_transfer_bytes"); got != after.DataTransferBytes {
		t.Errorf("v2 public_network_transfer_bytes = %d, want %d", got, after.DataTransferBytes)
	}
	vb, err := c.ConsumptionPerBranchV2(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(vb.Branches) != 1 || vb.Branches[0].BranchID != br || v2Sum(vb.Branches[0].Periods, "compute_unit_seconds") == 0 {
		t.Errorf("v2 branches = %+v", vb.Branches)
	}
	acct := rawAPI(t, g, "/consumption_history/account?"+url.Values{"from": {p.From.Format(time.RFC3339)},
		"to": {p.To.Format(time.RFC3339)}, "granularity": {"daily"}, "org_id": {orgID}}.Encode())
	if acct.status != 200 || !strings.Contains(acct.body, `"periods":[{"period_id"`) {
		t.Errorf("account history: %d %s", acct.status, acct.body)
	}

	t.Run("bad parameters", func(t *testing.T) { consumptionBadParams(t, g, orgID, id) })

	// Quota: crossed while the compute runs, it is suspended and wake-ups
	// are refused until the quota is raised.
	setQuota := func(q string) {
		t.Helper()
		if st, raw := apiUnlocked(t, g, "PATCH", base, `{"project":{"settings":{"quota":`+q+`}}}`, nil); st != 200 {
			t.Fatalf("set quota %s: %d %s", q, st, raw)
		}
	}
	setQuota(fmt.Sprintf(`{"active_time_seconds":%d}`, after.ActiveTimeSeconds+4))
	psql(t, uri, "select 1") // wakes: the quota is not reached yet
	grovetest.WaitFor(t, "the compute suspended at its quota", func() bool {
		e, err := c.GetEndpoint(ctx, id, ep)
		return err == nil && e.CurrentState == "idle"
	})
	if out, err := grovetest.Psql(t, uri, "select 1"); err == nil || !strings.Contains(out, "exceeded the compute time quota") {
		t.Errorf("connection over quota: %v: %s", err, out)
	}
	st, raw := apiUnlocked(t, g, "POST", base+"/endpoints/"+ep+"/start", nil, nil)
	if st != 403 || !strings.Contains(string(raw), "exceeded the compute time quota") {
		t.Errorf("start over quota: %d %s", st, raw)
	}
	setQuota(`{"active_time_seconds":0}`) // 0: unlimited
	if out := psql(t, uri, "select 'awake'"); out != "awake" {
		t.Errorf("after the quota is raised: %s", out)
	}
	if st, raw := apiUnlocked(t, g, "POST", base+"/endpoints/"+ep+"/suspend", nil, nil); st != 200 {
		t.Fatalf("suspend: %d %s", st, raw)
	}

	// Reads of usage do not wake the suspended compute.
	project(t, c, id)
	if _, err := c.ConsumptionPerProjectV2(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListProjects(ctx, client.ListProjectsParams{}); err != nil {
		t.Fatal(err)
	}
	if e, err := c.GetEndpoint(ctx, id, ep); err != nil || e.CurrentState != "idle" {
		t.Errorf("reading usage woke the endpoint: %v %+v", err, e)
	}
}

// consumptionBadParams: each bad history request gets Neon's status.
func consumptionBadParams(t *testing.T, g *grovetest.Grove, orgID, projectID string) {
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	ok := "from=" + ts(-time.Hour) + "&to=" + ts(0) + "&granularity=hourly&org_id=" + orgID
	v2 := ok + "&metrics=compute_unit_seconds"
	tests := []struct {
		path   string
		status int
	}{
		{"/consumption_history/projects?" + ok, 200},
		{"/consumption_history/projects?to=" + ts(0) + "&granularity=hourly", 400},
		{"/consumption_history/projects?from=yesterday&to=" + ts(0) + "&granularity=hourly", 400},
		{"/consumption_history/projects?from=" + ts(-time.Hour) + "&to=" + ts(0) + "&granularity=weekly", 400},
		{"/consumption_history/projects?from=" + ts(-time.Hour) + "&to=" + ts(0), 400},
		{"/consumption_history/projects?" + ok + "&limit=0", 400},
		{"/consumption_history/projects?" + ok + "&limit=101", 400},
		{"/consumption_history/projects?" + ok + "&metrics=cpu_seconds", 400},
		{"/consumption_history/projects?from=" + ts(0) + "&to=" + ts(-time.Hour) + "&granularity=hourly", 400},
		{"/consumption_history/projects?from=" + ts(-8*24*time.Hour) + "&to=" + ts(0) + "&granularity=hourly", 406},
		{"/consumption_history/projects?from=" + ts(-61*24*time.Hour) + "&to=" + ts(0) + "&granularity=daily", 406},
		{"/consumption_history/projects?from=" + ts(-400*24*time.Hour) + "&to=" + ts(0) + "&granularity=monthly", 406},
		{"/consumption_history/projects?from=2024-01-01T00:00:00Z&to=2024-02-01T00:00:00Z&granularity=monthly", 406},
		{"/consumption_history/projects?from=" + ts(-time.Hour) + "&to=" + ts(0) + "&granularity=hourly&org_id=org-nope-12345", 404},
		{"/consumption_history/v2/projects?" + v2, 200},
		{"/consumption_history/v2/projects?" + ok, 400},
		{"/consumption_history/v2/projects?" + ok + "&metrics=active_time_seconds", 400},
		{"/consumption_history/v2/projects?from=" + ts(-time.Hour) + "&to=" + ts(0) + "&granularity=hourly&metrics=compute_unit_seconds", 400},
		{"/consumption_history/v2/branches?" + v2 + "&project_ids=" + projectID, 200},
		{"/consumption_history/v2/branches?" + v2, 400},
		{"/consumption_history/v2/branches?" + v2 + "&project_ids=" + projectID + "&limit=1001", 400},
		{"/consumption_history/v2/branches?" + ok + "&project_ids=" + projectID + "&metrics=extra_branches_month", 400},
		{"/consumption_history/v2/branches?from=" + ts(-8*24*time.Hour) + "&to=" + ts(0) +
			"&granularity=hourly&metrics=compute_unit_seconds&org_id=" + orgID + "&project_ids=" + projectID, 406},
	}
	for _, tc := range tests {
		if st, raw := g.API("GET", tc.path, nil, nil); st != tc.status {
			t.Errorf("GET %s: %d %s, want %d", tc.path, st, raw, tc.status)
		} else if st >= 400 && !strings.Contains(string(raw), `"message"`) {
			t.Errorf("GET %s: error without a message: %s", tc.path, raw)
		}
	}
}

// settledUsage polls the project until its usage has not changed for longer
// than a metering flush, so that what its suspended compute used is stored
// and no later flush adds to it, and returns it.
func settledUsage(t *testing.T, c *client.Client, id string) apitypes.Project {
	t.Helper()
	type usage struct{ active, compute, transfer, written int64 }
	of := func(p apitypes.Project) usage {
		return usage{p.ActiveTimeSeconds, p.ComputeTimeSeconds, p.DataTransferBytes, p.WrittenDataBytes}
	}
	last := project(t, c, id)
	since := time.Now()
	grovetest.WaitFor(t, "the project's usage to settle", func() bool {
		time.Sleep(meterInterval / 8) // polls a few times a flush, not at WaitFor's pace
		p := project(t, c, id)
		if of(p) != of(last) {
			last, since = p, time.Now()
			return false
		}
		return time.Since(since) > meterInterval+time.Second
	})
	return last
}

func project(t *testing.T, c *client.Client, id string) apitypes.Project {
	t.Helper()
	p, err := c.GetProject(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return *p
}

func v2Sum(periods []apitypes.ConsumptionHistoryPerPeriodV2, metric string) int64 {
	var n int64
	for _, pe := range periods {
		for _, tf := range pe.Consumption {
			for _, m := range tf.Metrics {
				if m.MetricName == metric {
					n += m.Value
				}
			}
		}
	}
	return n
}

// readFor reads 100 kB rows through the proxy, ten a second, for d and
// returns the bytes of the rows read.
func readFor(t *testing.T, uri string, d time.Duration) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d+time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int64
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		var s string
		if err := conn.QueryRow(ctx, "select repeat('x', 100000)").Scan(&s); err != nil {
			t.Fatal(err)
		}
		n += int64(len(s))
	}
	return n
}

type rawResponse struct {
	status int
	body   string
}

// rawAPI is a GET outside Neon's current spec (not validated against it).
func rawAPI(t *testing.T, g *grovetest.Grove, path string) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", "http://"+g.APIAddr+"/api/v2"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+g.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v any
	if json.Unmarshal(b, &v) != nil {
		t.Errorf("%s: not JSON: %s", path, b)
	}
	return rawResponse{resp.StatusCode, string(b)}
}

// TestConsumptionPeriodAtCreate: a new project reports the current billing
// period (the calendar month, UTC) at once, before metering has stored
// anything for it, on every response carrying a project.
func TestConsumptionPeriodAtCreate(t *testing.T) {
	g := start(t, "--metering-interval", "1h") // nothing is stored during the test
	c := checkedClient(g)
	now := time.Now().UTC()
	y, m, _ := now.Date()
	wantStart, wantEnd := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC), time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
	check := func(what string, p apitypes.Project) {
		t.Helper()
		// A month boundary between the request and now moves the period.
		if y2, m2, _ := time.Now().UTC().Date(); y2 != y || m2 != m {
			t.Skip("the month changed during the test")
		}
		if !p.ConsumptionPeriodStart.Equal(wantStart) || !p.ConsumptionPeriodEnd.Equal(wantEnd) {
			t.Errorf("%s: consumption period %v – %v, want %v – %v", what,
				p.ConsumptionPeriodStart, p.ConsumptionPeriodEnd, wantStart, wantEnd)
		}
	}
	cp := g.CreateSeed()
	id := cp.Project.ID
	check("create", cp.Project)
	check("get", project(t, c, id))
	var up apitypes.ProjectOperations
	if st, raw := apiUnlocked(t, g, "PATCH", "/projects/"+id, `{"project":{"name":"renamed"}}`, &up); st != 200 {
		t.Fatalf("update: %d %s", st, raw)
	}
	check("update", up.Project)
	var del apitypes.ProjectResponse
	if st, raw := apiUnlocked(t, g, "DELETE", "/projects/"+id, nil, &del); st != 200 {
		t.Fatalf("delete: %d %s", st, raw)
	}
	check("delete", del.Project)
}
