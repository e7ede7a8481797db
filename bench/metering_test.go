package bench

import (
	"context"
	"slices"
	"testing"

	"github.com/grovedb/grove/internal/grovetest"
	"github.com/jackc/pgx/v5"
)

// BenchmarkMeteringOverhead compares pgbench -S through the proxy (TLS) on a
// grove with metering (flushing every second, ten times as often as
// the default, so that flushes fall inside every run) and on one
// started with --metering=false. Runs alternate between the two, twice, to
// spread the machine's drift. Target: metered ≥ 0.98 × unmetered.
//
//	TMPDIR=/dev/shm go test -run '^$' -bench MeteringOverhead -benchtime 1x ./bench/
func BenchmarkMeteringOverhead(b *testing.B) {
	on := startOnBtrfs(b, 2048, false, "--metering-interval", "1s")
	off := startOnBtrfs(b, 2048, false, "--metering=false")
	uris := map[*grovetest.Grove]string{}
	for _, g := range []*grovetest.Grove{on, off} {
		cp := createProject(b, g, g.OrgID("paid"))
		uri := cp.ConnectionURIs[0].ConnectionURI
		// Both computes at a fixed 1 CU: the autoscaler moves neither
		// between the runs.
		path := "/projects/" + cp.Project.ID + "/endpoints/" + cp.Endpoints[0].ID
		if st, raw := g.API("PATCH", path, `{"endpoint":{"autoscaling_limit_min_cu":1,"autoscaling_limit_max_cu":1}}`, nil); st != 200 {
			b.Fatalf("fix the size at 1 CU: %d %s", st, raw)
		}
		// Keep the endpoint awake: a client stays connected for the whole run.
		keep, err := pgx.Connect(b.Context(), uri)
		if err != nil {
			b.Fatal(err)
		}
		defer keep.Close(context.Background())
		pgbench(b, uri, "-i", "-q", "-s", "1")
		pgbench(b, uri, "-n", "-S", "-c", "8", "-j", "2", "-T", "3") // warm up
		uris[g] = uri
	}
	args := []string{"-n", "-S", "-c", "8", "-j", "2", "-T", "6"}
	b.ResetTimer()
	// Rounds in turns, the order swapped each round; the median of the
	// rounds' ratios resists the machine's swings, which move a single
	// pair of runs by ±9 %.
	var metered, unmetered float64
	var ratios []float64
	for i := 0; i < b.N; i++ {
		for r := 0; r < 7; r++ {
			var m, u float64
			if r%2 == 0 {
				m, u = pgbench(b, uris[on], args...), pgbench(b, uris[off], args...)
			} else {
				u, m = pgbench(b, uris[off], args...), pgbench(b, uris[on], args...)
			}
			metered, unmetered = metered+m, unmetered+u
			ratios = append(ratios, m/u)
		}
	}
	slices.Sort(ratios)
	metric(b, metered/float64(len(ratios)), "metered_tps")
	metric(b, unmetered/float64(len(ratios)), "unmetered_tps")
	metric(b, ratios[len(ratios)/2], "metered_over_unmetered_median")
	b.Logf("metered/unmetered by round, sorted: %.3f", ratios)
}
