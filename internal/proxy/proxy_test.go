package proxy

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/scram"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	testEndpoint = "ep-test-123"
	testRole     = "alice"
	testPassword = "s3cret-pw"
	testDB       = "appdb"
)

// fakeBackend is a lookup over a real Postgres: the function fields decide,
// the counters record what the proxy reported.
type fakeBackend struct {
	verifier func(ctx context.Context, ep, role string) (scram.Verifier, error)
	connect  func(ctx context.Context, ep string, pooled bool) (string, error)

	mu       sync.Mutex
	opened   map[string]int
	closed   map[string]int
	bytesIn  map[string]int64
	bytesOut map[string]int64
	pooled   []bool
}

// fixedBackend routes every endpoint to socket and answers every role with v.
func fixedBackend(v scram.Verifier, socket string) *fakeBackend {
	return &fakeBackend{
		verifier: func(context.Context, string, string) (scram.Verifier, error) { return v, nil },
		connect:  func(context.Context, string, bool) (string, error) { return socket, nil },
		opened:   map[string]int{}, closed: map[string]int{}, bytesIn: map[string]int64{}, bytesOut: map[string]int64{},
	}
}

func (b *fakeBackend) Verifier(ctx context.Context, ep, role string) (scram.Verifier, error) {
	return b.verifier(ctx, ep, role)
}

func (b *fakeBackend) Connect(ctx context.Context, ep string, pooled bool) (string, error) {
	b.mu.Lock()
	b.pooled = append(b.pooled, pooled)
	b.mu.Unlock()
	return b.connect(ctx, ep, pooled)
}

func (b *fakeBackend) ConnOpened(ep string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.opened[ep]++
}

func (b *fakeBackend) ConnClosed(ep string, in, out int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed[ep]++
	b.bytesIn[ep] += in
	b.bytesOut[ep] += out
}

type env struct {
	srv     *pgtest.Server
	proxy   *Proxy
	backend *fakeBackend
	addr    string
	port    string
	certDir string
}

// start runs a real Postgres as the compute of testEndpoint and a proxy in
// front of it.
func start(t *testing.T, tune ...func(*Config)) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Postgres")
	}
	srv := pgtest.Start(t)
	v, err := scram.NewVerifier(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	srv.Exec(t, "postgres", "CREATE ROLE "+testRole+" LOGIN PASSWORD '"+v.String()+"'")
	srv.Exec(t, "postgres", "CREATE DATABASE "+testDB+" OWNER "+testRole)
	socket := filepath.Join(srv.SocketDir(), ".s.PGSQL.5432")
	b := &fakeBackend{
		verifier: func(ctx context.Context, ep, role string) (scram.Verifier, error) {
			if ep != testEndpoint {
				return scram.Verifier{}, fmt.Errorf("endpoint %s: %w", ep, ErrUnknownEndpoint)
			}
			if role != testRole {
				return scram.Verifier{}, fmt.Errorf("role %s: %w", role, ErrUnknownRole)
			}
			return v, nil
		},
		connect: func(ctx context.Context, ep string, pooled bool) (string, error) {
			if ep != testEndpoint {
				return "", ErrUnknownEndpoint
			}
			return socket, nil
		},
		opened: map[string]int{}, closed: map[string]int{}, bytesIn: map[string]int64{}, bytesOut: map[string]int64{},
	}
	certDir := t.TempDir()
	cert, err := LoadOrCreateCert(certDir, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, Domain: "example.com", Backend: b}
	for _, f := range tune {
		f(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return &env{srv: srv, proxy: p, backend: b, addr: ln.Addr().String(), port: port, certDir: certDir}
}

// dsn builds a keyword/value connection string to the proxy.
func (e *env) dsn(extra string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%s user=%s password=%s dbname=%s connect_timeout=20 %s",
		e.port, testRole, testPassword, testDB, extra)
}

// transports are the ways clients reach the proxy: TCP with TLS, and a
// WebSocket (see websocket_test.go).
var transports = []string{"tcp", "websocket"}

// connectVia logs in to testEndpoint as testRole over transport.
func (e *env) connectVia(t *testing.T, transport string) (*pgx.Conn, error) {
	t.Helper()
	if transport == "websocket" {
		return wsServe(t, e.proxy, false).withHost(testEndpoint+".localhost").connect(t,
			fmt.Sprintf("user=%s password=%s dbname=%s", testRole, testPassword, testDB))
	}
	return connect(t, e.dsn("sslmode=require options=endpoint="+testEndpoint))
}

func connect(t *testing.T, dsn string) (*pgx.Conn, error) {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return connectConfig(t, cfg)
}

// connectConfig connects with cfg; the connection closes at the test's end.
func connectConfig(t *testing.T, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		t.Cleanup(func() { c.Close(context.Background()) })
	}
	return c, err
}

func mustQueryUser(t *testing.T, c *pgx.Conn) {
	t.Helper()
	var user, db string
	if err := c.QueryRow(t.Context(), "SELECT current_user, current_database()").Scan(&user, &db); err != nil {
		t.Fatal(err)
	}
	if user != testRole || db != testDB {
		t.Fatalf("connected as %s to %s", user, db)
	}
}

func TestPgxConnects(t *testing.T) {
	e := start(t)
	tests := []struct {
		name string
		dsn  string
	}{
		{"options sslmode=require", e.dsn("sslmode=require options=endpoint=" + testEndpoint)},
		{"channel_binding=require", e.dsn("sslmode=require channel_binding=require options=endpoint=" + testEndpoint)},
		{"other options kept", e.dsn("sslmode=require options='-c statement_timeout=1234 endpoint=" + testEndpoint + "'")},
		{"password hack", fmt.Sprintf("host=127.0.0.1 port=%s user=%s dbname=%s sslmode=require password=endpoint=%s;%s",
			e.port, testRole, testDB, testEndpoint, testPassword)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := connect(t, tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			mustQueryUser(t, c)
			if strings.Contains(tc.name, "options kept") {
				var st string
				if err := c.QueryRow(t.Context(), "SHOW statement_timeout").Scan(&st); err != nil {
					t.Fatal(err)
				}
				if st != "1234ms" {
					t.Fatalf("statement_timeout = %q", st)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	e := start(t)
	tests := []struct {
		name     string
		dsn      string
		code     string
		contains string
	}{
		{"wrong password", e.dsn("sslmode=require options=endpoint="+testEndpoint) + " password=wrong",
			"28P01", `password authentication failed for user "alice"`},
		{"wrong password hack", fmt.Sprintf("host=127.0.0.1 port=%s user=%s dbname=%s sslmode=require password=endpoint=%s;nope",
			e.port, testRole, testDB, testEndpoint), "28P01", "password authentication failed"},
		{"unknown role", e.dsn("sslmode=require options=endpoint="+testEndpoint) + " user=bob",
			"28P01", `password authentication failed for user "bob"`},
		{"unknown endpoint", e.dsn("sslmode=require options=endpoint=ep-nope"),
			"08004", "The requested endpoint could not be found"},
		{"missing endpoint over TLS", fmt.Sprintf("host=127.0.0.1 port=%s user=%s dbname=%s sslmode=require password=plain",
			e.port, testRole, testDB), "08004", "Endpoint ID is not specified"},
		{"reserved role", e.dsn("sslmode=require options=endpoint="+testEndpoint) + " user=cloud_admin",
			"28000", `role "cloud_admin" is reserved`},
		{"pg_ role", e.dsn("sslmode=require options=endpoint="+testEndpoint) + " user=pg_monitor",
			"28000", "reserved"},
		{"malformed endpoint", e.dsn("sslmode=require options=endpoint=ep_bad"), "08004",
			"Project name ('ep_bad') must contain only alphanumeric characters and hyphen."},
		{"database does not exist", e.dsn("sslmode=require options=endpoint="+testEndpoint) + " dbname=nodb",
			"3D000", `database "nodb" does not exist`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := connect(t, tc.dsn)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a PgError", err)
			}
			if pe.Code != tc.code || !strings.Contains(pe.Message, tc.contains) {
				t.Fatalf("got %s %q, want %s containing %q", pe.Code, pe.Message, tc.code, tc.contains)
			}
		})
	}
	t.Run("wake failure", func(t *testing.T) {
		e.backend.connect = func(context.Context, string, bool) (string, error) {
			return "", errors.New("compute crashed")
		}
		defer func() {
			e.backend.connect = func(context.Context, string, bool) (string, error) {
				return filepath.Join(e.srv.SocketDir(), ".s.PGSQL.5432"), nil
			}
		}()
		_, err := connect(t, e.dsn("sslmode=require options=endpoint="+testEndpoint))
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "57P03" || pe.Message != "Couldn't connect to compute node" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("user error from backend", func(t *testing.T) {
		old := e.backend.verifier
		e.backend.verifier = func(context.Context, string, string) (scram.Verifier, error) {
			return scram.Verifier{}, fmt.Errorf("lookup: %w", &UserError{Code: "53300", Message: "Too many connections to this endpoint."})
		}
		defer func() { e.backend.verifier = old }()
		_, err := connect(t, e.dsn("sslmode=require options=endpoint="+testEndpoint))
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "53300" || pe.Message != "Too many connections to this endpoint." {
			t.Fatalf("err = %v", err)
		}
	})
}

// psql runs real libpq (psql) against the proxy and returns its output.
func psql(t *testing.T, conninfo, password string) (string, error) {
	t.Helper()
	path, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not installed")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, conninfo, "-XAtc", "SELECT current_user || '@' || current_database()")
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=20")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func TestPsql(t *testing.T) {
	e := start(t)
	want := testRole + "@" + testDB
	tests := []struct {
		name     string
		conninfo string
		password string
		wantErr  string
	}{
		{"options channel_binding", fmt.Sprintf("host=127.0.0.1 port=%s user=%s dbname=%s sslmode=require channel_binding=require options=endpoint=%s",
			e.port, testRole, testDB, testEndpoint), testPassword, ""},
		{"uri options", fmt.Sprintf("postgresql://%s@127.0.0.1:%s/%s?sslmode=require&channel_binding=require&options=endpoint%%3D%s",
			testRole, e.port, testDB, testEndpoint), testPassword, ""},
		{"sni localhost", fmt.Sprintf("host=%s.localhost hostaddr=127.0.0.1 port=%s user=%s dbname=%s sslmode=require channel_binding=require",
			testEndpoint, e.port, testRole, testDB), testPassword, ""},
		{"sni domain", fmt.Sprintf("host=%s.us-east-2.example.com hostaddr=127.0.0.1 port=%s user=%s dbname=%s sslmode=require",
			testEndpoint, e.port, testRole, testDB), testPassword, ""},
		{"sni pooler", fmt.Sprintf("host=%s-pooler.example.com hostaddr=127.0.0.1 port=%s user=%s dbname=%s sslmode=require",
			testEndpoint, e.port, testRole, testDB), testPassword, ""},
		{"sni verify-full", fmt.Sprintf("host=%s.localhost hostaddr=127.0.0.1 port=%s user=%s dbname=%s sslmode=verify-full sslrootcert=%s",
			testEndpoint, e.port, testRole, testDB, filepath.Join(e.certDir, CertFile)), testPassword, ""},
		{"password hack", fmt.Sprintf("host=127.0.0.1 port=%s user=%s dbname=%s sslmode=require",
			e.port, testRole, testDB), "endpoint=" + testEndpoint + ";" + testPassword, ""},
		{"inconsistent sni and option", fmt.Sprintf("host=%s.localhost hostaddr=127.0.0.1 port=%s user=%s dbname=%s sslmode=require options=endpoint=ep-other",
			testEndpoint, e.port, testRole, testDB), testPassword,
			"Inconsistent project name inferred from SNI ('" + testEndpoint + "') and project option ('ep-other')."},
		{"unknown domain", fmt.Sprintf("host=%s.other.net hostaddr=127.0.0.1 port=%s user=%s dbname=%s sslmode=require",
			testEndpoint, e.port, testRole, testDB), testPassword, "Common name inferred from SNI ('other.net') is not known"},
		{"missing endpoint", fmt.Sprintf("host=127.0.0.1 port=%s user=%s dbname=%s sslmode=require", e.port, testRole, testDB),
			"plain", "Endpoint ID is not specified"},
		{"no TLS", fmt.Sprintf("host=127.0.0.1 port=%s user=%s dbname=%s sslmode=disable options=endpoint=%s", e.port, testRole, testDB, testEndpoint),
			testPassword, textInsecure},
		{"wrong password", fmt.Sprintf("host=127.0.0.1 port=%s user=%s dbname=%s sslmode=require channel_binding=require options=endpoint=%s",
			e.port, testRole, testDB, testEndpoint), "nope", `password authentication failed for user "alice"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := psql(t, tc.conninfo, tc.password)
			if tc.wantErr == "" {
				if err != nil || out != want {
					t.Fatalf("psql: %v: %s", err, out)
				}
				return
			}
			if err == nil || !strings.Contains(out, tc.wantErr) {
				t.Fatalf("psql err = %v, output %q, want %q", err, out, tc.wantErr)
			}
		})
	}
	e.backend.mu.Lock()
	defer e.backend.mu.Unlock()
	pooled := 0
	for _, p := range e.backend.pooled {
		if p {
			pooled++
		}
	}
	if pooled != 1 {
		t.Errorf("pooled connects = %d, want 1 (%v)", pooled, e.backend.pooled)
	}
}

// waitFor polls cond until it holds or the test's time runs out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCancelForwarded: cancel requests reach the compute, over TCP and
// over a WebSocket (pgconn dials them with its DialFunc: a WebSocket of
// their own).
func TestCancelForwarded(t *testing.T) {
	e := start(t)
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			c, err := e.connectVia(t, tr)
			if err != nil {
				t.Fatal(err)
			}
			// The test's WebSocket client (coder/websocket's NetConn)
			// closes the WebSocket when a deadline hits during a read, so
			// pgconn's cancel after a context deadline comes once the
			// session, and its cancel key, are gone.
			cancelsForwarded(t, e, c, tr == "tcp")
		})
	}
}

// cancelsForwarded checks that c's cancel requests stop its query, and
// that so does the end of a query's context when onContext is set.
func cancelsForwarded(t *testing.T, e *env, c *pgx.Conn, onContext bool) {
	t.Helper()
	admin := e.srv.Conn(t, "postgres")
	errc := make(chan error, 1)
	go func() {
		_, err := c.Exec(context.Background(), "SELECT pg_sleep(60)")
		errc <- err
	}()
	waitFor(t, "pg_sleep to run", func() bool {
		var n int
		_ = admin.QueryRow(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'").Scan(&n)
		return n == 1
	})
	if err := c.PgConn().CancelRequest(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "57014" {
			t.Fatalf("err = %v, want query_canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("query was not cancelled")
	}
	// The connection still works after the cancel.
	mustQueryUser(t, c)
	if !onContext {
		return
	}

	// pgx's context cancellation path sends a CancelRequest too.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Exec(ctx, "SELECT pg_sleep(60)")
	if err == nil || time.Since(start) > 20*time.Second {
		t.Fatalf("context cancel: err=%v after %v", err, time.Since(start))
	}
	waitFor(t, "sleep to stop on the compute", func() bool {
		var n int
		_ = admin.QueryRow(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'").Scan(&n)
		return n == 0
	})
}

// rawExchange writes b to a new connection and returns the first message
// the proxy answers with ('E' error text), or "closed".
func rawExchange(t *testing.T, addr string, b []byte) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(b); err != nil {
		return "closed"
	}
	var hdr [5]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return "closed"
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > 1<<16 {
		t.Fatalf("huge reply %d", n)
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(c, body); err != nil {
		return "closed"
	}
	if hdr[0] != 'E' {
		return string(hdr[0])
	}
	var code, msg string
	for _, f := range strings.Split(string(body), "\x00") {
		if len(f) > 1 && f[0] == 'C' {
			code = f[1:]
		}
		if len(f) > 1 && f[0] == 'M' {
			msg = f[1:]
		}
	}
	return code + " " + msg
}

func startupBytes(version uint32, kv ...string) []byte {
	params := map[string]string{}
	var order []string
	for i := 0; i+1 < len(kv); i += 2 {
		params[kv[i]] = kv[i+1]
		order = append(order, kv[i])
	}
	return encodeStartup(version, params, order)
}

func noTerminator() []byte {
	b := startupBytes(protocol30, "user", "x")
	b = b[:len(b)-1]
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return b
}

func TestGarbageWhileOthersWork(t *testing.T) {
	// The raw clients below speak without TLS.
	e := start(t, func(c *Config) { c.AuthTimeout = 2 * time.Second; c.AllowPlaintext = true })
	good, err := connect(t, e.dsn("sslmode=require options=endpoint="+testEndpoint))
	if err != nil {
		t.Fatal(err)
	}
	huge := make([]byte, 8)
	binary.BigEndian.PutUint32(huge, 1<<30)
	binary.BigEndian.PutUint32(huge[4:], protocol30)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"oversized", huge, "08P01 invalid length of startup packet"},
		{"too short", []byte{0, 0, 0, 4, 0, 0, 0, 0}, "08P01 invalid length of startup packet"},
		{"http", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "08P01 invalid length of startup packet"},
		{"bad version", startupBytes(2<<16, "user", "x"), "0A000 unsupported frontend protocol 2.0: server supports 3.0 to 3.2"},
		{"no terminator", noTerminator(), "08P01 protocol violation: invalid startup packet layout"},
		{"missing user", startupBytes(protocol30, "database", "x"), "28000 Parameter 'user' is missing in startup packet."},
		{"gss then startup", append([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30}, startupBytes(protocol30, "user", "x")...),
			"08P01 protocol violation: received unencrypted data after GSSAPI encryption request"},
		{"silent client", nil, "08006 Authentication timed out"},
		{"unknown cancel", encodeCancel(1, []byte{1, 2, 3, 4}), "closed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := rawExchange(t, e.addr, tc.in); !strings.HasPrefix(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			mustQueryUser(t, good)
		})
	}
	t.Run("gss then startup separately", func(t *testing.T) {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30})
		b := make([]byte, 1)
		if _, err := io.ReadFull(c, b); err != nil || b[0] != 'N' {
			t.Fatalf("GSSENC answer %q %v", b, err)
		}
	})
}

// TestCountersAndReports: a session counts as its endpoint's, with its
// bytes, over TCP and over a WebSocket.
func TestCountersAndReports(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := start(t)
			c, err := e.connectVia(t, tr)
			if err != nil {
				t.Fatal(err)
			}
			countsAndReports(t, e, c)
		})
	}
}

func countsAndReports(t *testing.T, e *env, c *pgx.Conn) {
	t.Helper()
	st := e.proxy.Stats()[testEndpoint]
	if st.Open != 1 || st.Total != 1 {
		t.Fatalf("stats while open = %+v", st)
	}
	var s string
	if err := c.QueryRow(t.Context(), "SELECT repeat('x', 100000)").Scan(&s); err != nil {
		t.Fatal(err)
	}
	if st := e.proxy.Stats()[testEndpoint]; st.BytesOut < 100000 || st.BytesIn == 0 {
		t.Fatalf("byte counters = %+v", st)
	}
	c.Close(t.Context())
	waitFor(t, "connection to close", func() bool { return e.proxy.Stats()[testEndpoint].Open == 0 })
	waitFor(t, "ConnClosed", func() bool {
		e.backend.mu.Lock()
		defer e.backend.mu.Unlock()
		return e.backend.closed[testEndpoint] == 1
	})
	e.backend.mu.Lock()
	defer e.backend.mu.Unlock()
	st = e.proxy.Stats()[testEndpoint]
	if st.Open != 0 || e.backend.opened[testEndpoint] != 1 || e.backend.bytesOut[testEndpoint] != st.BytesOut || e.backend.bytesIn[testEndpoint] != st.BytesIn {
		t.Fatalf("backend saw opened=%d in=%d out=%d; stats %+v", e.backend.opened[testEndpoint],
			e.backend.bytesIn[testEndpoint], e.backend.bytesOut[testEndpoint], st)
	}
}

func TestShutdownClosesConnections(t *testing.T) {
	e := start(t)
	c, err := connect(t, e.dsn("sslmode=require options=endpoint="+testEndpoint))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := e.proxy.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown with an open connection: %v", err)
	}
	if err := c.Ping(t.Context()); err == nil {
		t.Fatal("connection survived shutdown")
	}
	if _, err := net.DialTimeout("tcp", e.addr, time.Second); err == nil {
		t.Fatal("listener still accepts")
	}
}

func TestLoadOrCreateCert(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreateCert(dir, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi, err)
	}
	b, err := LoadOrCreateCert(dir, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Certificate[0]) != string(b.Certificate[0]) {
		t.Fatal("certificate not reused")
	}
	leaf := a.Leaf
	for _, name := range []string{"ep-x.example.com", "localhost", "ep-x.localhost"} {
		if err := leaf.VerifyHostname(name); err != nil {
			t.Errorf("VerifyHostname(%s): %v", name, err)
		}
	}
	regional, err := LoadOrCreateCert(t.TempDir(), "example.com", "*.us-east-2.example.com", "*.apirest.us-east-2.example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ep-x.us-east-2.example.com", "ep-x.apirest.us-east-2.example.com", "ep-x.example.com"} {
		if err := regional.Leaf.VerifyHostname(name); err != nil {
			t.Errorf("regional VerifyHostname(%s): %v", name, err)
		}
	}
	for _, name := range []string{"ep-x.localhost"} {
		if err := leaf.VerifyHostname(name); err != nil {
			t.Errorf("VerifyHostname(%s): %v", name, err)
		}
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("VerifyHostname(127.0.0.1): %v", err)
	}
	// A lone key file is not overwritten.
	dir2 := t.TempDir()
	os.WriteFile(filepath.Join(dir2, KeyFile), []byte("junk"), 0o600)
	if _, err := LoadOrCreateCert(dir2, ""); err == nil {
		t.Fatal("lone key file accepted")
	}
}

func BenchmarkSelect1(b *testing.B) {
	if testing.Short() {
		b.Skip("needs Postgres")
	}
	srv := pgtest.Start(b)
	v, _ := scram.NewVerifier(testPassword)
	srv.Exec(b, "postgres", "CREATE ROLE "+testRole+" LOGIN PASSWORD '"+v.String()+"'")
	socket := filepath.Join(srv.SocketDir(), ".s.PGSQL.5432")
	be := fixedBackend(v, socket)
	cert, err := LoadOrCreateCert(b.TempDir(), "")
	if err != nil {
		b.Fatal(err)
	}
	p, err := New(Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, Backend: be, AllowPlaintext: true})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go p.Serve(context.Background(), ln)
	b.Cleanup(func() { p.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	dsns := map[string]string{
		"direct-socket": fmt.Sprintf("host=%s port=5432 user=%s password=%s dbname=postgres sslmode=disable", srv.SocketDir(), testRole, testPassword),
		"proxy-plain": fmt.Sprintf("host=127.0.0.1 port=%s user=%s password=%s dbname=postgres sslmode=disable options=endpoint=ep-bench",
			port, testRole, testPassword),
		"proxy-tls": fmt.Sprintf("host=127.0.0.1 port=%s user=%s password=%s dbname=postgres sslmode=require options=endpoint=ep-bench",
			port, testRole, testPassword),
	}
	configs := map[string]*pgx.ConnConfig{}
	for name, dsn := range dsns {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			b.Fatal(err)
		}
		configs[name] = cfg
	}
	login := fmt.Sprintf("user=%s password=%s dbname=postgres", testRole, testPassword)
	configs["proxy-websocket"] = wsServe(b, p, false).withHost("ep-bench.localhost").config(b, login)
	configs["proxy-wss"] = wsServe(b, p, true).withHost("ep-bench.localhost").config(b, login)
	for _, name := range []string{"direct-socket", "proxy-plain", "proxy-tls", "proxy-websocket", "proxy-wss"} {
		b.Run(name, func(b *testing.B) {
			c, err := pgx.ConnectConfig(b.Context(), configs[name])
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close(context.Background())
			var n int
			for b.Loop() {
				if err := c.QueryRow(b.Context(), "SELECT 1").Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestWakeOnlyForKnownRoles: the compute is woken while a known role
// authenticates, so a cold start overlaps the handshake; an unknown role
// never wakes it, and a failed login never counts as a connection.
func TestWakeOnlyForKnownRoles(t *testing.T) {
	e := start(t)
	wakes := func() int {
		e.backend.mu.Lock()
		defer e.backend.mu.Unlock()
		return len(e.backend.pooled)
	}
	cases := []struct {
		name, user, password string
		wantWakes            int
	}{
		{"unknown role", "nobody", testPassword, 0},
		{"wrong password", testRole, "wrong", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := wakes()
			dsn := fmt.Sprintf("host=127.0.0.1 port=%s user=%s password=%s dbname=%s sslmode=require options=endpoint=%s",
				e.port, tc.user, tc.password, testDB, testEndpoint)
			if _, err := connect(t, dsn); err == nil {
				t.Fatal("login succeeded")
			}
			// A speculative wake finishes on its own after the refusal.
			deadline := time.Now().Add(5 * time.Second)
			for wakes()-before < tc.wantWakes && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := wakes() - before; got != tc.wantWakes {
				t.Fatalf("wakes = %d, want %d", got, tc.wantWakes)
			}
			e.backend.mu.Lock()
			opened := e.backend.opened[testEndpoint]
			e.backend.mu.Unlock()
			if opened != 0 {
				t.Fatalf("failed logins counted as %d connections", opened)
			}
		})
	}
}
