package bench

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/jackc/pgx/v5"
)

// BenchmarkRestartAdopt kills grove with SIGKILL while 30 computes run and
// starts it again: seconds from the kill to the API answering a project's
// GET and to a query answered through the proxy (pgx, TLS, SCRAM) on one
// of the computes, and how many of the 30 computes kept their postmaster
// (same start time: adopted, their next query without a cold start).
func BenchmarkRestartAdopt(b *testing.B) {
	g := startOnBtrfs(b, 8192, false)
	org := g.OrgID("sponsored")
	const n = 30
	projects := make([]apitypes.CreatedProject, n)
	for i := range projects {
		projects[i] = createProject(b, g, org)
	}
	ctx := b.Context()
	startedAt := func(uri string, timeout time.Duration) (time.Time, error) {
		qctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		conn, err := pgx.Connect(qctx, uri)
		if err != nil {
			return time.Time{}, err
		}
		defer conn.Close(context.WithoutCancel(qctx))
		var t time.Time
		err = conn.QueryRow(qctx, "select pg_postmaster_start_time()").Scan(&t)
		return t, err
	}
	started := func() []time.Time {
		out := make([]time.Time, n)
		for i, p := range projects {
			t, err := startedAt(p.ConnectionURIs[0].ConnectionURI, time.Minute)
			if err != nil {
				b.Fatalf("project %d: %v", i, err)
			}
			out[i] = t
		}
		return out
	}
	before := started()
	get, err := http.NewRequestWithContext(ctx, "GET", "http://"+g.APIAddr+"/api/v2/projects/"+projects[n-1].Project.ID, nil)
	if err != nil {
		b.Fatal(err)
	}
	get.Header.Set("Authorization", "Bearer "+g.Key)
	var apiS, proxyS []float64
	adopted := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g.Kill()
		t0 := time.Now()
		var wg sync.WaitGroup
		var api, proxy time.Duration
		wg.Add(2)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if resp, err := http.DefaultClient.Do(get); err == nil {
					resp.Body.Close()
					if resp.StatusCode == 200 {
						api = time.Since(t0)
						return
					}
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, err := startedAt(projects[0].ConnectionURIs[0].ConnectionURI, 10*time.Second); err == nil {
					proxy = time.Since(t0)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
		g.Start()
		wg.Wait()
		apiS, proxyS = append(apiS, api.Seconds()), append(proxyS, proxy.Seconds())
		after := started()
		adopted = 0
		for j := range after {
			if after[j].Equal(before[j]) {
				adopted++
			}
		}
		before = after
	}
	b.StopTimer()
	metric(b, maxOf(apiS), "api_answering_s")
	metric(b, maxOf(proxyS), "proxy_answering_s")
	metric(b, float64(adopted), "adopted_computes")
	b.Logf("kill -9 with %d computes → API answering %.2f s, proxy answering %.2f s; %d of %d computes adopted", n, maxOf(apiS), maxOf(proxyS), adopted, n)
}

func maxOf(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
