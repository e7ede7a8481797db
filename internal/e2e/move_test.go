package e2e

import (
	"strings"
	"testing"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
)

// TestEndpointMove: PATCHing an endpoint's branch_id drops its clients with
// Postgres' admin-shutdown error (SQLSTATE 57P01, which drivers and poolers
// take as "reconnect"), and the next connection on the same connection
// string lands on the new branch; a move onto a branch that has a
// read_write endpoint is refused and changes nothing.
func TestEndpointMove(t *testing.T) {
	g := start(t)
	c := checkedClient(g)
	cp := g.CreateSeed()
	id, main, ep := cp.Project.ID, cp.Branch.ID, cp.Endpoints[0].ID
	uri := cp.ConnectionURIs[0].ConnectionURI
	psql(t, uri, "create table kv (k int primary key); insert into kv values (1)")

	var dev apitypes.CreatedBranch
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches", `{"branch":{"name":"dev"}}`, &dev); st != 201 {
		t.Fatalf("dev: %d %s", st, raw)
	}
	waitOps(t, c, id, dev.Operations)
	psql(t, uri, "insert into kv values (2)") // on main only

	held := make(chan string, 1)
	go func() {
		out, err := grovetest.Psql(t, uri, "select pg_sleep(60)")
		if err == nil {
			out = "no error"
		}
		held <- out
	}()
	grovetest.WaitFor(t, "held connection", func() bool {
		out, _ := grovetest.Psql(t, uri, "select count(*) from pg_stat_activity where query like 'select pg_sleep%'")
		return out == "1"
	})
	var eo apitypes.EndpointOperations
	if st, raw := apiUnlocked(t, g, "PATCH", "/projects/"+id+"/endpoints/"+ep, `{"endpoint":{"branch_id":"`+dev.Branch.ID+`"}}`, &eo); st != 200 {
		t.Fatalf("move: %d %s", st, raw)
	}
	waitOps(t, c, id, eo.Operations)
	if eo.Endpoint.BranchID != dev.Branch.ID {
		t.Errorf("moved endpoint's branch_id = %s, want %s", eo.Endpoint.BranchID, dev.Branch.ID)
	}
	if msg := <-held; !strings.Contains(msg, "terminating connection due to administrator command") {
		t.Errorf("a client of the moved endpoint got %q, want Postgres' admin shutdown (57P01)", msg)
	}
	if got := psql(t, uri, "select string_agg(k::text, ',' order by k) from kv"); got != "1" {
		t.Fatalf("after the move the same URI sees %q, want dev's 1", got)
	}

	// main has no endpoint now: give it one, then a move onto it is refused.
	var other apitypes.EndpointOperations
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/endpoints", `{"endpoint":{"branch_id":"`+main+`","type":"read_write"}}`, &other); st != 201 {
		t.Fatalf("endpoint on main: %d %s", st, raw)
	}
	waitOps(t, c, id, other.Operations)
	st, raw := apiUnlocked(t, g, "PATCH", "/projects/"+id+"/endpoints/"+ep, `{"endpoint":{"branch_id":"`+main+`"}}`, nil)
	wantError(t, "move onto a branch with a read_write endpoint", st, raw, 409, "read_write endpoint already exists")
	if got := psql(t, uri, "select string_agg(k::text, ',' order by k) from kv"); got != "1" {
		t.Fatalf("a refused move changed what the URI sees: %q", got)
	}
}
