package sqlhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/proxy"
	"github.com/grovedb/grove/internal/scram"
	"github.com/grovedb/grove/internal/sqlhttp"
)

// backend serves one endpoint, "ep-test", from a real Postgres, reading
// verifiers from pg_authid as the platform does for roles made in SQL.
type backend struct {
	srv    *pgtest.Server
	opened atomic.Int64
	closed atomic.Int64
	dials  atomic.Int64
}

func (b *backend) Verifier(ctx context.Context, endpointID, role string) (scram.Verifier, error) {
	if endpointID != "ep-test" {
		return scram.Verifier{}, proxy.ErrUnknownEndpoint
	}
	conn, err := b.srv.Connect(ctx, "postgres")
	if err != nil {
		return scram.Verifier{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var secret *string
	if err := conn.QueryRow(ctx, `SELECT rolpassword FROM pg_authid WHERE rolname = $1`, role).Scan(&secret); err != nil || secret == nil {
		return scram.Verifier{}, fmt.Errorf("%w: %s", proxy.ErrUnknownRole, role)
	}
	return scram.ParseVerifier(*secret)
}

func (b *backend) Connect(ctx context.Context, endpointID string, pooled bool) (string, error) {
	b.dials.Add(1)
	return filepath.Join(b.srv.SocketDir(), ".s.PGSQL.5432"), nil
}

func (b *backend) ConnOpened(string)               { b.opened.Add(1) }
func (b *backend) ConnClosed(string, int64, int64) { b.closed.Add(1) }

type env struct {
	be  *backend
	h   *sqlhttp.Handler
	url string
}

const connString = "postgresql://app:secret%20pw@127.0.0.1:5432/app?options=endpoint%3Dep-test&sslmode=require"

func start(t *testing.T, mod ...func(*sqlhttp.Config)) *env {
	t.Helper()
	pgtest.SkipShort(t, "SQL over HTTP against a real Postgres")
	srv := pgtest.Start(t)
	srv.Exec(t, "postgres", `CREATE ROLE app LOGIN PASSWORD 'secret pw'`)
	srv.Exec(t, "postgres", `CREATE DATABASE app OWNER app`)
	be := &backend{srv: srv}
	cfg := sqlhttp.Config{Backend: be}
	for _, m := range mod {
		m(&cfg)
	}
	h, err := sqlhttp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		ts.Close()
		_ = h.Close()
	})
	return &env{be: be, h: h, url: ts.URL + "/sql"}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *env) post(t *testing.T, body string, hdr map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(sqlhttpHeader("Neon-Connection-String"), connString)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&r.body); err != nil {
		t.Fatalf("response %d is not JSON: %q", res.StatusCode, raw)
	}
	return r
}

func sqlhttpHeader(s string) string { return s }

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestQueryShapes(t *testing.T) {
	e := start(t)
	raw := map[string]string{"Neon-Raw-Text-Output": "true", "Neon-Array-Mode": "true"}
	cases := []struct {
		name, body string
		hdr        map[string]string
		want       map[string]string // JSON of body fields
	}{
		{"json values", `{"query":"select 1::int2 a, 2::int4 b, 3::int8 c, 1.5::float8 d, 'NaN'::float4 e, true f, 'x'::text g, null::text h, '{\"k\":[1,2]}'::jsonb i, array[1,null,3] j, array['a b','c\"d'] k, 12.50::numeric l","params":[]}`, nil,
			map[string]string{
				"rows":       `[{"a":1,"b":2,"c":"3","d":1.5,"e":"NaN","f":true,"g":"x","h":null,"i":{"k":[1,2]},"j":[1,null,3],"k":["a b","c\"d"],"l":"12.50"}]`,
				"command":    `"SELECT"`,
				"rowCount":   `1`,
				"rowAsArray": `false`,
			}},
		{"raw text arrays", `{"query":"select 1 a, true b, array[1,2] c, null d"}`, raw,
			map[string]string{"rows": `[["1","t","{1,2}",null]]`, "rowAsArray": `true`}},
		{"query arrayMode overrides header", `{"query":"select 1 a","arrayMode":false}`, raw,
			map[string]string{"rows": `[{"a":"1"}]`, "rowAsArray": `false`}},
		{"only true counts", `{"query":"select 1 a"}`, map[string]string{"Neon-Array-Mode": "TRUE"},
			map[string]string{"rows": `[{"a":1}]`}},
		{"params", `{"query":"select $1::int + $2::int s, $3::text t, $4::int[] a, $5::jsonb j, $6::text n","params":[1,"2","x\"y",[1,2,null],{"b":1,"a":[true]},null]}`, nil,
			map[string]string{"rows": `[{"s":3,"t":"x\"y","a":[1,2,null],"j":{"a":[true],"b":1},"n":null}]`}},
		{"fields", `{"query":"select 1::int4 as n, 'x'::varchar(5) as v"}`, nil,
			map[string]string{"fields": `[{"columnID":0,"dataTypeID":23,"dataTypeModifier":-1,"dataTypeSize":4,"format":"text","name":"n","tableID":0},{"columnID":0,"dataTypeID":1043,"dataTypeModifier":9,"dataTypeSize":-1,"format":"text","name":"v","tableID":0}]`}},
		{"ddl", `{"query":"create table if not exists t (id int primary key, v text)"}`, nil,
			map[string]string{"command": `"CREATE"`, "rowCount": `null`, "rows": `[]`, "fields": `[]`}},
		{"insert count", `{"query":"insert into t values (1,'a'),(2,'b') on conflict do nothing"}`, nil,
			map[string]string{"command": `"INSERT"`, "rowCount": `2`}},
		{"table fields", `{"query":"select id from t where id = 1"}`, nil,
			map[string]string{"rowCount": `1`, "rows": `[{"id":1}]`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.post(t, c.body, c.hdr)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			for k, want := range c.want {
				var w any
				d := json.NewDecoder(strings.NewReader(want))
				d.UseNumber()
				if err := d.Decode(&w); err != nil {
					t.Fatalf("bad want %s: %v", want, err)
				}
				if got := jsonOf(t, r.body[k]); got != jsonOf(t, w) {
					t.Errorf("%s = %s, want %s", k, got, jsonOf(t, w))
				}
			}
			if r.header.Get("Neon-Request-Id") == "" || r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("headers %v", r.header)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	e := start(t, func(c *sqlhttp.Config) { c.MaxRequestBytes = 1 << 10; c.MaxResponseBytes = 1 << 12 })
	// Rows of 106 bytes on the wire: 38 fit in 4 KiB, 39 do not.
	if r := e.post(t, `{"query":"select repeat('x', 100) from generate_series(1, 38)"}`, nil); r.status != 200 {
		t.Fatalf("rows just under the limit: %d %s", r.status, r.raw)
	}
	e.post(t, `{"query":"create table u (id int primary key)"}`, nil)
	cases := []struct {
		name   string
		body   string
		hdr    map[string]string
		status int
		want   map[string]any
	}{
		{"syntax error", `{"query":"select from where"}`, nil, 400,
			map[string]any{"code": "42601", "position": "13", "severity": "ERROR", "detail": nil, "routine": "scanner_yyerror"}},
		{"constraint", `{"queries":[{"query":"insert into u values (1)"},{"query":"insert into u values (1)"}]}`, nil, 400,
			map[string]any{"code": "23505", "table": "u", "constraint": "u_pkey", "schema": "public", "detail": "Key (id)=(1) already exists."}},
		{"garbage", `{"query":`, nil, 400, nil},
		{"no query", `{"nothing":1}`, nil, 400,
			map[string]any{"message": "could not parse the HTTP request body: data did not match any variant of untagged enum Payload"}},
		{"bad isolation", `{"queries":[]}`, map[string]string{"Neon-Batch-Isolation-Level": "Snapshot"}, 400,
			map[string]any{"message": "invalid isolation level"}},
		{"request too large", `{"query":"select '` + strings.Repeat("x", 2000) + `'"}`, nil, 413,
			map[string]any{"message": "request is too large (max is 1024 bytes)"}},
		{"response too large", `{"query":"select repeat('x', 100) from generate_series(1, 40)"}`, nil, 507,
			map[string]any{"message": "response is too large (max is 4096 bytes)"}},
		{"batch response too large", `{"queries":[{"query":"select repeat('x', 100) from generate_series(1, 20)"},{"query":"select repeat('x', 100) from generate_series(1, 20)"}]}`, nil, 507,
			map[string]any{"message": "response is too large (max is 4096 bytes)"}},
		{"wrong password", `{"query":"select 1"}`, map[string]string{"Neon-Connection-String": strings.Replace(connString, "secret%20pw", "nope", 1)}, 400,
			map[string]any{"code": "28P01", "message": `password authentication failed for user "app"`}},
		{"unknown role", `{"query":"select 1"}`, map[string]string{"Neon-Connection-String": strings.Replace(connString, "app:", "ghost:", 1)}, 400,
			map[string]any{"code": "28P01"}},
		{"no connection string", `{"query":"select 1"}`, map[string]string{"Neon-Connection-String": ""}, 400,
			map[string]any{"message": "invalid header: neon-connection-string"}},
		{"ip host without endpoint", `{"query":"select 1"}`, map[string]string{"Neon-Connection-String": "postgres://app:x@10.0.0.1/app"}, 400,
			map[string]any{"message": "missing hostname", "code": "", "severity": "", "detail": nil, "routine": nil}},
		{"bad scheme", `{"query":"select 1"}`, map[string]string{"Neon-Connection-String": "mysql://app:x@ep-test.localhost/app"}, 400,
			map[string]any{"message": "incorrect scheme"}},
		{"no password", `{"query":"select 1"}`, map[string]string{"Neon-Connection-String": "postgres://app@ep-test.localhost/app"}, 400,
			map[string]any{"message": "missing authentication credentials: required password"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.post(t, c.body, c.hdr)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.raw)
			}
			for k, want := range c.want {
				if got := r.body[k]; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s = %v, want %v (%s)", k, got, want, r.raw)
				}
			}
		})
	}
	// The failed batch left nothing behind.
	r := e.post(t, `{"query":"select count(*)::int n from u"}`, nil)
	if got := jsonOf(t, r.body["rows"]); got != `[{"n":0}]` {
		t.Fatalf("rows after failed batch: %s", got)
	}
}

func TestBatch(t *testing.T) {
	e := start(t)
	hdr := map[string]string{"Neon-Batch-Isolation-Level": "Serializable", "Neon-Batch-Read-Only": "true", "Neon-Batch-Deferrable": "true"}
	r := e.post(t, `{"queries":[{"query":"select current_setting('transaction_isolation') i"},{"query":"select current_setting('transaction_read_only') r, current_setting('transaction_deferrable') d","arrayMode":true}]}`, hdr)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	if got := jsonOf(t, r.body["results"]); !strings.Contains(got, `"rows":[{"i":"serializable"}]`) || !strings.Contains(got, `"rows":[["on","on"]]`) {
		t.Fatalf("results %s", got)
	}
	for k, v := range hdr {
		if r.header.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, r.header.Get(k), v)
		}
	}
	// A write in a read-only batch fails and is rolled back.
	r = e.post(t, `{"queries":[{"query":"create table w (x int)"}]}`, map[string]string{"Neon-Batch-Read-Only": "true"})
	if r.status != 400 || r.body["code"] != "25006" {
		t.Fatalf("read-only write: %d %s", r.status, r.raw)
	}
}

func TestCORSAndMethods(t *testing.T) {
	e := start(t)
	req, _ := http.NewRequest(http.MethodOptions, e.url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Allow") != "OPTIONS, POST" ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Neon-Connection-String") ||
		res.Header.Get("Access-Control-Max-Age") != "86400" || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
	res, err = http.Get(e.url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 400 || !strings.Contains(string(b), "query is not supported") {
		t.Fatalf("GET: %d %s", res.StatusCode, b)
	}
}

// Session state set by one request never reaches the next, whoever sends it.
func TestNoStateLeaks(t *testing.T) {
	e := start(t)
	for _, q := range []string{
		`set search_path = nowhere`,
		`create temp table tmp (x int)`,
		`select pg_advisory_lock(42)`,
		`prepare p as select 1`,
		`listen chan`,
		`select set_config('app.x', 'leaked', false)`,
	} {
		if r := e.post(t, jsonOf(t, map[string]string{"query": q}), nil); r.status != 200 {
			t.Fatalf("%s: %d %s", q, r.status, r.raw)
		}
	}
	r := e.post(t, `{"query":"select current_setting('search_path') sp, (select count(*)::int from pg_class where relname = 'tmp') tmp, (select count(*)::int from pg_locks where locktype = 'advisory') locks, (select count(*)::int from pg_prepared_statements) prepared, (select count(*)::int from pg_listening_channels()) listens, current_setting('app.x', true) x"}`, nil)
	want := `[{"listens":0,"locks":0,"prepared":0,"sp":"\"$user\", public","tmp":0,"x":""}]`
	if got := jsonOf(t, r.body["rows"]); got != want {
		t.Fatalf("state after reset: %s, want %s", got, want)
	}
	// A transaction left open by a request is not reused.
	if r := e.post(t, `{"query":"begin"}`, nil); r.status != 200 {
		t.Fatal(r.raw)
	}
	// SAVEPOINT works only inside a transaction block.
	if r := e.post(t, `{"query":"savepoint s"}`, nil); r.status != 400 || r.body["code"] != "25P01" {
		t.Fatalf("open transaction reused: %s", r.raw)
	}
}

// Connections are reused, bounded, and counted per request only.
func TestPooling(t *testing.T) {
	e := start(t, func(c *sqlhttp.Config) { c.MaxConns = func(string) int { return 3 } })
	for range 20 {
		if r := e.post(t, `{"query":"select 1"}`, nil); r.status != 200 {
			t.Fatal(r.raw)
		}
	}
	if d := e.be.dials.Load(); d > 2 {
		t.Errorf("%d dials for 20 sequential requests", d)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.post(t, `{"query":"select pg_sleep(0.01), count(*)::int n from pg_stat_activity where usename = 'app'"}`, nil)
			if r.status != 200 {
				errs <- errors.New(r.raw)
				return
			}
			rows := r.body["rows"].([]any)
			if n, _ := rows[0].(map[string]any)["n"].(json.Number).Int64(); n > 3 {
				errs <- fmt.Errorf("%d backends for the role, limit 3", n)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if o, c := e.be.opened.Load(), e.be.closed.Load(); o != c || o != 60 {
		t.Errorf("opened %d, closed %d client connections; want 60 each", o, c)
	}
	if n := e.h.Open()["ep-test"]; n > 3 {
		t.Errorf("%d pooled connections, limit 3", n)
	}
	// A stopped compute's connections go; the next request dials again.
	e.h.Drop("ep-test")
	if n := e.h.Open()["ep-test"]; n != 0 {
		t.Fatalf("%d pooled connections after drop", n)
	}
	if r := e.post(t, `{"query":"select 1"}`, nil); r.status != 200 {
		t.Fatal(r.raw)
	}
}

// A changed password stops working on the next request, cached or not.
func TestPasswordChange(t *testing.T) {
	e := start(t)
	if r := e.post(t, `{"query":"select 1"}`, nil); r.status != 200 {
		t.Fatal(r.raw)
	}
	e.be.srv.Exec(t, "postgres", `ALTER ROLE app PASSWORD 'new pw'`)
	if r := e.post(t, `{"query":"select 1"}`, nil); r.status != 400 || r.body["code"] != "28P01" {
		t.Fatalf("old password after change: %d %s", r.status, r.raw)
	}
	r := e.post(t, `{"query":"select 1"}`, map[string]string{"Neon-Connection-String": strings.Replace(connString, "secret%20pw", "new%20pw", 1)})
	if r.status != 200 {
		t.Fatalf("new password: %d %s", r.status, r.raw)
	}
}

// A pooled connection whose session Postgres ended is replaced, and the
// request that found it still gets its answer.
func TestDeadPooledConnection(t *testing.T) {
	e := start(t)
	if r := e.post(t, `{"query":"select 1"}`, nil); r.status != 200 {
		t.Fatal(r.raw)
	}
	e.be.srv.Exec(t, "postgres", `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app'`)
	if r := e.post(t, `{"query":"select 2 two"}`, nil); r.status != 200 || jsonOf(t, r.body["rows"]) != `[{"two":2}]` {
		t.Fatalf("after the session was ended: %d %s", r.status, r.raw)
	}
}
