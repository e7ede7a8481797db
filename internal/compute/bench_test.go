package compute_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgtest"
)

// firstQuery connects as the superuser and runs one query, as a client's
// first round trip would.
func firstQuery(b testing.TB, in *compute.Instance) {
	if v := queryInt(b, in, "postgres", "select 1"); v != 1 {
		b.Fatal(v)
	}
}

// BenchmarkTakeWarm: Take from a full warm pool → first query. The pool
// stays at one instance (PoolMax), which each iteration waits for.
func BenchmarkTakeWarm(b *testing.B) {
	e := newEnv(b, func(c *compute.Config) { c.PoolSize, c.PoolMax = 1, 1 })
	e.run(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		waitFor(b, "warm pool", func() bool { return e.m.PoolLen(e.major) == 1 })
		id := fmt.Sprintf("ep-bench-%d", i)
		b.StartTimer()
		in, err := e.m.Take(b.Context(), compute.Spec{ID: id, Major: e.major, MinCU: 0.25, MaxCU: 2})
		if err != nil {
			b.Fatal(err)
		}
		firstQuery(b, in)
		b.StopTimer()
		if err := e.m.Suspend(b.Context(), id); err != nil {
			b.Fatal(err)
		}
		if err := e.vols.Delete(b.Context(), in.VolumeID()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkTakeCold: Take with no pool: template clone + start → first query.
func BenchmarkTakeCold(b *testing.B) {
	e := newEnv(b)
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("ep-bench-%d", i)
		in, err := e.m.Take(b.Context(), compute.Spec{ID: id, Major: e.major})
		if err != nil {
			b.Fatal(err)
		}
		firstQuery(b, in)
		b.StopTimer()
		if err := e.m.Suspend(b.Context(), id); err != nil {
			b.Fatal(err)
		}
		if err := e.vols.Delete(b.Context(), in.VolumeID()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// suspendedVolume returns a volume of a compute that ran and was suspended.
func suspendedVolume(b *testing.B, e *env) string {
	in, err := e.m.Take(b.Context(), compute.Spec{ID: "ep-bench", Major: e.major})
	if err != nil {
		b.Fatal(err)
	}
	exec(b, in, "postgres", "CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g")
	if err := e.m.Suspend(b.Context(), "ep-bench"); err != nil {
		b.Fatal(err)
	}
	return in.VolumeID()
}

// BenchmarkWake: Start on a suspended volume → first query.
func BenchmarkWake(b *testing.B) {
	e := newEnv(b)
	vol := suspendedVolume(b, e)
	spec := compute.Spec{ID: "ep-bench", VolumeID: vol, Major: e.major}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in, err := e.m.Start(b.Context(), spec)
		if err != nil {
			b.Fatal(err)
		}
		firstQuery(b, in)
		b.StopTimer()
		if err := e.m.Suspend(b.Context(), spec.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkSuspend: pg_switch_wal + fast shutdown of an active compute.
func BenchmarkSuspend(b *testing.B) {
	e := newEnv(b)
	vol := suspendedVolume(b, e)
	spec := compute.Spec{ID: "ep-bench", VolumeID: vol, Major: e.major}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := e.m.Start(b.Context(), spec); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := e.m.Suspend(b.Context(), spec.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareStart is the floor under BenchmarkWake: pgrun.Start on the
// same stopped volume → first query, without the manager.
func BenchmarkBareStart(b *testing.B) {
	e := newEnv(b)
	vol := suspendedVolume(b, e)
	u := pgtest.User(b)
	sock := filepath.Join(pgtest.ShortDir(b), "s")
	if err := u.MkdirOwned(sock, 0o700); err != nil {
		b.Fatal(err)
	}
	opts := pgrun.Options{Install: pgtest.Install(b, e.major), User: u, DataDir: e.vols.Path(vol), SocketDir: sock}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		srv, err := pgrun.Start(b.Context(), opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.Psql(b.Context(), "postgres", "select 1"); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := srv.Stop(b.Context()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// idleMemoryBoundMiB is the README's bound on an idle 0.25 CU compute.
const idleMemoryBoundMiB = 30

// idleMemory takes a 0.25 CU compute, runs a first query and returns the
// memory its processes then hold: the sum of their PSS, which shares shared
// memory fairly between them, and of their RSS, which counts shared pages in
// every process. The compute is suspended and its volume deleted afterwards.
func idleMemory(tb testing.TB, e *env, id string) (procs int, pssKiB, rssKiB int64) {
	tb.Helper()
	in, err := e.m.Take(tb.Context(), compute.Spec{ID: id, Major: e.major, MinCU: 0.25, MaxCU: 0.25})
	if err != nil {
		tb.Fatal(err)
	}
	firstQuery(tb, in)
	pids := processesOf(tb, in.DataDir())
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
		if err != nil {
			continue // exited since it was listed
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				switch f[0] {
				case "Pss:":
					pssKiB += v
				case "Rss:":
					rssKiB += v
				}
			}
		}
	}
	if err := e.m.Suspend(tb.Context(), id); err != nil {
		tb.Fatal(err)
	}
	if err := e.vols.Delete(tb.Context(), in.VolumeID()); err != nil {
		tb.Fatal(err)
	}
	return len(pids), pssKiB, rssKiB
}

// BenchmarkIdleMemory reports the memory an idle active compute at 0.25 CU
// costs, the README's figure, as idle_pss_MiB (mean over the iterations).
func BenchmarkIdleMemory(b *testing.B) {
	e := newEnv(b)
	var n int
	var pss, rss int64
	for b.Loop() {
		procs, p, r := idleMemory(b, e, fmt.Sprintf("ep-mem-%d", n))
		b.Logf("idle 0.25 CU compute: %d processes, PSS %d KiB, RSS sum %d KiB", procs, p, r)
		n++
		pss += p
		rss += r
	}
	b.ReportMetric(float64(pss)/float64(n)/1024, "idle_pss_MiB")
	b.ReportMetric(float64(rss)/float64(n)/1024, "idle_rss_sum_MiB")
}

// TestIdleMemory holds an idle 0.25 CU compute to the README's bound.
func TestIdleMemory(t *testing.T) {
	e := newEnv(t)
	procs, pss, rss := idleMemory(t, e, "ep-mem")
	t.Logf("idle 0.25 CU compute: %d processes, PSS %d KiB, RSS sum %d KiB", procs, pss, rss)
	if pss > idleMemoryBoundMiB<<10 {
		t.Errorf("idle 0.25 CU compute holds %.1f MiB PSS, over the bound of %d MiB", float64(pss)/1024, idleMemoryBoundMiB)
	}
}
