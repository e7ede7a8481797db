package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
)

// sqlClient posts queries to a grove's /sql with one kept-alive connection
// per goroutine, as a serverless function's fetch does between invocations.
type sqlClient struct {
	url, connString string
	hc              *http.Client
}

func newSQLClient(g *grovetest.Grove, connString string, conns int) *sqlClient {
	return &sqlClient{url: "http://" + g.HTTPAddr + "/sql", connString: connString,
		hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}}
}

var selectOne = []byte(`{"query":"select 1","params":[]}`)

func (c *sqlClient) query(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, "POST", c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Neon-Connection-String", c.connString)
	req.Header.Set("Neon-Raw-Text-Output", "true")
	req.Header.Set("Neon-Array-Mode", "true")
	res, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return err
	}
	if res.StatusCode != 200 {
		return &httpStatusError{res.StatusCode}
	}
	return nil
}

type httpStatusError struct{ status int }

func isStatus(err error, status int) bool {
	var se *httpStatusError
	return errors.As(err, &se) && se.status == status
}

func (e *httpStatusError) Error() string { return http.StatusText(e.status) }

// BenchmarkSQLOverHTTP measures SQL over HTTP on a warm endpoint, in
// alternating turns on one run:
//
//   - one client, select 1 posted to /sql back to back: its p50 against the
//     floor it cannot beat, measured in the same round: a warm pgx query on
//     a kept connection through the proxy plus one HTTP/1.1 round trip to a
//     no-op handler, the data plane's answer to a path it does not serve
//     (same listener and process) (target ≤ 1.3 ×);
//   - 32 clients posting for a few seconds: queries per second (≥ 5,000).
//
// Grove runs without cgroups, so the compute is not capped below the
// machine: the figure is the HTTP path's, not the endpoint size's.
//
//	go test -run '^$' -bench SQLOverHTTP -benchtime 1x ./bench/
func BenchmarkSQLOverHTTP(b *testing.B) {
	g := grovetest.Start(b, "--allow-plaintext", "--cgroups=false", "--autoscale=false")
	cp := createProject(b, g, g.OrgID("sponsored"))
	uri := cp.ConnectionURIs[0].ConnectionURI
	ctx := b.Context()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	// The no-op handler is the data plane's own answer to a path nobody
	// serves: the same listener and process, no work behind it.
	noopClient := &sqlClient{url: "http://" + g.HTTPAddr + "/no-op", hc: &http.Client{}}
	one := newSQLClient(g, uri, 1)
	many := newSQLClient(g, uri, 32)

	const perTurn = 2000
	timed := func(n int, f func() error) []time.Duration {
		ds := make([]time.Duration, n)
		for i := range ds {
			t0 := time.Now()
			if err := f(); err != nil {
				b.Fatal(err)
			}
			ds[i] = time.Since(t0)
		}
		return ds
	}
	pgxOne := func() error {
		var v int
		return conn.QueryRow(ctx, "select 1").Scan(&v)
	}
	httpOne := func() error { return one.query(ctx, selectOne) }
	noopOne := func() error {
		if err := noopClient.query(ctx, selectOne); !isStatus(err, http.StatusNotFound) {
			return fmt.Errorf("no-op handler: %v", err)
		}
		return nil
	}
	// Warm up: the pool's connection, the caches, the HTTP connections.
	timed(500, httpOne)
	timed(200, pgxOne)
	throughput(b, many, 32, time.Second)

	var ratios, qps []float64
	var httpP50s []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for r := 0; r < 5; r++ {
			var h, p, n []time.Duration
			if r%2 == 0 {
				h, p, n = timed(perTurn, httpOne), timed(perTurn, pgxOne), timed(perTurn, noopOne)
			} else {
				n, p, h = timed(perTurn, noopOne), timed(perTurn, pgxOne), timed(perTurn, httpOne)
			}
			floor := p50(p) + p50(n)
			ratios = append(ratios, float64(p50(h))/float64(floor))
			httpP50s = append(httpP50s, float64(p50(h).Microseconds()))
			q := throughput(b, many, 32, 3*time.Second)
			qps = append(qps, q)
			b.Logf("round %d: HTTP p50 %v, pgx %v + no-op HTTP %v = %v: %.2f ×; 32 clients: %.0f queries/s",
				r, p50(h), p50(p), p50(n), floor, ratios[len(ratios)-1], q)
		}
	}
	b.StopTimer()
	metric(b, median(httpP50s), "http_select1_p50_us")
	metric(b, median(ratios), "http_over_floor_p50")
	metric(b, median(qps), "http_queries_per_s_32")
}

// throughput runs clients goroutines posting select 1 for d and returns
// the queries answered per second.
func throughput(b *testing.B, c *sqlClient, clients int, d time.Duration) float64 {
	b.Helper()
	return loadFor(b, clients, d, func(ctx context.Context) error { return c.query(ctx, selectOne) })
}

// loadFor runs clients goroutines calling do back to back for d and
// returns the calls answered per second; a call that fails fails b.
func loadFor(b *testing.B, clients int, d time.Duration, do func(context.Context) error) float64 {
	b.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), d)
	defer cancel()
	var n atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				if err := do(ctx); err != nil {
					if ctx.Err() == nil {
						failed.Store(&err)
					}
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatalf("under load: %v", *err)
	}
	return float64(n.Load()) / time.Since(start).Seconds()
}

// BenchmarkWebSocket measures a query over a WebSocket (the driver's Pool
// and Client) against the same query through the TCP proxy: one client,
// select 1 on a kept connection, p50 of each in alternating turns of one
// run (target ≤ 1.2 ×). Both go without TLS (a Grove without a domain:
// ws:// and --allow-plaintext), so the figure is the tunnel's own cost.
//
//	go test -run '^$' -bench WebSocket -benchtime 1x ./bench/
func BenchmarkWebSocket(b *testing.B) {
	g := grovetest.Start(b, "--allow-plaintext", "--cgroups=false", "--autoscale=false")
	cp := createProject(b, g, g.OrgID("sponsored"))
	ctx := b.Context()
	plain := strings.Replace(cp.ConnectionURIs[0].ConnectionURI, "sslmode=require", "sslmode=disable", 1)
	tcp, err := pgx.Connect(ctx, plain)
	if err != nil {
		b.Fatal(err)
	}
	defer tcp.Close(context.Background())
	cfg, err := pgx.ParseConfig(plain)
	if err != nil {
		b.Fatal(err)
	}
	cfg.DialFunc = func(ctx context.Context, _, _ string) (net.Conn, error) {
		c, _, err := websocket.Dial(ctx, "ws://"+g.HTTPAddr+"/v2", nil)
		if err != nil {
			return nil, err
		}
		return websocket.NetConn(context.WithoutCancel(ctx), c, websocket.MessageBinary), nil
	}
	ws, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close(context.Background())
	timed := func(conn *pgx.Conn, n int) []time.Duration {
		ds := make([]time.Duration, n)
		for i := range ds {
			t0 := time.Now()
			var v int
			if err := conn.QueryRow(ctx, "select 1").Scan(&v); err != nil {
				b.Fatal(err)
			}
			ds[i] = time.Since(t0)
		}
		return ds
	}
	timed(tcp, 500)
	timed(ws, 500)
	var ratios, wsP50s []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for r := 0; r < 7; r++ {
			var w, t []time.Duration
			if r%2 == 0 {
				w, t = timed(ws, 3000), timed(tcp, 3000)
			} else {
				t, w = timed(tcp, 3000), timed(ws, 3000)
			}
			ratios = append(ratios, ratioOfP50(w, t))
			wsP50s = append(wsP50s, float64(p50(w).Microseconds()))
			b.Logf("round %d: WebSocket p50 %v, TCP proxy %v: %.2f ×", r, p50(w), p50(t), ratios[len(ratios)-1])
		}
	}
	b.StopTimer()
	metric(b, median(wsP50s), "ws_select1_p50_us")
	metric(b, median(ratios), "ws_over_tcp_p50")
}

// BenchmarkSQLOverHTTPFree measures what a free-plan app meets: its
// endpoint at 0.25 CU under a cgroup (Grove's defaults, autoscaling on),
// suspended between bursts of use. In turns of one run:
//
//   - the first request after a suspend, over HTTP, against the first
//     query through the proxy (pgx, TLS, SCRAM) after a suspend: both wake
//     the compute (reported: http_cold_p50_ms, http_cold_over_proxy_cold);
//
//   - 32 clients posting select 1 to the woken 0.25 CU endpoint
//     (reported: http_queries_per_s_32_free).
//
//     go test -run '^$' -bench SQLOverHTTPFree -benchtime 1x ./bench/
func BenchmarkSQLOverHTTPFree(b *testing.B) {
	g := grovetest.Start(b)
	cp := createProject(b, g, g.OrgID("sponsored")) // the free plan
	uri := cp.ConnectionURIs[0].ConnectionURI
	suspendIdle := suspender(b, g, cp)
	one := newSQLClient(g, uri, 1)
	many := newSQLClient(g, uri, 32)
	httpCold := coldTimer(b, suspendIdle, func(ctx context.Context) error { return one.query(ctx, selectOne) })
	proxyCold := coldTimer(b, suspendIdle, func(ctx context.Context) error { return firstQuery(ctx, uri) })
	httpCold() // the first wake after the create: its set-up, not a cold start
	var hs, ps []time.Duration
	var qps []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for r := 0; r < 8; r++ {
			if r%2 == 0 {
				hs, ps = append(hs, httpCold()), append(ps, proxyCold())
			} else {
				ps, hs = append(ps, proxyCold()), append(hs, httpCold())
			}
			if r%4 == 3 {
				qps = append(qps, throughput(b, many, 32, 3*time.Second))
				b.Logf("round %d: 32 clients at 0.25 CU: %.0f queries/s", r, qps[len(qps)-1])
			}
		}
	}
	b.StopTimer()
	b.Logf("cold first request: HTTP %v, proxy %v (p50s over %d turns each)", p50(hs), p50(ps), len(hs))
	metric(b, float64(p50(hs).Microseconds())/1000, "http_cold_p50_ms")
	metric(b, ratioOfP50(hs, ps), "http_cold_over_proxy_cold")
	metric(b, median(qps), "http_queries_per_s_32_free")
}

// suspender returns a func that suspends the project's endpoint and waits
// until it is idle.
func suspender(b *testing.B, g *grovetest.Grove, cp apitypes.CreatedProject) func() {
	path := "/projects/" + cp.Project.ID + "/endpoints/" + cp.Endpoints[0].ID
	return func() {
		if st, raw := g.API("POST", path+"/suspend", nil, nil); st != 200 {
			b.Fatalf("suspend: %d %s", st, raw)
		}
		grovetest.WaitFor(b, "the endpoint idle", func() bool {
			var got apitypes.EndpointResponse
			st, _ := g.API("GET", path, nil, &got)
			return st == 200 && got.Endpoint.CurrentState == "idle"
		})
	}
}

// coldTimer returns a func that suspends the endpoint and times first,
// the first request after the suspend.
func coldTimer(b *testing.B, suspend func(), first func(context.Context) error) func() time.Duration {
	return func() time.Duration {
		suspend()
		t0 := time.Now()
		if err := first(b.Context()); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
}
