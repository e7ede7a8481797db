package e2e

import (
	"strings"
	"testing"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/client"
	"github.com/grovedb/grove/internal/grovetest"
)

// TestBranchRestore: a branch restored from another branch's head keeps its
// id and connection string and serves the source's data; with
// preserve_under_name the previous state stays as a backup branch that
// takes the children; reset from parent; clients of the moved compute are
// disconnected and their next connection lands on the new data; bad
// restores are refused unchanged.
func TestBranchRestore(t *testing.T) { eachDriver(t, testBranchRestore) }

func testBranchRestore(t *testing.T, g *grovetest.Grove) {
	c := checkedClient(g)
	cp := g.CreateSeed()
	id, main := cp.Project.ID, cp.Branch.ID
	uri := cp.ConnectionURIs[0].ConnectionURI
	psql(t, uri, "create table kv (k int primary key); insert into kv values (1)")

	var dev apitypes.CreatedBranch
	if st, raw := g.API("POST", "/projects/"+id+"/branches", `{"branch":{"name":"dev"},"endpoints":[{"type":"read_write"}]}`, &dev); st != 201 {
		t.Fatalf("dev: %d %s", st, raw)
	}
	waitOps(t, c, id, dev.Operations)
	devURI := dev.ConnectionURIs[0].ConnectionURI
	psql(t, devURI, "insert into kv values (2)")
	psql(t, uri, "insert into kv values (10)")

	for _, tt := range []struct {
		name, branch, body string
		status             int
		want               string
	}{
		{"no body", dev.Branch.ID, "", 400, "invalid request"},
		{"no source", dev.Branch.ID, `{}`, 400, "source_branch_id"},
		{"unknown source", dev.Branch.ID, `{"source_branch_id":"br-nope-nope-12345678"}`, 404, "not found"},
		{"self without a point", dev.Branch.ID, `{"source_branch_id":"` + dev.Branch.ID + `","preserve_under_name":"x"}`, 400, "source_timestamp or source_lsn"},
		{"self without preserve", dev.Branch.ID, `{"source_branch_id":"` + dev.Branch.ID + `","source_lsn":"0/1"}`, 400, "preserve_under_name"},
		{"lsn and timestamp", dev.Branch.ID, `{"source_branch_id":"` + main + `","source_lsn":"0/1","source_timestamp":"2020-01-01T00:00:00Z"}`, 400, "mutually exclusive"},
		{"unknown target", "br-nope-nope-12345678", `{"source_branch_id":"` + main + `"}`, 404, "branch not found"},
	} {
		var body any
		if tt.body != "" {
			body = tt.body
		}
		st, raw := g.API("POST", "/projects/"+id+"/branches/"+tt.branch+"/restore", body, nil)
		wantError(t, "restore "+tt.name, st, raw, tt.status, tt.want)
	}
	if got := psql(t, devURI, "select string_agg(k::text, ',' order by k) from kv"); got != "1,2" {
		t.Fatalf("refused restores changed dev: %q", got)
	}

	// Reset from parent: dev gets main's head; a client connected to dev
	// is disconnected with a Postgres error and reconnects to new data.
	held := make(chan string, 1)
	go func() {
		out, err := grovetest.Psql(t, devURI, "select pg_sleep(60)")
		if err == nil {
			out = "no error"
		}
		held <- out
	}()
	grovetest.WaitFor(t, "held connection", func() bool {
		out, _ := grovetest.Psql(t, devURI, "select count(*) from pg_stat_activity where query like 'select pg_sleep%'")
		return out == "1"
	})
	var rs apitypes.BranchOperations
	if st, raw := g.API("POST", "/projects/"+id+"/branches/"+dev.Branch.ID+"/restore", `{"source_branch_id":"`+main+`"}`, &rs); st != 200 {
		t.Fatalf("reset from parent: %d %s", st, raw)
	}
	if rs.Branch.ID != dev.Branch.ID || rs.Branch.CurrentState != "resetting" || rs.Branch.LastResetAt.IsZero() {
		t.Errorf("restore response branch: %+v", rs.Branch)
	}
	waitOps(t, c, id, rs.Operations)
	msg := <-held
	t.Logf("a client of the restored branch got: %s", msg)
	if msg == "no error" {
		t.Errorf("the held connection survived the restore")
	}
	if got := psql(t, devURI, "select string_agg(k::text, ',' order by k) from kv"); got != "1,10" {
		t.Fatalf("after reset from parent dev sees %q, want 1,10", got)
	}

	// A child of dev, then restore dev with preserve_under_name: the child
	// moves to the backup, which becomes dev's parent.
	psql(t, devURI, "insert into kv values (3)")
	var kid apitypes.CreatedBranch
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches", `{"branch":{"name":"kid","parent_id":"`+dev.Branch.ID+`"}}`, &kid); st != 201 {
		t.Fatalf("kid: %d %s", st, raw)
	}
	waitOps(t, c, id, kid.Operations)
	st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches/"+dev.Branch.ID+"/restore", `{"source_branch_id":"`+main+`"}`, nil)
	wantError(t, "restore with children, no preserve", st, raw, 400, "preserve_under_name")
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches/"+dev.Branch.ID+"/restore",
		`{"source_branch_id":"`+main+`","preserve_under_name":"dev_backup"}`, &rs); st != 200 {
		t.Fatalf("restore with preserve: %d %s", st, raw)
	}
	waitOps(t, c, id, rs.Operations)
	branches, err := c.ListBranches(t.Context(), id, clientSearch("dev_backup"))
	if err != nil || len(branches.Branches) != 1 {
		t.Fatalf("backup branch: %+v %v", branches, err)
	}
	backup := branches.Branches[0]
	if backup.ParentID != main || rs.Branch.ParentID != backup.ID {
		t.Errorf("backup parent %q (want %s), dev parent %q (want the backup %s)", backup.ParentID, main, rs.Branch.ParentID, backup.ID)
	}
	k, err := c.GetBranch(t.Context(), id, kid.Branch.ID)
	if err != nil || k.Branch.ParentID != backup.ID {
		t.Errorf("kid's parent %q, want the backup %s (%v)", k.Branch.ParentID, backup.ID, err)
	}
	if got := psql(t, devURI, "select string_agg(k::text, ',' order by k) from kv"); got != "1,10" {
		t.Errorf("after restore dev sees %q, want 1,10", got)
	}
	// The backup holds dev's previous state.
	var bep apitypes.EndpointOperations
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/endpoints", `{"endpoint":{"branch_id":"`+backup.ID+`","type":"read_write"}}`, &bep); st != 201 {
		t.Fatalf("endpoint on backup: %d %s", st, raw)
	}
	waitOps(t, c, id, bep.Operations)
	backupURI := strings.Replace(devURI, dev.Endpoints[0].ID, bep.Endpoint.ID, 1)
	if got := psql(t, backupURI, "select string_agg(k::text, ',' order by k) from kv"); got != "1,3,10" {
		t.Errorf("backup sees %q, want 1,3,10", got)
	}
}

func clientSearch(s string) client.ListBranchesParams { return client.ListBranchesParams{Search: s} }
