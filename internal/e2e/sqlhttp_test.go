package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
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
