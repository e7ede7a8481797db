package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
)

// restClient GETs Data API URLs with one kept-alive connection per
// goroutine and a bearer token, as a browser app does.
type restClient struct {
	token string
	hc    *http.Client
}

func newRESTClient(token string, conns int) *restClient {
	return &restClient{token: token, hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}}
}

func (c *restClient) get(ctx context.Context, url string, want int) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return nil
}

// benchIssuer signs Ed25519 tokens whose JWKS a local HTTP server serves,
// as an external identity provider's.
func benchIssuer(b *testing.B) (jwksURL string, sign func(claims map[string]any) string) {
	b.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "OKP", "crv": "Ed25519", "kid": "bench", "alg": "EdDSA", "use": "sig", "x": base64.RawURLEncoding.EncodeToString(pub)}}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(jwks) }))
	b.Cleanup(srv.Close)
	return srv.URL, func(claims map[string]any) string {
		hdr, _ := json.Marshal(map[string]string{"alg": "EdDSA", "kid": "bench", "typ": "JWT"})
		payload, _ := json.Marshal(claims)
		in := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(payload)
		return in + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, []byte(in)))
	}
}

// enableDataAPI enables the Data API of the project's database, trusting
// a local identity provider, and returns its answer and the provider's
// signer.
func enableDataAPI(b *testing.B, g *grovetest.Grove, cp apitypes.CreatedProject) (apitypes.DataAPICreateResponse, func(map[string]any) string) {
	b.Helper()
	jwksURL, sign := benchIssuer(b)
	var created apitypes.DataAPICreateResponse
	path := "/projects/" + cp.Project.ID + "/branches/" + cp.Branch.ID + "/data-api/" + cp.Databases[0].Name
	if st, raw := g.API("POST", path, `{"auth_provider":"external","jwks_url":"`+jwksURL+`"}`, &created); st != 201 {
		b.Fatalf("enable the Data API: %d %s", st, raw)
	}
	return created, sign
}

// BenchmarkDataAPI measures the Data API on a warm endpoint, a signed-in
// user's JWT on every request, in alternating turns of one run:
//
//   - one client GETting one row by primary key: its p50 against the same
//     query over a warm pgx connection through the proxy plus one HTTP/1.1
//     round trip to a no-op handler of the same listener (target ≤ 1.5 ×);
//   - 32 clients GETting single rows for a few seconds (≥ 5,000 /s);
//   - one client embedding a parent's 100 children (one-to-many) against
//     the hand-written SQL that builds the same JSON, over pgx (≤ 2 ×).
//
// Grove runs without cgroups, so the compute is not capped below the
// machine.
//
//	go test -run '^$' -bench DataAPI -benchtime 1x ./bench/
func BenchmarkDataAPI(b *testing.B) {
	g := grovetest.Start(b, "--allow-plaintext", "--cgroups=false", "--autoscale=false")
	cp := createProject(b, g, g.OrgID("paid"))
	uri := cp.ConnectionURIs[0].ConnectionURI
	ctx := b.Context()
	created, sign := enableDataAPI(b, g, cp)
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `
		create table items (id int primary key, name text not null, price numeric not null);
		insert into items select i, 'item ' || i, i * 1.5 from generate_series(1, 10000) i;
		create table parents (id int primary key, name text not null);
		create table children (id int primary key, parent_id int not null references parents(id), name text not null);
		create index on children (parent_id);
		insert into parents select i, 'parent ' || i from generate_series(1, 100) i;
		insert into children select i, (i - 1) / 100 + 1, 'child ' || i from generate_series(1, 10000) i;
		grant select on items, parents, children to authenticated;
		analyze`); err != nil {
		b.Fatal(err)
	}
	token := sign(map[string]any{"sub": "bench-user", "role": "authenticated", "exp": time.Now().Add(time.Hour).Unix()})
	one := newRESTClient(token, 1)
	many := newRESTClient(token, 32)
	noop := newRESTClient("", 1)
	noopURL := "http://" + g.HTTPAddr + "/no-op"

	var next atomic.Int64
	rowURL := func() string { return created.URL + "/items?id=eq." + strconv.FormatInt(next.Add(1)%10000+1, 10) }
	embedURL := created.URL + "/parents?id=eq.7&select=id,name,children(id,name)"
	const handSQL = `select json_agg(t)::text from (select p.id, p.name,
		coalesce((select json_agg(c)::jsonb from (select id, name from children where parent_id = p.id) c), '[]') as children
		from parents p where p.id = $1) t`
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
	restRow := func() error { return one.get(ctx, rowURL(), 200) }
	pgxRow := func() error {
		var id int
		var name, price string
		return conn.QueryRow(ctx, "select id, name, price::text from items where id = $1", next.Add(1)%10000+1).Scan(&id, &name, &price)
	}
	noopOne := func() error { return noop.get(ctx, noopURL, http.StatusNotFound) }
	restEmbed := func() error { return one.get(ctx, embedURL, 200) }
	pgxEmbed := func() error {
		var s string
		return conn.QueryRow(ctx, handSQL, 7).Scan(&s)
	}
	// Warm up: the schema cache, the verified token, the pool, the plans.
	timed(300, restRow)
	timed(100, restEmbed)
	timed(200, pgxRow)
	timed(100, pgxEmbed)
	restThroughput(b, many, rowURL, 32, time.Second)

	const perTurn = 1000
	var rowRatios, embedRatios, rps, rowP50s []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for r := 0; r < 5; r++ {
			var h, p, n, he, pe []time.Duration
			if r%2 == 0 {
				h, p, n = timed(perTurn, restRow), timed(perTurn, pgxRow), timed(perTurn, noopOne)
				he, pe = timed(perTurn/2, restEmbed), timed(perTurn/2, pgxEmbed)
			} else {
				n, p, h = timed(perTurn, noopOne), timed(perTurn, pgxRow), timed(perTurn, restRow)
				pe, he = timed(perTurn/2, pgxEmbed), timed(perTurn/2, restEmbed)
			}
			floor := p50(p) + p50(n)
			rowRatios = append(rowRatios, float64(p50(h))/float64(floor))
			embedFloor := p50(pe) + p50(n)
			embedRatios = append(embedRatios, float64(p50(he))/float64(embedFloor))
			rowP50s = append(rowP50s, float64(p50(h).Microseconds()))
			q := restThroughput(b, many, rowURL, 32, 3*time.Second)
			rps = append(rps, q)
			b.Logf("round %d: row p50 %v vs pgx %v + no-op HTTP %v = %.2f ×; embed 100 p50 %v vs SQL %v + HTTP = %.2f ×; 32 clients %.0f /s",
				r, p50(h), p50(p), p50(n), rowRatios[len(rowRatios)-1], p50(he), p50(pe), embedRatios[len(embedRatios)-1], q)
		}
	}
	b.StopTimer()
	metric(b, median(rowP50s), "rest_row_p50_us")
	metric(b, median(rowRatios), "rest_row_over_floor_p50")
	metric(b, median(rps), "rest_rows_per_s_32")
	metric(b, median(embedRatios), "rest_embed100_over_sql_p50")
}

// restThroughput runs clients goroutines GETting single rows for d and
// returns the requests answered per second.
func restThroughput(b *testing.B, c *restClient, url func() string, clients int, d time.Duration) float64 {
	b.Helper()
	return loadFor(b, clients, d, func(ctx context.Context) error { return c.get(ctx, url(), 200) })
}

// BenchmarkDataAPIFree measures the Data API of a free-plan endpoint (0.25
// CU under its cgroup, autoscaling on), the case a generated app meets
// after a quiet spell: the first GET after a suspend (wake, login, schema
// cache, token) against the proxy's first query after one, in turns; and
// 32 clients right after a wake.
//
//	go test -run '^$' -bench DataAPIFree -benchtime 1x ./bench/
func BenchmarkDataAPIFree(b *testing.B) {
	g := grovetest.Start(b)
	cp := createProject(b, g, g.OrgID("sponsored"))
	uri := cp.ConnectionURIs[0].ConnectionURI
	ctx := b.Context()
	created, sign := enableDataAPI(b, g, cp)
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `create table items (id int primary key, name text not null);
		insert into items select i, 'item ' || i from generate_series(1, 1000) i;
		grant select on items to authenticated`); err != nil {
		b.Fatal(err)
	}
	conn.Close(ctx)
	token := sign(map[string]any{"sub": "bench-user", "role": "authenticated", "exp": time.Now().Add(time.Hour).Unix()})
	one := newRESTClient(token, 1)
	many := newRESTClient(token, 32)
	suspendIdle := suspender(b, g, cp)
	var next atomic.Int64
	rowURL := func() string { return created.URL + "/items?id=eq." + strconv.FormatInt(next.Add(1)%1000+1, 10) }
	restCold := coldTimer(b, suspendIdle, func(ctx context.Context) error { return one.get(ctx, rowURL(), 200) })
	proxyCold := coldTimer(b, suspendIdle, func(ctx context.Context) error { return firstQuery(ctx, uri) })
	restCold()
	var rs, ps []time.Duration
	var rps []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for r := 0; r < 8; r++ {
			if r%2 == 0 {
				rs, ps = append(rs, restCold()), append(ps, proxyCold())
			} else {
				ps, rs = append(ps, proxyCold()), append(rs, restCold())
			}
			if r%4 == 3 {
				suspendIdle()
				rps = append(rps, restThroughput(b, many, rowURL, 32, 3*time.Second))
				b.Logf("round %d: 32 clients from a wake at 0.25 CU: %.0f /s", r, rps[len(rps)-1])
			}
		}
	}
	b.StopTimer()
	b.Logf("cold first request: Data API %v, proxy %v (p50s over %d turns each)", p50(rs), p50(ps), len(rs))
	metric(b, float64(p50(rs).Microseconds())/1000, "rest_cold_p50_ms")
	metric(b, ratioOfP50(rs, ps), "rest_cold_over_proxy_cold")
	metric(b, median(rps), "rest_rows_per_s_32_free")
}
