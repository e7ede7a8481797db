package bench

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/grovetest"
	"github.com/jackc/pgx/v5"
)

// BenchmarkAutoscaleReaction measures the autoscaler's reaction: a CPU-bound
// load starts on an idle 0.25–1 CU endpoint (three connections through the
// proxy, each looping a count over generate_series) → grove logs the
// endpoint's scale-up, its new cgroup limits and settings applied. Each
// round uses a new project, so that every endpoint starts idle at 0.25 CU.
// The log is polled every 20 ms, which bounds the error of each figure.
func BenchmarkAutoscaleReaction(b *testing.B) {
	g := grovetest.Start(b, "--pool-size", "2")
	if !strings.Contains(g.Logs(), "autoscale: running") {
		b.Fatalf("the autoscaler is not running:\n%s", g.Logs())
	}
	org := g.OrgID("sponsored")
	const rounds = 7
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < rounds; j++ {
			cp := createProject(b, g, org)
			ep := cp.Endpoints[0].ID
			uri := cp.ConnectionURIs[0].ConnectionURI
			if err := firstQuery(b.Context(), uri); err != nil {
				b.Fatal(err)
			}
			time.Sleep(2 * time.Second) // idle: the autoscaler has seen it at 0.25 CU
			before := strings.Count(g.Logs(), "autoscale: resized")
			start := time.Now()
			stop := cpuLoadURI(b, uri, 3)
			var took time.Duration
			for deadline := start.Add(60 * time.Second); took == 0; {
				if time.Now().After(deadline) {
					stop()
					b.Fatalf("no scale-up of %s within 60 s:\n%s", ep, g.Logs())
				}
				if scaledUp(g.Logs(), ep, before) {
					took = time.Since(start)
				}
				time.Sleep(20 * time.Millisecond)
			}
			stop()
			ds = append(ds, took)
		}
	}
	b.StopTimer()
	percentiles(b, "autoscale_reaction", ds)
}

// scaledUp reports whether the log has a scale-up of ep among the resize
// lines after the first skip ones.
func scaledUp(logs, ep string, skip int) bool {
	n := 0
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, "autoscale: resized") {
			continue
		}
		n++
		if n > skip && strings.Contains(line, "compute="+ep) && strings.Contains(line, "reason=cpu") {
			return true
		}
	}
	return false
}

// cpuLoadURI runs n connections each looping a CPU-bound query until stop.
func cpuLoadURI(b *testing.B, uri string, n int) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := pgx.Connect(ctx, uri)
			if err != nil {
				if ctx.Err() == nil {
					b.Errorf("load: %v", err)
				}
				return
			}
			defer conn.Close(context.Background())
			for ctx.Err() == nil {
				_, _ = conn.Exec(ctx, "SELECT count(*) FROM generate_series(1, 100000000)")
			}
		}()
	}
	return func() { cancel(); wg.Wait() }
}
