package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
)

// TestReplayLimits: a project whose endpoint changed size keeps every point
// of its history reachable, and its read replica follows it. A point in
// time recovered by a smaller endpoint than the one that wrote its base
// snapshot (the control file's limits) or than one that ran later in the
// replayed WAL (a parameter change) answers; a replica of a primary that
// grew keeps replaying.
func TestReplayLimits(t *testing.T) { eachDriver(t, testReplayLimits) }

func testReplayLimits(t *testing.T, g *grovetest.Grove) {
	c := checkedClient(g)
	body := strings.Replace(grovetest.SeedBody(g.OrgID("paid")), `"autoscaling_limit_max_cu":1`, `"autoscaling_limit_max_cu":2`, 1)
	var cp apitypes.CreatedProject
	if st, raw := g.API("POST", "/projects", body, &cp); st != 201 {
		t.Fatalf("create project: %d %s", st, raw)
	}
	id, main, ep := cp.Project.ID, cp.Branch.ID, cp.Endpoints[0].ID
	uri := cp.ConnectionURIs[0].ConnectionURI
	now := func() string {
		t.Helper()
		return psql(t, uri, "select to_char(clock_timestamp() at time zone 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
	}
	steps := func(uri string) string {
		t.Helper()
		return psql(t, uri, "select coalesce(string_agg(n::text, ',' order by n), '') from steps")
	}
	resize := func(lo, hi float64) {
		t.Helper()
		var r apitypes.EndpointOperations
		req := fmt.Sprintf(`{"endpoint":{"autoscaling_limit_min_cu":%v,"autoscaling_limit_max_cu":%v}}`, lo, hi)
		if st, raw := apiUnlocked(t, g, "PATCH", "/projects/"+id+"/endpoints/"+ep, req, &r); st != 200 {
			t.Fatalf("resize to %v–%v CU: %d %s", lo, hi, st, raw)
		}
		waitOps(t, c, id, r.Operations)
	}
	if got := psql(t, uri, "show max_connections"); got != "839" {
		t.Fatalf("max_connections at 0.25–2 CU = %s, want 839", got)
	}
	psql(t, uri, "create table steps (n int primary key); insert into steps values (1)")
	between1 := now()
	time.Sleep(50 * time.Millisecond)
	psql(t, uri, "insert into steps values (2)")

	// Larger: the restart writes its limits into the WAL.
	resize(0.5, 4)
	if got := psql(t, uri, "show max_connections"); got != "1678" {
		t.Fatalf("max_connections at 0.5–4 CU = %s, want 1678", got)
	}
	psql(t, uri, "insert into steps values (3)")
	between2 := now()
	time.Sleep(50 * time.Millisecond)
	psql(t, uri, "insert into steps values (4)")

	for _, tc := range []struct{ name, at, want string }{
		{"base snapshot of a larger compute", between1, "1"},
		{"larger compute later in the WAL", between2, "1,2,3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cb apitypes.CreatedBranch
			req := fmt.Sprintf(`{"branch":{"parent_timestamp":%q},"endpoints":[{"type":"read_write","autoscaling_limit_min_cu":0.25,"autoscaling_limit_max_cu":0.25}]}`, tc.at)
			if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches", req, &cb); st != 201 {
				t.Fatalf("branch at %s: %d %s", tc.at, st, raw)
			}
			waitOps(t, c, id, cb.Operations)
			past := cb.ConnectionURIs[0].ConnectionURI
			if got := steps(past); got != tc.want {
				t.Fatalf("branch at %s sees %q, want %q", tc.at, got, tc.want)
			}
			psql(t, past, "insert into steps values (10)") // promoted, writable
		})
	}

	t.Run("replica of a primary that grew", func(t *testing.T) {
		var cr apitypes.EndpointOperations
		req := `{"endpoint":{"branch_id":"` + main + `","type":"read_only","autoscaling_limit_min_cu":0.25,"autoscaling_limit_max_cu":0.25}}`
		if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/endpoints", req, &cr); st != 201 {
			t.Fatalf("create replica: %d %s", st, raw)
		}
		waitOps(t, c, id, cr.Operations)
		rep := strings.Replace(uri, ep, cr.Endpoint.ID, 1)
		if got := steps(rep); got != "1,2,3,4" {
			t.Fatalf("replica sees %q", got)
		}
		resize(1, 8)
		psql(t, uri, "insert into steps values (5)")
		grovetest.WaitFor(t, "the replica to replay past its primary's growth", func() bool {
			out, err := grovetest.Psql(t, rep, "select count(*) from steps")
			return err == nil && out == "5"
		})
	})
}
