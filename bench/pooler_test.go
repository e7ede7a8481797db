package bench

import (
	"context"
	"strings"
	"testing"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/jackc/pgx/v5"
)

// BenchmarkPooledPgbench compares pgbench -S with 200 clients through the
// endpoint's pooler (-pooler host: proxy → PgBouncer in transaction mode →
// Postgres) with 20 clients on the direct host of the same compute (proxy →
// Postgres), both over TLS through the proxy. Target: pooled ≥ 0.8 × direct.
//
//	TMPDIR=/dev/shm go test -run '^$' -bench PooledPgbench -benchtime 1x ./bench/
func BenchmarkPooledPgbench(b *testing.B) {
	g := startOnBtrfs(b, 4096, false)
	body := strings.Replace(grovetest.SeedBody(g.OrgID("sponsored")),
		`"autoscaling_limit_min_cu":0.25,"autoscaling_limit_max_cu":1`,
		`"autoscaling_limit_min_cu":1,"autoscaling_limit_max_cu":1`, 1)
	var cp apitypes.CreatedProject
	if st, raw := g.API("POST", "/projects", body, &cp); st != 201 {
		b.Fatalf("create project: %d %s", st, raw)
	}
	direct := cp.ConnectionURIs[0].ConnectionURI
	var res apitypes.ConnectionURIResponse
	if st, raw := g.API("GET", "/projects/"+cp.Project.ID+"/connection_uri?database_name=app_db&role_name=app_user&pooled=true", nil, &res); st != 200 {
		b.Fatalf("pooled connection_uri: %d %s", st, raw)
	}
	pooled := res.URI
	// Keep the endpoint awake: a client stays connected for the whole run.
	keep, err := pgx.Connect(b.Context(), direct)
	if err != nil {
		b.Fatal(err)
	}
	defer keep.Close(context.Background())
	pgbench(b, direct, "-i", "-q", "-s", "1")
	// Warm the pooler and its server connections.
	pgbench(b, pooled, "-n", "-S", "-c", "200", "-j", "2", "-T", "3")
	b.ResetTimer()
	var directTPS, pooledTPS float64
	for i := 0; i < b.N; i++ {
		directTPS = pgbench(b, direct, "-n", "-S", "-c", "20", "-j", "2", "-T", "15")
		pooledTPS = pgbench(b, pooled, "-n", "-S", "-c", "200", "-j", "2", "-T", "15")
	}
	metric(b, directTPS, "direct20_tps")
	metric(b, pooledTPS, "pooled200_tps")
	metric(b, pooledTPS/directTPS, "pooled_over_direct")
}
