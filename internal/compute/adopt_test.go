package compute_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/compute"
)

// TestAdopt: a manager that Leaves keeps its computes running, and a new
// manager on the same volumes and run dir adopts those whose settings are
// what their endpoint runs with (same postmaster, its size, rows readable,
// supervised: a crash restarts it, Suspend stops it), stops one whose size
// changed meanwhile (it then starts afresh) and one no endpoint wants
// (its volume deleted).
func TestAdopt(t *testing.T) {
	var cfg *compute.Config
	e := newEnv(t, func(c *compute.Config) { cfg = c })
	ctx := t.Context()
	specs := map[string]compute.Spec{}
	pids := map[string]int{}
	for _, id := range []string{"ep-same", "ep-resized", "ep-gone"} {
		in, err := e.m.Take(ctx, compute.Spec{ID: id, Major: e.major, MinCU: 0.25, MaxCU: 2})
		if err != nil {
			t.Fatal(err)
		}
		specs[id], pids[id] = in.Spec(), in.Pid()
	}
	same, _ := e.m.Get("ep-same")
	exec(t, same, "postgres", "CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2)")
	// The autoscaler's size is the one the next manager takes over.
	if err := e.m.SetCU(ctx, "ep-same", 1); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	for id, pid := range pids {
		if syscall.Kill(pid, 0) != nil {
			t.Fatalf("%s's postmaster %d exited at Leave", id, pid)
		}
	}

	m2, err := compute.New(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	m2.Subscribe(e.events.add)
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = m2.Close(cctx)
	})
	resized := specs["ep-resized"]
	resized.MaxCU = 4
	want := map[string]compute.Spec{"ep-same": specs["ep-same"], "ep-resized": resized}
	keep := func(v string) bool { return v == specs["ep-same"].VolumeID || v == resized.VolumeID }
	expect := func(_ context.Context, id string) (compute.Spec, bool) {
		s, ok := want[id]
		return s, ok
	}
	if err := m2.Reconcile(ctx, keep, expect); err != nil {
		t.Fatal(err)
	}

	// Adoption runs in the background; a Start meanwhile waits for it.
	in, err := m2.Start(ctx, specs["ep-same"])
	if err != nil {
		t.Fatal(err)
	}
	if in.State() != compute.StateActive || in.Pid() != pids["ep-same"] {
		t.Fatalf("ep-same not adopted: %s, pid %d (was %d)", in.State(), in.Pid(), pids["ep-same"])
	}
	if in.CU() != 1 {
		t.Errorf("adopted at %v CU, want the 1 CU it ran at", in.CU())
	}
	if n := queryInt(t, in, "postgres", "SELECT count(*) FROM t"); n != 2 {
		t.Fatalf("rows after adoption = %d", n)
	}
	if e.events.count("ep-same", compute.EventAdopted) != 1 {
		t.Error("no adopted event")
	}
	for _, id := range []string{"ep-resized", "ep-gone"} {
		waitFor(t, id+"'s postmaster stopped", func() bool { return syscall.Kill(pids[id], 0) != nil })
		if in, ok := m2.Get(id); ok {
			t.Errorf("%s adopted: %s", id, in.State())
		}
	}
	waitFor(t, "ep-gone's volume deleted", func() bool { return !e.vols.Exists(specs["ep-gone"].VolumeID) })
	if !e.vols.Exists(resized.VolumeID) {
		t.Fatal("ep-resized's volume deleted")
	}
	if _, err := m2.Start(ctx, resized); err != nil {
		t.Fatalf("start ep-resized afresh: %v", err)
	}

	// Supervised: a crash of the adopted postmaster restarts it.
	if err := syscall.Kill(pids["ep-same"], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "adopted compute restarted", func() bool {
		return in.State() == compute.StateActive && in.Pid() != pids["ep-same"] && in.Pid() != 0
	})
	if n := queryInt(t, in, "postgres", "SELECT count(*) FROM t"); n != 2 {
		t.Fatalf("rows after the restart = %d", n)
	}
	if err := m2.Suspend(ctx, "ep-same"); err != nil {
		t.Fatal(err)
	}
}
