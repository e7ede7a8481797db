package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/jackc/pgx/v5"
)

// sqlOverHTTP posts one query to a grove's /sql as Neon's driver does.
func sqlOverHTTP(t *testing.T, g *grovetest.Grove, connString, query string) (int, map[string]any) {
	t.Helper()
	return sqlOverHTTPAt(t, http.DefaultClient, "http://"+g.HTTPAddr+"/sql", connString, query)
}

func sqlOverHTTPAt(t *testing.T, c *http.Client, url, connString, query string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(`{"query":`+jsonString(query)+`,"params":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Neon-Connection-String", connString)
	req.Header.Set("Content-Type", "text/plain") // the driver's fetch may send any
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("/sql answered %d, not JSON: %q", res.StatusCode, raw)
	}
	return res.StatusCode, body
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// SQL over HTTP reaches a project's compute with the connection string the
// API gave, wakes a suspended endpoint, and follows password resets at once.
func TestSQLOverHTTP(t *testing.T) {
	g := grovetest.Start(t)
	cp := g.CreateSeed()
	uri := cp.ConnectionURIs[0].ConnectionURI
	id, ep, br := cp.Project.ID, cp.Endpoints[0].ID, cp.Branch.ID
	role := cp.ConnectionURIs[0].ConnectionParameters.Role

	st, body := sqlOverHTTP(t, g, uri, "select current_user u, current_database() d")
	if st != 200 {
		t.Fatalf("query: %d %v", st, body)
	}
	db := cp.ConnectionURIs[0].ConnectionParameters.Database
	if rows, _ := json.Marshal(body["rows"]); string(rows) != `[{"d":"`+db+`","u":"`+role+`"}]` {
		t.Fatalf("rows %s", rows)
	}

	// A suspended endpoint is woken by the request.
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/endpoints/"+ep+"/suspend", nil, nil); st != 200 {
		t.Fatalf("suspend: %d %s", st, raw)
	}
	if st, body := sqlOverHTTP(t, g, uri, "select 1 one"); st != 200 {
		t.Fatalf("query on a suspended endpoint: %d %v", st, body)
	}
	var got apitypes.EndpointResponse
	if st, raw := g.API("GET", "/projects/"+id+"/endpoints/"+ep, nil, &got); st != 200 || got.Endpoint.CurrentState != "active" {
		t.Fatalf("endpoint after the request: %d %s", st, raw)
	}

	// A reset password locks the old one out on the next request.
	var reset apitypes.RoleOperations
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches/"+br+"/roles/"+role+"/reset_password", nil, &reset); st != 200 {
		t.Fatalf("reset_password: %d %s", st, raw)
	}
	if st, body := sqlOverHTTP(t, g, uri, "select 1"); st != 400 || body["code"] != "28P01" {
		t.Fatalf("old password after reset: %d %v", st, body)
	}
	newURI := strings.Replace(uri, ":"+cp.ConnectionURIs[0].ConnectionParameters.Password+"@", ":"+reset.Role.Password+"@", 1)
	if st, body := sqlOverHTTP(t, g, newURI, "select 1"); st != 200 {
		t.Fatalf("new password: %d %v", st, body)
	}

	// A role made in SQL logs in with the verifier in the compute's
	// catalog, and a password changed in SQL locks the old one out at once.
	if st, body := sqlOverHTTP(t, g, newURI, "create role sql_made login password 'first pw'"); st != 200 {
		t.Fatalf("create role: %d %v", st, body)
	}
	asRole := func(pw string) string {
		u, err := url.Parse(newURI)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword("sql_made", pw)
		return u.String()
	}
	if st, body := sqlOverHTTP(t, g, asRole("first pw"), "select current_user u"); st != 200 {
		t.Fatalf("role made in SQL: %d %v", st, body)
	}
	if st, body := sqlOverHTTP(t, g, asRole("first pw"), "alter role sql_made password 'second pw'"); st != 200 {
		t.Fatalf("alter role: %d %v", st, body)
	}
	if st, body := sqlOverHTTP(t, g, asRole("first pw"), "select 1"); st != 400 || body["code"] != "28P01" {
		t.Fatalf("password changed in SQL, old one: %d %v", st, body)
	}
	if st, body := sqlOverHTTP(t, g, asRole("second pw"), "select 1"); st != 200 {
		t.Fatalf("password changed in SQL, new one: %d %v", st, body)
	}

	// An unknown endpoint is refused in Neon's words.
	other := strings.Replace(uri, ep, "ep-nope-nope-12345678", 1)
	if st, body := sqlOverHTTP(t, g, other, "select 1"); st != 400 || !strings.Contains(body["message"].(string), "could not be found") {
		t.Fatalf("unknown endpoint: %d %v", st, body)
	}
}

// With a domain the data plane is HTTPS with the proxy's certificate, and
// the endpoint comes from the connection string's host, as the driver sends
// it to api.<region>.<domain>.
func TestSQLOverHTTPS(t *testing.T) {
	g := grovetest.Start(t, "--domain", "grove.test")
	cp := g.CreateSeed()
	uri := cp.ConnectionURIs[0].ConnectionURI
	if strings.Contains(uri, "options=") {
		t.Fatalf("with a domain the URI names the endpoint in its host: %s", uri)
	}
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(filepath.Join(g.DataDir, "tls", "proxy.crt"))
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("proxy certificate: %v", err)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	if st, body := sqlOverHTTPAt(t, c, "https://"+g.HTTPAddr+"/sql", uri, "select 1 one"); st != 200 {
		t.Fatalf("query over HTTPS: %d %v", st, body)
	}
	// An IP host names no endpoint, as in Neon.
	ip := strings.Replace(uri, cp.ConnectionURIs[0].ConnectionParameters.Host, "127.0.0.1", 1)
	if st, body := sqlOverHTTPAt(t, c, "https://"+g.HTTPAddr+"/sql", ip, "select 1"); st != 400 || body["message"] != "missing hostname" {
		t.Fatalf("IP host: %d %v", st, body)
	}
}

// dialWebSocket opens a WebSocket to the data plane and returns it as the
// byte stream pgx speaks the Postgres protocol over, as the driver's Pool
// does.
func dialWebSocket(ctx context.Context, g *grovetest.Grove) (net.Conn, error) {
	c, _, err := websocket.Dial(ctx, "ws://"+g.HTTPAddr+"/v2", nil)
	if err != nil {
		return nil, err
	}
	return websocket.NetConn(context.WithoutCancel(ctx), c, websocket.MessageBinary), nil
}

// Postgres over a WebSocket reaches the project's compute with the API's
// connection string, routed by its options, with SCRAM.
func TestWebSocket(t *testing.T) {
	g := grovetest.Start(t)
	cp := g.CreateSeed()
	cfg, err := pgx.ParseConfig(strings.Replace(cp.ConnectionURIs[0].ConnectionURI, "sslmode=require", "sslmode=disable", 1))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DialFunc = func(ctx context.Context, _, _ string) (net.Conn, error) { return dialWebSocket(ctx, g) }
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("connect over a WebSocket: %v\n%s", err, g.Logs())
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), "select count(*) from generate_series(1, $1::int)", 1000).Scan(&n); err != nil || n != 1000 {
		t.Fatalf("query over a WebSocket: %d, %v", n, err)
	}
	// A wrong password is refused as by the proxy.
	cfg.Password = "wrong"
	if _, err := pgx.ConnectConfig(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("wrong password over a WebSocket: %v", err)
	}
}

// What SQL over HTTP sends to clients is metered as the endpoint's egress.
func TestSQLOverHTTPEgress(t *testing.T) {
	g := start(t, "--metering-interval", meterInterval.String(), "--metering-bucket", "10s")
	c := checkedClient(g)
	var cp apitypes.CreatedProject
	if st, raw := g.API("POST", "/projects", grovetest.SeedBody(g.OrgID("paid")), &cp); st != 201 {
		t.Fatalf("create project: %d %s", st, raw)
	}
	id, ep := cp.Project.ID, cp.Endpoints[0].ID
	uri := cp.ConnectionURIs[0].ConnectionURI
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/endpoints/"+ep+"/suspend", nil, nil); st != 200 {
		t.Fatalf("suspend: %d %s", st, raw)
	}
	before := settledUsage(t, c, id)
	var sent int
	for range 5 {
		req, err := http.NewRequest("POST", "http://"+g.HTTPAddr+"/sql",
			strings.NewReader(`{"query":"select repeat('x', 1000) v from generate_series(1, 1000)"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Neon-Connection-String", uri)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("query: %d %s", res.StatusCode, raw)
		}
		sent += len(raw)
	}
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/endpoints/"+ep+"/suspend", nil, nil); st != 200 {
		t.Fatalf("suspend: %d %s", st, raw)
	}
	after := settledUsage(t, c, id)
	if got := after.DataTransferBytes - before.DataTransferBytes; got < int64(sent) || got > int64(sent)+int64(sent)/20 {
		t.Fatalf("egress metered %d B for %d B of responses", got, sent)
	}
}

// HTTP traffic that stops lets the endpoint suspend at its timeout: the
// connections kept for the next request do not count as clients, and the
// compute's stop closes them; the next request wakes it again.
func TestSQLOverHTTPLetsSuspend(t *testing.T) {
	g := grovetest.Start(t)
	var cp apitypes.CreatedProject
	if st, raw := g.API("POST", "/projects", grovetest.SeedBody(g.OrgID("paid")), &cp); st != 201 {
		t.Fatalf("create project: %d %s", st, raw)
	}
	id, ep := cp.Project.ID, cp.Endpoints[0].ID
	uri := cp.ConnectionURIs[0].ConnectionURI
	path := "/projects/" + id + "/endpoints/" + ep
	if st, raw := apiUnlocked(t, g, "PATCH", path, `{"endpoint":{"suspend_timeout_seconds":60}}`, nil); st != 200 {
		t.Fatalf("suspend timeout: %d %s", st, raw)
	}
	for range 20 {
		if st, body := sqlOverHTTP(t, g, uri, "select 1"); st != 200 {
			t.Fatalf("query: %d %v", st, body)
		}
	}
	last := time.Now()
	state := func() string {
		var got apitypes.EndpointResponse
		if st, raw := g.API("GET", path, nil, &got); st != 200 {
			t.Fatalf("get endpoint: %d %s", st, raw)
		}
		return string(got.Endpoint.CurrentState)
	}
	for state() != "idle" {
		if time.Since(last) > 3*time.Minute {
			t.Fatalf("endpoint still %s %v after the last request (suspend timeout 60 s)", state(), time.Since(last))
		}
		time.Sleep(time.Second)
	}
	if waited := time.Since(last); waited < 55*time.Second {
		t.Fatalf("suspended %v after the last request, before its 60 s timeout", waited)
	}
	if st, body := sqlOverHTTP(t, g, uri, "select 1"); st != 200 {
		t.Fatalf("query after the suspend: %d %v", st, body)
	}
}
