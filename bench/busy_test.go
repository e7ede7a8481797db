package bench

import (
	"fmt"
	"testing"
	"time"
)

// busyRows rows of ~1,000 bytes make about 500 MB: what an agent's load
// writes before it branches.
const busyRows = 520_000

// BenchmarkBranchBusyParent measures five branches with endpoints created
// one after another right after their running parent wrote 500 MB (no
// CHECKPOINT: a project's role may not run one), each up to its first
// query through the proxy, and the parent's load time. Targets: p50 of the
// five ≤ 150 ms, the first ≤ 1 s; the load no more than 1.1 × what it was
// before the parent's checkpoints were bounded (docs/figures.md).
//
// The same parent is branched five times at rest before its load, so
// that the run also says what the load costs its branches on this
// machine on this day ("busy_over_rest"): the absolute figures move
// several-fold with the shared host's IO.
func BenchmarkBranchBusyParent(b *testing.B) {
	g := startOnBtrfs(b, dataDiskMB, false)
	org := g.OrgID("paid")
	var loads, firsts, rest, busy []time.Duration
	for i := range b.N {
		p := newBenchProject(b, g, org, fmt.Sprintf("busy-%d", i), false)
		// The set-up's background checkpoint comes a second after it.
		time.Sleep(2 * time.Second)
		for j := range 5 {
			bt := branchOnce(b, g, p)
			rest = append(rest, bt.total)
			b.Logf("at rest, branch %d: %s", j+1, bt)
		}
		start := time.Now()
		mustExec(b, p.keep, fmt.Sprintf("CREATE TABLE load AS SELECT i AS id, repeat(md5(i::text), 30) AS pad FROM generate_series(1, %d) i", busyRows))
		loads = append(loads, time.Since(start))
		for j := range 5 {
			bt := branchOnce(b, g, p)
			busy = append(busy, bt.total)
			if j == 0 {
				firsts = append(firsts, bt.total)
			}
			b.Logf("busy, branch %d: %s", j+1, bt)
		}
	}
	metric(b, float64(p50(busy))/float64(p50(rest)), "busy_over_rest")
	percentiles(b, "rest_branch_to_query", rest)
	percentiles(b, "busy_branch_to_query", busy)
	metric(b, float64(p50(firsts).Microseconds())/1000, "first_branch_ms")
	metric(b, float64(p50(loads).Microseconds())/1000, "load_500MB_ms")
}
