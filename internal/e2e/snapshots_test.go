package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/client"
	"github.com/grovedb/grove/internal/grovetest"
)

// TestSnapshotsCheckpoints is the checkpoint workflow of agent platforms:
// snapshot → write → finalize-restore, and the same URI sees the
// snapshot's state; two restores in a row with target_branch_id land on
// the live branch; a preview restore leaves the live branch untouched;
// finalize_restore on the preview swaps it in; limits and bad requests.
func TestSnapshotsCheckpoints(t *testing.T) { eachDriver(t, testSnapshotsCheckpoints) }

func testSnapshotsCheckpoints(t *testing.T, g *grovetest.Grove) {
	ctx := t.Context()
	c := checkedClient(g)
	var cp apitypes.CreatedProject
	if st, raw := g.API("POST", "/projects", grovetest.SeedBody(g.OrgID("paid")), &cp); st != 201 {
		t.Fatalf("create project: %d %s", st, raw)
	}
	id, main := cp.Project.ID, cp.Branch.ID
	uri := cp.ConnectionURIs[0].ConnectionURI
	psql(t, uri, "create table steps (n int primary key); insert into steps values (0)")

	// v0 by query parameters, v1 by a JSON body (as Neon's demo sends it).
	s0, err := c.CreateSnapshot(ctx, id, main, client.SnapshotParams{Name: "v0"})
	if err != nil {
		t.Fatal(err)
	}
	waitOps(t, c, id, s0.Operations)
	if s0.Snapshot.Name != "v0" || s0.Snapshot.SourceBranchID != main || !s0.Snapshot.Manual {
		t.Errorf("snapshot v0: %+v", s0.Snapshot)
	}
	psql(t, uri, "insert into steps values (1)")
	var s1 apitypes.SnapshotOperations
	if st, raw := g.API("POST", "/projects/"+id+"/branches/"+main+"/snapshot",
		`{"name":"v1"}`, &s1); st != 200 {
		t.Fatalf("snapshot with a JSON body: %d %s", st, raw)
	}
	waitOps(t, c, id, s1.Operations)
	psql(t, uri, "insert into steps values (2)")

	// Finalized restore of v0 onto the live branch: same URI, v0's state.
	live := main
	restore := func(snap string) string {
		t.Helper()
		var rs apitypes.RestoredSnapshot
		st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/snapshots/"+snap+"/restore",
			`{"name":"restored_`+snap+`","target_branch_id":"`+live+`","finalize_restore":true}`, &rs)
		if st != 200 {
			t.Fatalf("restore %s: %d %s", snap, st, raw)
		}
		waitOps(t, c, id, rs.Operations)
		return rs.Branch.ID
	}
	newLive := restore(s0.Snapshot.ID)
	if got := psql(t, uri, "select string_agg(n::text, ',' order by n) from steps"); got != "0" {
		t.Fatalf("after restoring v0 the URI sees %q, want 0", got)
	}
	b, err := c.GetBranch(ctx, id, newLive)
	if err != nil {
		t.Fatal(err)
	}
	if b.Branch.Name != "main" || !b.Branch.Default || b.Branch.RestoreStatus != "finalized" || b.Branch.RestoredFrom != s0.Snapshot.ID {
		t.Errorf("restored branch: %+v", b.Branch)
	}
	old, err := c.GetBranch(ctx, id, main)
	if err != nil {
		t.Fatal(err)
	}
	if old.Branch.Name != "main (old)" || old.Branch.Default {
		t.Errorf("replaced branch: name %q default %v", old.Branch.Name, old.Branch.Default)
	}
	if eps, _ := c.ListBranchEndpoints(ctx, id, main); len(eps) != 0 {
		t.Errorf("the old branch kept %d endpoints", len(eps))
	}
	snaps, err := c.ListSnapshots(ctx, id)
	if err != nil || len(snaps) != 2 || snaps[0].SourceBranchID != main {
		t.Errorf("snapshots after restore (they stay with the old branch): %+v %v", snaps, err)
	}

	// A second restore in a row, with target_branch_id = the live branch.
	psql(t, uri, "insert into steps values (7)")
	live = newLive
	third := restore(s1.Snapshot.ID)
	if got := psql(t, uri, "select string_agg(n::text, ',' order by n) from steps"); got != "0,1" {
		t.Fatalf("after restoring v1 the URI sees %q, want 0,1", got)
	}
	live = third
	if b, _ := c.GetBranch(ctx, id, third); b == nil || b.Branch.Name != "main" {
		t.Errorf("second restore did not land on the live branch")
	}

	// Preview: its own endpoint and URI; the live branch untouched.
	psql(t, uri, "insert into steps values (9)")
	var pv apitypes.RestoredSnapshot
	// Without target_branch_id the target is the snapshot's source: now
	// "main (old)", as Neon's (the reason to pass target_branch_id).
	var stray apitypes.RestoredSnapshot
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/snapshots/"+s0.Snapshot.ID+"/restore", nil, &stray); st != 200 || stray.Branch.RestoredAs != main {
		t.Fatalf("restore without target: %d %s (want restored_as %s)", st, raw, main)
	}
	waitOps(t, c, id, stray.Operations)
	st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/snapshots/"+s0.Snapshot.ID+"/restore", `{"name":"preview","target_branch_id":"`+live+`"}`, &pv)
	if st != 200 || len(pv.Endpoints) != 1 || pv.Branch.RestoreStatus != "restored" || pv.Branch.RestoredAs != live {
		t.Fatalf("preview restore: %d %s", st, raw)
	}
	waitOps(t, c, id, pv.Operations)
	pvURI := strings.Replace(uri, cp.Endpoints[0].ID, pv.Endpoints[0].ID, 1)
	if got := psql(t, pvURI, "select string_agg(n::text, ',' order by n) from steps"); got != "0" {
		t.Errorf("preview sees %q, want 0", got)
	}
	if got := psql(t, uri, "select string_agg(n::text, ',' order by n) from steps"); got != "0,1,9" {
		t.Errorf("live branch after a preview sees %q, want 0,1,9", got)
	}
	var cu apitypes.ConnectionURIResponse
	if st, raw := g.API("GET", "/projects/"+id+"/connection_uri?branch_id="+pv.Branch.ID+"&database_name=app_db&role_name=app_user", nil, &cu); st != 200 {
		t.Errorf("preview connection_uri: %d %s", st, raw)
	}
	// finalize_restore swaps the preview in under the same URI.
	var fin apitypes.OperationsResponse
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches/"+pv.Branch.ID+"/finalize_restore", `{"name":"before preview"}`, &fin); st != 200 {
		t.Fatalf("finalize_restore: %d %s", st, raw)
	}
	waitOps(t, c, id, fin.Operations)
	if got := psql(t, uri, "select string_agg(n::text, ',' order by n) from steps"); got != "0" {
		t.Errorf("after finalize the URI sees %q, want 0", got)
	}
	if b, _ := c.GetBranch(ctx, id, third); b == nil || b.Branch.Name != "before preview" {
		t.Errorf("finalize did not rename the replaced branch")
	}

	// Rename, bad requests, limits, delete.
	if sn, err := c.RenameSnapshot(ctx, id, s0.Snapshot.ID, "checkpoint-0"); err != nil || sn.Name != "checkpoint-0" {
		t.Errorf("rename: %+v %v", sn, err)
	}
	var child apitypes.CreatedBranch
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches", `{"branch":{"name":"child"}}`, &child); st != 201 {
		t.Fatalf("child: %d %s", st, raw)
	}
	waitOps(t, c, id, child.Operations)
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"snapshot of a child", "POST", "/branches/" + child.Branch.ID + "/snapshot", "", 400, "root branches"},
		{"snapshot lsn and timestamp", "POST", "/branches/" + pv.Branch.ID + "/snapshot?lsn=0/1&timestamp=" + time.Now().UTC().Format(time.RFC3339), "", 400, "mutually exclusive"},
		{"snapshot bad timestamp", "POST", "/branches/" + pv.Branch.ID + "/snapshot?timestamp=yesterday", "", 400, "timestamp"},
		{"snapshot timestamp before the branch", "POST", "/branches/" + pv.Branch.ID + "/snapshot?timestamp=2020-01-01T00:00:00Z", "", 400, "outside"},
		{"snapshot expired", "POST", "/branches/" + pv.Branch.ID + "/snapshot?expires_at=2020-01-01T00:00:00Z", "", 400, "future"},
		{"snapshot unknown branch", "POST", "/branches/br-nope-nope-12345678/snapshot", "", 404, "branch not found"},
		{"rename without body", "PATCH", "/snapshots/" + s0.Snapshot.ID, "", 400, "invalid request"},
		{"rename empty", "PATCH", "/snapshots/" + s0.Snapshot.ID, `{"snapshot":{"name":""}}`, 400, "name"},
		{"rename unknown", "PATCH", "/snapshots/snap-nope-nope-12345678", `{"snapshot":{"name":"x"}}`, 404, "snapshot not found"},
		{"restore unknown", "POST", "/snapshots/snap-nope-nope-12345678/restore", "", 404, "snapshot not found"},
		{"restore to unknown target", "POST", "/snapshots/" + s0.Snapshot.ID + "/restore", `{"target_branch_id":"br-nope-nope-12345678"}`, 404, "not found"},
		{"finalize a branch not restored", "POST", "/branches/" + child.Branch.ID + "/finalize_restore", "", 400, "not created by a snapshot restore"},
		{"finalize twice", "POST", "/branches/" + pv.Branch.ID + "/finalize_restore", "", 400, "already finalized"},
		{"delete unknown", "DELETE", "/snapshots/snap-nope-nope-12345678", "", 404, "snapshot not found"},
	} {
		var body any
		if tt.body != "" {
			body = tt.body
		}
		st, raw := g.API(tt.method, "/projects/"+id+tt.path, body, nil)
		wantError(t, tt.name, st, raw, tt.status, tt.want)
	}
	if snaps, _ := c.ListSnapshots(ctx, id); len(snaps) != 2 {
		t.Errorf("refused requests changed the snapshots: %d", len(snaps))
	}
	for _, sn := range []string{s0.Snapshot.ID, s1.Snapshot.ID} {
		var ops apitypes.OperationsResponse
		if st, raw := apiUnlocked(t, g, "DELETE", "/projects/"+id+"/snapshots/"+sn, nil, &ops); st != 202 {
			t.Fatalf("delete snapshot: %d %s", st, raw)
		}
		waitOps(t, c, id, ops.Operations)
	}
	if snaps, _ := c.ListSnapshots(ctx, id); len(snaps) != 0 {
		t.Errorf("%d snapshots after deleting them all", len(snaps))
	}

	// Free plan (the sponsored org): one manual snapshot.
	fp := g.CreateSeed()
	fid, fmain := fp.Project.ID, fp.Branch.ID
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+fid+"/branches/"+fmain+"/snapshot?name=only", nil, nil); st != 200 {
		t.Fatalf("free snapshot: %d %s", st, raw)
	}
	st, raw = apiUnlocked(t, g, "POST", "/projects/"+fid+"/branches/"+fmain+"/snapshot?name=second", nil, nil)
	wantError(t, "second snapshot on free", st, raw, 422, "limit of 1")
	// Deleting the project deletes its snapshots' (read-only) volumes.
	for _, p := range []string{fid, id} {
		if st, raw := apiUnlocked(t, g, "DELETE", "/projects/"+p, nil, nil); st != 200 {
			t.Errorf("delete project: %d %s", st, raw)
		}
	}
}
