// Package clienttest runs Neon's own clients from the npm registry — neonctl,
// @neondatabase/api-client and @neon/sdk — against a real grove, with nothing
// changed but the base URL. Every response they get passes through a proxy
// that validates it against Neon's OpenAPI spec.
//
// The clients are installed by `make setup` into ./.npm-clients; without them
// (or without Node.js) the tests skip.
package clienttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/apispec"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// env is a running grove behind a validating proxy, and the clients to drive it.
type env struct {
	g   *grovetest.Grove
	api string // base URL of the proxy, ending in /api/v2
	npm string // the folder holding node_modules with the clients
	org string // the "sponsored" org's id
	log *requestLog
}

// npmClients returns ./.npm-clients, skipping the test when node or a client is missing.
func npmClients(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs Neon's npm clients against grove; skipped with -short (the fast tier)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found; run `make setup` to install Node.js and the Neon clients")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, ".npm-clients")
	for _, p := range []string{"neonctl/bin/cli.js", "@neondatabase/api-client/package.json", "@neon/sdk/package.json"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", p)); err != nil {
			t.Skipf("Neon client %s not installed in %s; run `make setup`", p, dir)
		}
	}
	return dir
}

// start runs grove and a proxy in front of its API that checks every
// response against Neon's spec.
func start(t *testing.T, extra ...string) *env {
	t.Helper()
	npm := npmClients(t)
	g := grovetest.Start(t, extra...)
	target, err := url.Parse("http://" + g.APIAddr)
	if err != nil {
		t.Fatal(err)
	}
	rl := &requestLog{}
	validate := apispec.Available()
	if !validate {
		t.Log("Neon's OpenAPI spec not found beside the repository; responses not validated")
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) },
		ModifyResponse: func(resp *http.Response) error {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			resp.Body = io.NopCloser(bytes.NewReader(body))
			req := resp.Request
			rl.add(fmt.Sprintf("%s %s → %d", req.Method, req.URL.RequestURI(), resp.StatusCode))
			if validate {
				if err := apispec.CheckResponse(t, req.Method, req.URL.RequestURI(), resp.StatusCode, resp.Header, body); err != nil {
					t.Errorf("%s %s → %d does not match the spec:\n%v\nbody: %.2000s", req.Method, req.URL.RequestURI(), resp.StatusCode, err, body)
				}
			}
			return nil
		},
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("requests the clients made:\n%s", rl)
		}
	})
	return &env{g: g, api: srv.URL + "/api/v2", npm: npm, org: g.OrgID("sponsored"), log: rl}
}

// requestLog keeps the requests the clients made, shown when a test fails.
type requestLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *requestLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}

// count returns how many logged requests start with prefix ("GET /api/v2/… ").
func (l *requestLog) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

func (l *requestLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// node runs a program under node with the clients' folder at hand and returns its stdout.
func (e *env) node(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = home // neonctl reads and writes a .neon context file in its working directory
	cmd.Env = append(cleanEnv(), "HOME="+home, "NPM_CLIENTS="+e.npm, "NO_COLOR=1")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("node %s: %v\nstderr: %s\nstdout: %s", strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	return stdout.String(), nil
}

// cleanEnv is the test's environment without Neon settings that would
// send the clients elsewhere.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "NEON_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// connect opens uri with pgx (through Grove's proxy) and returns current_user and current_database().
func connect(t *testing.T, uri string) (user, db string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		return "", "", fmt.Errorf("connect %s: %w", uri, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = conn.QueryRow(ctx, "select current_user, current_database()").Scan(&user, &db)
	return user, db, err
}

// poolingMissing reports whether err is Grove's answer to a -pooler
// endpoint while it has no connection pooler (feature_not_supported), which
// the tests note instead of failing on.
func poolingMissing(t *testing.T, err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "0A000" && strings.Contains(pe.Message, "pooling") {
		t.Logf("pooled connection not checked: %s", pe.Message)
		return true
	}
	return false
}

// scriptResult is what the testdata scripts print: one entry per step, in order.
type scriptResult struct {
	Steps []struct {
		Name  string          `json:"name"`
		Error string          `json:"error,omitempty"`
		Value json.RawMessage `json:"value,omitempty"`
	} `json:"steps"`
}

// runScript runs a testdata script and returns each step's value by name;
// a step that failed is reported as a test error naming it.
func (e *env) runScript(t *testing.T, script string, extra ...string) map[string]json.RawMessage {
	t.Helper()
	env := append([]string{"GROVE_API=" + e.api, "GROVE_KEY=" + e.g.Key, "GROVE_ORG=" + e.org}, extra...)
	path, err := filepath.Abs(filepath.Join("testdata", script))
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.node(t, env, path)
	if err != nil {
		t.Fatal(err)
	}
	var res scriptResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%s printed no result: %v\n%s", script, err, out)
	}
	values := map[string]json.RawMessage{}
	for _, s := range res.Steps {
		if s.Error != "" {
			t.Errorf("%s: step %s: %s", script, s.Name, s.Error)
			continue
		}
		values[s.Name] = s.Value
	}
	return values
}

// decode unmarshals a step's value, failing the test when the step is missing.
func decode(t *testing.T, values map[string]json.RawMessage, step string, v any) bool {
	t.Helper()
	raw, ok := values[step]
	if !ok {
		t.Errorf("step %s gave no value", step)
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Errorf("step %s: decode %s: %v", step, raw, err)
		return false
	}
	return true
}
