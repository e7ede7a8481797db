package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
)

// psql runs a query and fails the test on error.
func psql(t *testing.T, uri, query string) string {
	t.Helper()
	out, err := grovetest.Psql(t, uri, query)
	if err != nil {
		t.Fatalf("%s: %v: %s", query, err, out)
	}
	return out
}

// TestBranchCreate: a branch with an endpoint sees exactly its parent's
// committed data at the branch point, from a running parent (also under
// concurrent writes) and a suspended one; its roles keep the parent's
// passwords; a schema-only branch has every table and no rows; deletes
// follow Neon's rules; bad requests are refused and change nothing.
func TestBranchCreate(t *testing.T) { eachDriver(t, testBranchCreate) }

func testBranchCreate(t *testing.T, g *grovetest.Grove) {
	ctx := t.Context()
	c := checkedClient(g)
	cp := g.CreateSeed()
	id, main, ep := cp.Project.ID, cp.Branch.ID, cp.Endpoints[0].ID
	uri := cp.ConnectionURIs[0].ConnectionURI
	psql(t, uri, "create table kv (k int primary key, v text); insert into kv values (1, 'one'), (2, 'two');"+
		"create table t2 (id serial primary key, kv int references kv(k)); insert into t2 (kv) values (1), (2)")

	// From the running parent, with an endpoint: the whole response.
	var cb apitypes.CreatedBranch
	st, raw := g.API("POST", "/projects/"+id+"/branches", `{"branch":{"name":"dev"},"endpoints":[{"type":"read_write"}]}`, &cb)
	if st != 201 {
		t.Fatalf("create branch: %d %s", st, raw)
	}
	if cb.Branch.ParentID != main || cb.Branch.Name != "dev" || cb.Branch.CurrentState != "init" || len(cb.Endpoints) != 1 ||
		len(cb.Roles) != 1 || len(cb.Databases) != 1 || len(cb.ConnectionURIs) != 1 {
		t.Fatalf("create branch response: %s", raw)
	}
	if cb.Roles[0].Password != "" {
		t.Errorf("roles carry passwords: %s", raw)
	}
	actions := map[apitypes.OperationAction]bool{}
	for _, op := range cb.Operations {
		actions[op.Action] = true
	}
	if !actions["create_branch"] || !actions["start_compute"] {
		t.Errorf("operations %v, want create_branch and start_compute", actions)
	}
	waitOps(t, c, id, cb.Operations)
	devURI := cb.ConnectionURIs[0].ConnectionURI
	if cb.ConnectionURIs[0].ConnectionParameters.Password != cp.ConnectionURIs[0].ConnectionParameters.Password {
		t.Errorf("child role password differs from the parent's")
	}
	if got := psql(t, devURI, "select string_agg(k||'='||v, ',' order by k) from kv"); got != "1=one,2=two" {
		t.Fatalf("branch sees %q", got)
	}
	psql(t, devURI, "insert into kv values (3, 'dev only')")
	if got := psql(t, uri, "select count(*) from kv"); got != "2" {
		t.Errorf("parent sees the branch's write: %s rows", got)
	}

	// Concurrent writes while branching: the branch holds a prefix of
	// the committed sequence, with no gap.
	psql(t, uri, "create table seq (n int primary key)")
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 1; !stop.Load(); n += 20 {
			var vals []string
			for i := n; i < n+20; i++ {
				vals = append(vals, fmt.Sprintf("(%d)", i))
			}
			if out, err := grovetest.Psql(t, uri, "insert into seq values "+strings.Join(vals, ",")); err != nil {
				t.Errorf("writer: %v: %s", err, out)
				return
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	var cb2 apitypes.CreatedBranch
	st, raw = g.API("POST", "/projects/"+id+"/branches", `{"branch":{"name":"busy"},"endpoints":[{"type":"read_write"}]}`, &cb2)
	stop.Store(true)
	wg.Wait()
	if st != 201 {
		t.Fatalf("create branch under writes: %d %s", st, raw)
	}
	waitOps(t, c, id, cb2.Operations)
	got := psql(t, cb2.ConnectionURIs[0].ConnectionURI, "select count(*)||','||coalesce(max(n),0) from seq")
	parts := strings.Split(got, ",")
	if len(parts) != 2 || parts[0] != parts[1] {
		t.Errorf("branch under writes holds %q (count,max): not a committed prefix", got)
	}
	if n, _ := strconv.Atoi(parts[0]); n%20 != 0 {
		t.Errorf("branch holds %d rows: a transaction of 20 was split", n)
	}
	total := psql(t, uri, "select count(*) from seq")
	t.Logf("branch point: %s of %s rows", parts[0], total)

	// From a suspended parent, without a body: default branch, no endpoint.
	if _, err := c.SuspendEndpoint(ctx, id, ep); err != nil {
		t.Fatal(err)
	}
	var cb3 apitypes.CreatedBranch
	if st, raw := g.API("POST", "/projects/"+id+"/branches", nil, &cb3); st != 201 || len(cb3.Endpoints) != 0 || cb3.ConnectionURIs != nil {
		t.Fatalf("create branch without body: %d %s", st, raw)
	}
	waitOps(t, c, id, cb3.Operations)
	var epc apitypes.EndpointOperations
	if st, raw := g.API("POST", "/projects/"+id+"/endpoints", `{"endpoint":{"branch_id":"`+cb3.Branch.ID+`","type":"read_write"}}`, &epc); st != 201 {
		t.Fatalf("endpoint on the bodiless branch: %d %s", st, raw)
	}
	waitOps(t, c, id, epc.Operations)
	uri3 := strings.Replace(uri, ep, epc.Endpoint.ID, 1)
	if got := psql(t, uri3, "select count(*) from kv"); got != "2" {
		t.Errorf("branch of a suspended parent sees %s rows of kv, want 2", got)
	}

	// Schema-only: every table, no rows, sequences kept.
	var so apitypes.CreatedBranch
	st, raw = g.API("POST", "/projects/"+id+"/branches", `{"branch":{"name":"schema","parent_id":"`+main+`","init_source":"schema-only"},"endpoints":[{"type":"read_write"}]}`, &so)
	if st != 201 {
		t.Fatalf("schema-only branch: %d %s", st, raw)
	}
	if so.Branch.ParentID != "" || so.Branch.InitSource != "schema-only" {
		t.Errorf("schema-only branch: parent %q, init_source %q", so.Branch.ParentID, so.Branch.InitSource)
	}
	waitOps(t, c, id, so.Operations)
	soURI := so.ConnectionURIs[0].ConnectionURI
	if got := psql(t, soURI, "select (select count(*) from kv)||','||(select count(*) from t2)||','||(select count(*) from seq)"); got != "0,0,0" {
		t.Errorf("schema-only branch rows: %s", got)
	}
	if got := psql(t, soURI, "select count(*) from pg_tables where schemaname = 'public'"); got != "3" {
		t.Errorf("schema-only branch has %s tables, want 3", got)
	}

	// Bad creates: refused, nothing made.
	before, err := c.CountBranches(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, tt := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"malformed", `{"branch":`, 400, "invalid request"},
		{"unknown parent", `{"branch":{"parent_id":"br-nope-nope-12345678"}}`, 404, "branch not found"},
		{"duplicate name", `{"branch":{"name":"dev"}}`, 409, "already exists"},
		{"bad init_source", `{"branch":{"init_source":"import"}}`, 400, "init_source"},
		{"lsn and timestamp", `{"branch":{"parent_lsn":"0/1","parent_timestamp":"` + future + `"}}`, 400, "mutually exclusive"},
		{"expires in the past", `{"branch":{"expires_at":"2020-01-01T00:00:00Z"}}`, 400, "future"},
		{"expires too far", `{"branch":{"expires_at":"` + time.Now().Add(31*24*time.Hour).UTC().Format(time.RFC3339) + `"}}`, 400, "30 days"},
		{"protected expiring", `{"branch":{"protected":true,"expires_at":"` + future + `"}}`, 400, "protected"},
		{"timestamp in the future", `{"branch":{"parent_timestamp":"` + future + `"}}`, 400, "future"},
		{"timestamp before the branch", `{"branch":{"parent_timestamp":"2020-01-01T00:00:00Z"}}`, 400, "outside"},
		{"bad lsn", `{"branch":{"parent_lsn":"nope"}}`, 400, "LSN"},
		{"two read_write", `{"endpoints":[{"type":"read_write"},{"type":"read_write"}]}`, 409, "read_write endpoint already exists"},
		{"bad endpoint type", `{"endpoints":[{"type":"read-only"}]}`, 400, "type"},
		{"endpoint without type", `{"endpoints":[{}]}`, 400, "type"},
		{"bad size", `{"endpoints":[{"type":"read_write","autoscaling_limit_min_cu":0.3}]}`, 400, "autoscaling_limit_min_cu"},
	} {
		st, raw := g.API("POST", "/projects/"+id+"/branches", tt.body, nil)
		wantError(t, "create "+tt.name, st, raw, tt.status, tt.want)
	}
	if after, err := c.CountBranches(ctx, id, ""); err != nil || after != before {
		t.Errorf("refused creates changed the branch count: %d → %d (%v)", before, after, err)
	}

	// Expiring branch: no children, no protection, no default; the
	// background job deletes it.
	var exp apitypes.CreatedBranch
	soon := time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339)
	if st, raw := g.API("POST", "/projects/"+id+"/branches", `{"branch":{"name":"ttl","expires_at":"`+soon+`"}}`, &exp); st != 201 {
		t.Fatalf("expiring branch: %d %s", st, raw)
	} else if exp.Branch.ExpiresAt.IsZero() || exp.Branch.TTLIntervalSeconds == nil {
		t.Errorf("expiring branch response lacks expires_at/ttl_interval_seconds: %s", raw)
	}
	st, raw = g.API("POST", "/projects/"+id+"/branches", `{"branch":{"parent_id":"`+exp.Branch.ID+`"}}`, nil)
	wantError(t, "child of an expiring branch", st, raw, 400, "expiration")
	st, raw = g.API("POST", "/projects/"+id+"/branches/"+exp.Branch.ID+"/set_as_default", nil, nil)
	wantError(t, "expiring branch as default", st, raw, 400, "expiration")
	grovetest.WaitFor(t, "expired branch deleted", func() bool {
		st, _ := g.API("GET", "/projects/"+id+"/branches/"+exp.Branch.ID, nil, nil)
		return st == 404
	})

	// Deletes: not the default, not with children, not protected; 204 when gone.
	st, raw = g.API("DELETE", "/projects/"+id+"/branches/"+main, nil, nil)
	wantError(t, "delete default", st, raw, 400, "default")
	var child apitypes.CreatedBranch
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches", `{"branch":{"name":"grandchild","parent_id":"`+cb.Branch.ID+`"}}`, &child); st != 201 {
		t.Fatalf("grandchild: %d %s", st, raw)
	}
	waitOps(t, c, id, child.Operations)
	st, raw = g.API("DELETE", "/projects/"+id+"/branches/"+cb.Branch.ID, nil, nil)
	wantError(t, "delete with children", st, raw, 400, "child")
	setPlan(t, g, "free", map[string]any{"protected_branches": 1}) // the seed project's org
	if _, err := c.UpdateBranch(ctx, id, child.Branch.ID, apitypes.BranchUpdateRequest{Branch: apitypes.BranchUpdate{Protected: ptr(true)}}); err != nil {
		t.Fatal(err)
	}
	st, raw = g.API("DELETE", "/projects/"+id+"/branches/"+child.Branch.ID, nil, nil)
	wantError(t, "delete protected", st, raw, 400, "protected")
	if _, err := c.UpdateBranch(ctx, id, child.Branch.ID, apitypes.BranchUpdateRequest{Branch: apitypes.BranchUpdate{Protected: ptr(false)}}); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{child.Branch.ID, cb.Branch.ID} {
		var del apitypes.BranchOperations
		if st, raw := g.API("DELETE", "/projects/"+id+"/branches/"+b, nil, &del); st != 200 || del.Branch.PendingState != "storage_deleted" {
			t.Fatalf("delete %s: %d %s", b, st, raw)
		}
		waitOps(t, c, id, del.Operations)
	}
	if st, raw := g.API("DELETE", "/projects/"+id+"/branches/"+cb.Branch.ID, nil, nil); st != 204 {
		t.Errorf("delete again: %d %s, want 204", st, raw)
	}
	if _, err := grovetest.Psql(t, devURI, "select 1"); err == nil {
		t.Errorf("the deleted branch's endpoint still answers")
	}
	if got := psql(t, uri, "select count(*) from kv"); got != "2" {
		t.Errorf("parent after deleting its children: %s rows", got)
	}
}

func ptr[T any](v T) *T { return &v }

// apiUnlocked is g.API retried while the project is locked (423) by
// operations still running, as Neon's clients do.
func apiUnlocked(t *testing.T, g *grovetest.Grove, method, path string, body, out any) (int, []byte) {
	t.Helper()
	var st int
	var raw []byte
	grovetest.WaitFor(t, method+" "+path+" unlocked", func() bool {
		st, raw = g.API(method, path, body, out)
		return st != 423
	})
	return st, raw
}
