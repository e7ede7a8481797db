package dataapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/computepool"
	"github.com/grovedb/grove/internal/dataapi"
	"github.com/grovedb/grove/internal/dataapi/jwtauth"
	"github.com/grovedb/grove/internal/dataapispec"
	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/scram"
)

// The conformance suite replays PostgREST's own behaviour, case by case,
// through the real handler against a real Postgres: each case is one
// request and the status, headers and body PostgREST answers it with.
// The fixture (testdata/conformance.sql) has a schema per area, so that
// tables of the same name can differ between areas as they do upstream.

// confSchemas are the exposed schemas; the first is the default profile.
var confSchemas = []string{"test", "operators", "ordering", "pagination", "representations", "mutations", "rpc", "headers", "v1", "v2"}

// confCase is one request and PostgREST's answer to it.
type confCase struct {
	// id is the upstream case number, or, for a behaviour the upstream
	// model states without naming its case, the model's entry ("PAG-004").
	id      string
	feature string // the upstream feature name
	schema  string // Accept-Profile (reads) or Content-Profile (writes); "" = the default
	req     string // "METHOD /path?query"
	hdr     map[string]string
	body    string

	status int
	// want are response headers that must match exactly; "" means the
	// header must be absent.
	want map[string]string
	// json is the body, compared as JSON; raw, when set, byte for byte;
	// fields, a JSON object whose members the body's must equal.
	json   string
	raw    *string
	fields string
}

func str(s string) *string { return &s }

// h builds a header map from "Name: value" lines.
func h(lines ...string) map[string]string {
	m := map[string]string{}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, ":")
		m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return m
}

const ctJSON = "application/json; charset=utf-8"

// confDomain is the handler's domain: requests name their endpoint in the
// host, <endpoint>.apirest.<region>.<domain>.
const confDomain = "grove.test"

// confBackend is the compute of every endpoint: the test's Postgres.
type confBackend struct{ socket string }

func (b confBackend) Verifier(context.Context, string, string) (scram.Verifier, error) {
	return scram.Verifier{}, nil
}
func (b confBackend) Connect(context.Context, string, bool) (string, error) { return b.socket, nil }
func (confBackend) ConnOpened(string)                                       {}
func (confBackend) ConnClosed(string, int64, int64)                         {}

// confServer is the handler serving the fixture over HTTP.
type confServer struct {
	srv  *pgtest.Server
	h    *dataapi.Handler
	pool *computepool.Pool
	http *httptest.Server
	n    atomic.Int64
}

func startConformance(t *testing.T) *confServer {
	t.Helper()
	pgtest.SkipShort(t, "needs PostgreSQL")
	srv := pgtest.Start(t, pgtest.WithSettings(map[string]string{"max_connections": "100", "TimeZone": "UTC"}))
	fixture, err := os.ReadFile(filepath.Join("testdata", "conformance.sql"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Exec(t, "postgres", "CREATE DATABASE conf_template TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
	srv.Exec(t, "conf_template", string(fixture))
	srv.Exec(t, "postgres", "CREATE DATABASE conf TEMPLATE conf_template")
	pool := computepool.New(time.Minute)
	t.Cleanup(pool.CloseAll)
	verifier := jwtauth.New(jwtauth.Config{})
	t.Cleanup(verifier.Close)
	served := dataapispec.Served{Schemas: confSchemas, AnonRole: "web_anon", ExtraSearchPath: []string{"public"},
		RoleClaimKey: ".role", AggregatesEnabled: true, AuthenticatorPassword: "authenticator"}
	h, err := dataapi.New(dataapi.Config{
		Backend: confBackend{socket: filepath.Join(srv.SocketDir(), ".s.PGSQL.5432")},
		Lookup: func(_ context.Context, endpoint, database string) (dataapispec.Served, error) {
			s := served
			s.EndpointID, s.Database = endpoint, database
			return s, nil
		},
		Pool:     pool,
		Verifier: verifier,
		Domain:   confDomain,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return &confServer{srv: srv, h: h, pool: pool, http: hs}
}

// writes reports whether a case may change the database: those run on a
// copy of it of their own, as upstream rolls every request back.
func (c confCase) writes() bool {
	m, _, _ := strings.Cut(c.req, " ")
	return (m != "GET" && m != "HEAD" && m != "OPTIONS") || c.hdr["Prefer"] == "tx=commit"
}

// do sends the case's request to endpoint ep, database db.
func (s *confServer) do(t *testing.T, ep, db string, c confCase) (*http.Response, []byte) {
	t.Helper()
	method, target, _ := strings.Cut(c.req, " ")
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.http.URL+"/"+db+"/rest/v1"+target, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = ep + ".apirest.test." + confDomain
	if c.schema != "" {
		if method == "GET" || method == "HEAD" {
			req.Header.Set("Accept-Profile", c.schema)
		} else {
			req.Header.Set("Content-Profile", c.schema)
		}
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// run sends one case, on a copy of the database for a write, and returns
// how its answer differs from PostgREST's ("" = it does not).
func (s *confServer) run(t *testing.T, c confCase) string {
	t.Helper()
	ep, db := "conf", "conf"
	if c.writes() {
		n := s.n.Add(1)
		ep, db = fmt.Sprintf("w%d", n), fmt.Sprintf("conf_w%d", n)
		s.srv.Exec(t, "postgres", "CREATE DATABASE "+db+" TEMPLATE conf_template STRATEGY FILE_COPY")
		defer func() {
			s.h.Drop(ep)
			s.pool.Drop(ep)
			s.srv.Exec(t, "postgres", "DROP DATABASE "+db+" WITH (FORCE)")
		}()
	}
	resp, body := s.do(t, ep, db, c)
	var diffs []string
	if resp.StatusCode != c.status {
		diffs = append(diffs, fmt.Sprintf("status %d, want %d", resp.StatusCode, c.status))
	}
	for k, v := range c.want {
		got := strings.Join(resp.Header.Values(k), ", ")
		if got != v {
			diffs = append(diffs, fmt.Sprintf("header %s = %q, want %q", k, got, v))
		}
	}
	switch {
	case c.raw != nil:
		if string(body) != *c.raw {
			diffs = append(diffs, fmt.Sprintf("body %q, want %q", body, *c.raw))
		}
	case c.fields != "":
		var got, want map[string]any
		if err := json.Unmarshal([]byte(c.fields), &want); err != nil {
			t.Fatalf("case %s: bad expected fields: %v", c.id, err)
		}
		if err := json.Unmarshal(body, &got); err != nil {
			diffs = append(diffs, fmt.Sprintf("body %s, want an object with %s", bytes.TrimSpace(body), c.fields))
			break
		}
		for k, v := range want {
			if !reflect.DeepEqual(got[k], v) {
				diffs = append(diffs, fmt.Sprintf("body %s = %v, want %v", k, got[k], v))
			}
		}
	case c.json != "":
		var got, want any
		if err := json.Unmarshal([]byte(c.json), &want); err != nil {
			t.Fatalf("case %s: bad expected JSON: %v", c.id, err)
		}
		if err := json.Unmarshal(body, &got); err != nil || !reflect.DeepEqual(got, want) {
			diffs = append(diffs, fmt.Sprintf("body %s, want %s", bytes.TrimSpace(body), c.json))
		}
	}
	return strings.Join(diffs, "; ")
}

// confAreas are the ported cases, by area.
var confAreas = map[string][]confCase{}

// divergences are cases where Grove answers otherwise than PostgREST on
// purpose, with the reason. The test fails when one of them starts to
// pass, so that the entry goes.
var divergences = map[string]string{
	"1022": "the root serves no OpenAPI document (PGRST126): the Data API's schema is described by the console, not by the endpoint",
}

func TestConformance(t *testing.T) {
	s := startConformance(t)
	seen := map[string]bool{}
	for _, cases := range confAreas {
		for _, c := range cases {
			if seen[c.id] {
				t.Fatalf("case %s ported twice", c.id)
			}
			seen[c.id] = true
		}
	}
	for id := range divergences {
		if !seen[id] {
			t.Errorf("divergence %s names no ported case", id)
		}
	}
	for area, cases := range confAreas {
		var ran, passed atomic.Int64
		t.Run(area, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.id+"_"+strings.ReplaceAll(c.feature, "/", "_"), func(t *testing.T) {
					if c.writes() {
						t.Parallel() // each on its own copy of the database
					}
					ran.Add(1)
					diff := s.run(t, c)
					reason, diverges := divergences[c.id]
					switch {
					case diff != "" && !diverges:
						t.Errorf("%s %s: %s", c.req, c.feature, diff)
					case diff == "" && diverges:
						t.Errorf("%s now answers as PostgREST does: remove its divergence (%s)", c.req, reason)
					case diff == "":
						passed.Add(1)
					}
				})
			}
		})
		if ran.Load() > 0 {
			t.Logf("%s: %d of %d cases answer as PostgREST does", area, passed.Load(), ran.Load())
		}
	}
}
