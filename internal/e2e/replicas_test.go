package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/client"
	"github.com/grovedb/grove/internal/grovetest"
)

// TestReadReplicas creates read_only endpoints (read replicas) on a branch
// through both create calls: a replica sees the read-write endpoint's
// committed writes, refuses writes with Postgres' own error, keeps
// serving while the primary is suspended, suspends and wakes like any
// endpoint, and its volume goes with it. Bad requests change nothing.
func TestReadReplicas(t *testing.T) {
	g := start(t)
	ctx := t.Context()
	c := checkedClient(g)
	cp := g.CreateSeed()
	id, main, ep := cp.Project.ID, cp.Branch.ID, cp.Endpoints[0].ID
	uri := cp.ConnectionURIs[0].ConnectionURI
	psql := func(uri, q string) string {
		t.Helper()
		out, err := grovetest.Psql(t, uri, q)
		if err != nil {
			t.Fatalf("%s: %v: %s", q, err, out)
		}
		return out
	}
	psql(uri, "create table kv (k int primary key); insert into kv values (1)")

	bad := []struct {
		name, body string
		status     int
		want       string
	}{
		{"unknown branch", `{"endpoint":{"branch_id":"br-nope-nope-12345678","type":"read_only"}}`, 404, "branch not found"},
		{"malformed branch id", `{"endpoint":{"branch_id":"../x","type":"read_only"}}`, 404, "branch not found"},
		{"no branch", `{"endpoint":{"type":"read_only"}}`, 400, "branch_id"},
		{"bad type", `{"endpoint":{"branch_id":"` + main + `","type":"read-only"}}`, 400, "type"},
		{"bad size", `{"endpoint":{"branch_id":"` + main + `","type":"read_only","autoscaling_limit_min_cu":0.3}}`, 400, "autoscaling_limit_min_cu"},
		{"bad suspend", `{"endpoint":{"branch_id":"` + main + `","type":"read_only","suspend_timeout_seconds":5}}`, 400, "suspend_timeout_seconds"},
	}
	for _, tt := range bad {
		t.Run("create "+tt.name, func(t *testing.T) {
			st, body := g.API("POST", "/projects/"+id+"/endpoints", tt.body, nil)
			wantError(t, tt.name, st, body, tt.status, tt.want)
		})
	}
	st, body := g.API("POST", "/projects/"+id+"/branches", `{"endpoints":[{"type":"read_write"},{"type":"read_only"},{"type":"read_write"}]}`, nil)
	wantError(t, "branch with two read_write endpoints", st, body, 409, "read_write endpoint already exists")
	if eps, err := c.ListEndpoints(ctx, id); err != nil || len(eps) != 1 {
		t.Fatalf("refused requests left endpoints: %+v, %v", eps, err)
	}

	cr, err := c.CreateEndpoint(ctx, id, apitypes.EndpointCreateRequest{Endpoint: apitypes.EndpointCreate{BranchID: main, Type: "read_only"}})
	if err != nil {
		t.Fatal(err)
	}
	rep := cr.Endpoint.ID
	if cr.Endpoint.Type != "read_only" || cr.Endpoint.BranchID != main || len(cr.Operations) != 1 || cr.Operations[0].Action != "start_compute" {
		t.Errorf("created replica: %+v, operations %+v", cr.Endpoint, cr.Operations)
	}
	waitOps(t, c, id, cr.Operations)
	repURI := strings.Replace(uri, ep, rep, 1)
	if got := psql(repURI, "select count(*) from kv"); got != "1" {
		t.Errorf("replica sees %s rows, want 1", got)
	}
	if got := psql(repURI, "select pg_is_in_recovery()"); got != "t" {
		t.Errorf("replica pg_is_in_recovery() = %s", got)
	}
	if code := writeCode(t, repURI); code != "25006" {
		t.Errorf("write on the replica: SQLSTATE %q, want 25006 (read_only_sql_transaction)", code)
	}

	// Committed writes of the primary reach the replica.
	psql(uri, "insert into kv values (2)")
	waitRows(t, repURI, "2")

	// The primary suspended: the replica serves what was committed before.
	sus, err := c.SuspendEndpoint(ctx, id, ep)
	if err != nil {
		t.Fatal(err)
	}
	waitOps(t, c, id, sus.Operations)
	if got := psql(repURI, "select count(*) from kv"); got != "2" {
		t.Errorf("replica with the primary suspended sees %s rows, want 2", got)
	}

	// The replica suspends (its copy goes) and wakes on a connection, the
	// primary still suspended.
	vol := filepath.Join(g.DataDir, "volumes", "ro-"+rep)
	sus, err = c.SuspendEndpoint(ctx, id, rep)
	if err != nil {
		t.Fatal(err)
	}
	waitOps(t, c, id, sus.Operations)
	if got, err := c.GetEndpoint(ctx, id, rep); err != nil || got.CurrentState != "idle" {
		t.Errorf("suspended replica: %+v, %v", got, err)
	}
	if _, err := os.Stat(vol); !os.IsNotExist(err) {
		t.Errorf("suspended replica's volume: %v, want gone", err)
	}
	if got := psql(repURI, "select count(*) from kv"); got != "2" {
		t.Errorf("woken replica sees %s rows, want 2", got)
	}
	if got, err := c.GetEndpoint(ctx, id, ep); err != nil || got.CurrentState != "idle" {
		t.Errorf("a replica's wake woke the primary: %+v, %v", got, err)
	}
	if got, err := c.GetEndpoint(ctx, id, rep); err != nil || got.CurrentState != "active" || got.LastActive.IsZero() {
		t.Errorf("woken replica: %+v, %v", got, err)
	}

	// The primary wakes and writes: the running replica follows.
	psql(uri, "insert into kv values (3)")
	waitRows(t, repURI, "3")

	// A branch created with a read-write endpoint and a replica.
	cb, err := c.CreateBranch(ctx, id, &apitypes.BranchCreateRequest{Endpoints: []apitypes.BranchCreateEndpoint{{Type: "read_only"}, {Type: "read_write"}}})
	if err != nil {
		t.Fatal(err)
	}
	waitOps(t, c, id, cb.Operations)
	var childRW, childRO string
	for _, e := range cb.Endpoints {
		if e.Type == "read_write" {
			childRW = e.ID
		} else {
			childRO = e.ID
		}
	}
	if childRW == "" || childRO == "" || len(cb.ConnectionURIs) != 1 || !strings.Contains(cb.ConnectionURIs[0].ConnectionURI, childRW) {
		t.Fatalf("branch with a replica: endpoints %+v, uris %+v", cb.Endpoints, cb.ConnectionURIs)
	}
	psql(strings.Replace(uri, ep, childRW, 1), "insert into kv values (4)")
	waitRows(t, strings.Replace(uri, ep, childRO, 1), "4")
	if got := psql(repURI, "select count(*) from kv"); got != "3" {
		t.Errorf("the parent's replica sees the child's write: %s rows", got)
	}

	// Delete: the replica's compute and volume go; the primary stays.
	del, err := c.DeleteEndpoint(ctx, id, rep)
	if err != nil {
		t.Fatal(err)
	}
	waitOps(t, c, id, del.Operations)
	if _, err := c.GetEndpoint(ctx, id, rep); client.StatusCode(err) != 404 {
		t.Errorf("get of a deleted replica: %v, want 404", err)
	}
	if _, err := os.Stat(vol); !os.IsNotExist(err) {
		t.Errorf("deleted replica's volume: %v, want gone", err)
	}
	if out, err := grovetest.Psql(t, repURI, "select 1"); err == nil {
		t.Errorf("deleted replica still answers: %s", out)
	}
	if got := psql(uri, "select count(*) from kv"); got != "3" {
		t.Errorf("primary after the replica's delete: %s rows", got)
	}
}

// TestReplicaAfterRestore: a branch restore restarts the branch's running
// replica, which then serves the restored data.
func TestReplicaAfterRestore(t *testing.T) {
	g := start(t)
	ctx := t.Context()
	c := checkedClient(g)
	cp := g.CreateSeed()
	id, main, ep := cp.Project.ID, cp.Branch.ID, cp.Endpoints[0].ID
	uri := cp.ConnectionURIs[0].ConnectionURI
	if out, err := grovetest.Psql(t, uri, "create table kv (k int primary key); insert into kv values (1)"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	child, err := c.CreateBranch(ctx, id, &apitypes.BranchCreateRequest{Endpoints: []apitypes.BranchCreateEndpoint{{Type: "read_write"}}})
	if err != nil {
		t.Fatal(err)
	}
	waitOps(t, c, id, child.Operations)
	if out, err := grovetest.Psql(t, strings.Replace(uri, ep, child.Endpoints[0].ID, 1), "insert into kv select generate_series(2, 10)"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	cr, err := c.CreateEndpoint(ctx, id, apitypes.EndpointCreateRequest{Endpoint: apitypes.EndpointCreate{BranchID: main, Type: "read_only"}})
	if err != nil {
		t.Fatal(err)
	}
	waitOps(t, c, id, cr.Operations)
	repURI := strings.Replace(uri, ep, cr.Endpoint.ID, 1)
	waitRows(t, repURI, "1")

	// main takes the child's data (preserving its own under a name).
	var res apitypes.BranchOperations
	if st, raw := g.API("POST", "/projects/"+id+"/branches/"+main+"/restore",
		`{"source_branch_id":"`+child.Branch.ID+`","preserve_under_name":"main-before"}`, &res); st != 200 {
		t.Fatalf("restore: %d %s", st, raw)
	}
	waitOps(t, c, id, res.Operations)
	waitRows(t, repURI, "10")
	if out, err := grovetest.Psql(t, uri, "select count(*) from kv"); err != nil || out != "10" {
		t.Errorf("primary after restore: %v: %s", err, out)
	}
}

// waitRows polls a replica until kv has want rows (replication lag).
func waitRows(t *testing.T, uri, want string) {
	t.Helper()
	grovetest.WaitFor(t, "replica to see "+want+" rows", func() bool {
		out, err := grovetest.Psql(t, uri, "select count(*) from kv")
		return err == nil && out == want
	})
}

// writeCode returns the SQLSTATE of an insert through uri.
func writeCode(t *testing.T, uri string) string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), uri)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(t.Context(), "insert into kv values (100)")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Fatalf("write on the replica: %v, want a Postgres error", err)
	}
	return pe.Code
}
