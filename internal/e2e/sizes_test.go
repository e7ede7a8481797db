package e2e

import (
	"strconv"
	"testing"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
)

// TestBranchLogicalSize: a branch reports the size of its databases once
// its compute has been measured (at the latest when it suspends), keeps it
// while suspended, a child branch starts with its parent's, a manual
// snapshot reports it as its full_size, and none of it wakes a compute.
func TestBranchLogicalSize(t *testing.T) {
	g := start(t)
	c := checkedClient(g)
	ctx := t.Context()
	var cp apitypes.CreatedProject
	if st, raw := g.API("POST", "/projects", grovetest.SeedBody(g.OrgID("paid")), &cp); st != 201 {
		t.Fatalf("create project: %d %s", st, raw)
	}
	id, main, ep := cp.Project.ID, cp.Branch.ID, cp.Endpoints[0].ID
	psql(t, cp.ConnectionURIs[0].ConnectionURI, "create table pad as select i, repeat('x', 1000) as s from generate_series(1, 20000) i")
	want, err := strconv.ParseInt(psql(t, cp.ConnectionURIs[0].ConnectionURI,
		"select sum(pg_database_size(oid)) from pg_database where datname not in ('template0', 'template1', 'grove_spare')"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/endpoints/"+ep+"/suspend", nil, nil); st != 200 {
		t.Fatalf("suspend: %d %s", st, raw)
	}
	b, err := c.GetBranch(ctx, id, main)
	if err != nil {
		t.Fatal(err)
	}
	// The suspend's shutdown checkpoint may add a page or two; 20 MB of
	// rows must be there.
	if b.Branch.LogicalSize == nil || *b.Branch.LogicalSize < 20_000_000 || *b.Branch.LogicalSize > want+1<<20 {
		t.Fatalf("logical_size of the suspended branch = %v, want about %d", b.Branch.LogicalSize, want)
	}
	var cb apitypes.CreatedBranch
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches", `{"branch":{"name":"child"}}`, &cb); st != 201 {
		t.Fatalf("create branch: %d %s", st, raw)
	}
	if cb.Branch.LogicalSize == nil || *cb.Branch.LogicalSize != *b.Branch.LogicalSize {
		t.Fatalf("child logical_size = %v, want the parent's %d", cb.Branch.LogicalSize, *b.Branch.LogicalSize)
	}
	var so apitypes.SnapshotOperations
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches/"+main+"/snapshot", nil, &so); st != 200 {
		t.Fatalf("snapshot: %d %s", st, raw)
	}
	if so.Snapshot.FullSize == nil || *so.Snapshot.FullSize != *b.Branch.LogicalSize {
		t.Errorf("snapshot full_size = %v, want the branch's logical size %d", so.Snapshot.FullSize, *b.Branch.LogicalSize)
	}
	ep2, err := c.GetEndpoint(ctx, id, ep)
	if err != nil {
		t.Fatal(err)
	}
	if ep2.CurrentState != "idle" {
		t.Errorf("reading sizes woke the endpoint: %s", ep2.CurrentState)
	}
}
