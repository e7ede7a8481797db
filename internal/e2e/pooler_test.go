package e2e

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/client"
	"github.com/grovedb/grove/internal/grovetest"
)

// createSized makes the seed project with its endpoint fixed at cu.
func createSized(t *testing.T, g *grovetest.Grove, cu string) apitypes.CreatedProject {
	t.Helper()
	body := strings.Replace(grovetest.SeedBody(g.OrgID("sponsored")),
		`"autoscaling_limit_min_cu":0.25,"autoscaling_limit_max_cu":1`,
		`"autoscaling_limit_min_cu":`+cu+`,"autoscaling_limit_max_cu":`+cu, 1)
	var cp apitypes.CreatedProject
	if st, raw := g.API("POST", "/projects", body, &cp); st != 201 {
		t.Fatalf("create project: %d %s", st, raw)
	}
	return cp
}

// pooledURI asks the API for the pooled connection string.
func pooledURI(t *testing.T, c *client.Client, cp apitypes.CreatedProject) string {
	t.Helper()
	uri, err := c.ConnectionURI(t.Context(), cp.Project.ID, client.ConnectionURIParams{
		DatabaseName: "app_db", RoleName: "app_user", Pooled: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(uri, cp.Endpoints[0].ID+"-pooler") || !strings.Contains(uri, "channel_binding=require") {
		t.Fatalf("pooled URI %s does not name the -pooler endpoint with channel binding", uri)
	}
	return uri
}

func pgxConnect(t *testing.T, uri string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), uri)
	if err != nil {
		t.Fatalf("connect %s: %v", redact(uri), err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "(unparsable URI)"
	}
	return u.Redacted()
}

func backendPid(t *testing.T, c *pgx.Conn) int {
	t.Helper()
	var pid int
	if err := c.QueryRow(t.Context(), "select pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return pid
}

// preparedStatements reports whether grove runs a PgBouncer with
// protocol-level prepared statements (its start log says).
func preparedStatements(g *grovetest.Grove) bool {
	return regexp.MustCompile(`pooler: PgBouncer.*prepared_statements=true`).MatchString(g.Logs())
}

// TestPooledConnections: the -pooler host through PgBouncer in transaction
// mode, with the pooled connection URI of the API (TLS, SCRAM with channel
// binding), a suspended endpoint woken by a pooled connection, Postgres'
// error for a wrong password, a reset password at once, and pgx's default
// prepared statements.
func TestPooledConnections(t *testing.T) {
	g := start(t)
	c := checkedClient(g)
	cp := createSized(t, g, "0.25")
	id, ep := cp.Project.ID, cp.Endpoints[0].ID
	direct := cp.ConnectionURIs[0].ConnectionURI
	pooled := pooledURI(t, c, cp)

	t.Run("pgx and psql", func(t *testing.T) {
		conn := pgxConnect(t, pooled)
		var who string
		if err := conn.QueryRow(t.Context(), "select current_user || '@' || current_database()").Scan(&who); err != nil || who != "app_user@app_db" {
			t.Fatalf("pooled query: %q, %v", who, err)
		}
		if out, err := grovetest.Psql(t, pooled, "select 40 + 2"); err != nil || out != "42" {
			t.Fatalf("psql pooled: %v: %s", err, out)
		}
		if !strings.Contains(g.Logs(), "pooler started") {
			t.Fatal("no pooler started for the pooled connection")
		}
	})

	t.Run("transaction mode shares server connections", func(t *testing.T) {
		a, b := pgxConnect(t, pooled), pgxConnect(t, pooled)
		// One after the other, two clients' transactions run on the same
		// idle server connection; direct clients each have their own.
		pa, pb := backendPid(t, a), backendPid(t, b)
		if pa != pb {
			t.Errorf("pooled clients on backends %d and %d, want one shared", pa, pb)
		}
		da, db := pgxConnect(t, direct), pgxConnect(t, direct)
		if backendPid(t, da) == backendPid(t, db) {
			t.Error("direct clients share a backend")
		}
		// Session state does not survive the transaction (Neon's documented limit).
		tx, err := a.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(t.Context(), "create temp table t_only_here (x int)"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("prepared statements", func(t *testing.T) {
		if !preparedStatements(g) {
			t.Skip("PgBouncer older than 1.21 (no protocol-level prepared statements); scripts/setup.sh builds 1.24")
		}
		var conns []*pgx.Conn
		for range 4 {
			conns = append(conns, pgxConnect(t, pooled)) // pgx default: cached prepared statements
		}
		for round := range 10 {
			for i, conn := range conns {
				var s string
				if err := conn.QueryRow(t.Context(), "select $1::text || $2::int", "r", round).Scan(&s); err != nil || s != "r"+strconv.Itoa(round) {
					t.Fatalf("conn %d round %d: %q, %v", i, round, s, err)
				}
			}
		}
	})

	t.Run("cancel request", func(t *testing.T) {
		// The proxy forwards a cancel for its key to PgBouncer's socket,
		// which cancels the query on the server connection it runs on.
		conn := pgxConnect(t, pooled)
		errc := make(chan error, 1)
		go func() {
			_, err := conn.Exec(context.Background(), "select pg_sleep(30)")
			errc <- err
		}()
		watch := pgxConnect(t, direct)
		grovetest.WaitFor(t, "query running", func() bool {
			var n int
			_ = watch.QueryRow(t.Context(), "select count(*) from pg_stat_activity where query = 'select pg_sleep(30)' and state = 'active'").Scan(&n)
			return n == 1
		})
		if err := conn.PgConn().CancelRequest(t.Context()); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errc:
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "57014" {
				t.Fatalf("cancelled query: %v, want 57014", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("query not cancelled")
		}
	})

	t.Run("unsupported startup parameter", func(t *testing.T) {
		cfg, err := pgx.ParseConfig(pooled)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams["search_path"] = "public"
		_, err = pgx.ConnectConfig(t.Context(), cfg)
		if err == nil || !strings.Contains(err.Error(), "unsupported startup parameter: search_path") {
			t.Fatalf("search_path on the pooler: %v, want Neon's unsupported startup parameter", err)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		u, _ := url.Parse(pooled)
		u.User = url.UserPassword("app_user", "not-the-password")
		_, err := pgx.Connect(t.Context(), u.String())
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "28P01" || pe.Message != `password authentication failed for user "app_user"` {
			t.Fatalf("wrong password: %v, want Postgres' 28P01", err)
		}
	})

	t.Run("reset password", func(t *testing.T) {
		ops, err := c.ResetRolePassword(t.Context(), id, cp.Branch.ID, "app_user")
		if err != nil {
			t.Fatal(err)
		}
		waitOps(t, c, id, ops.Operations)
		if _, err := pgx.Connect(t.Context(), pooled); err == nil {
			t.Fatal("old password still accepted by the pooler")
		}
		pooled = pooledURI(t, c, cp)
		conn := pgxConnect(t, pooled)
		if _, err := conn.Exec(t.Context(), "select 1"); err != nil {
			t.Fatalf("query with the new password: %v", err)
		}
	})

	t.Run("wake from suspend", func(t *testing.T) {
		ops, err := c.SuspendEndpoint(t.Context(), id, ep)
		if err != nil {
			t.Fatal(err)
		}
		waitOps(t, c, id, ops.Operations)
		grovetest.WaitFor(t, "pooler stopped with its compute", func() bool {
			return strings.Contains(g.Logs(), "pooler stopped")
		})
		if e, err := c.GetEndpoint(t.Context(), id, ep); err != nil || e.CurrentState != "idle" {
			t.Fatalf("after suspend: %+v, %v", e, err)
		}
		conn := pgxConnect(t, pooled)
		var one int
		if err := conn.QueryRow(t.Context(), "select 1").Scan(&one); err != nil {
			t.Fatalf("pooled query after suspend: %v", err)
		}
		if e, err := c.GetEndpoint(t.Context(), id, ep); err != nil || e.CurrentState != "active" {
			t.Fatalf("after a pooled connection: %+v, %v", e, err)
		}
	})
}

// TestPooledSNI: with --domain the pooled host is a DNS name whose first
// label ends in -pooler, and the proxy routes it by SNI to the pooler
// (hostaddr stands in for wildcard DNS).
func TestPooledSNI(t *testing.T) {
	g := start(t, "--domain", "grove.test")
	c := checkedClient(g)
	cp := g.CreateSeed()
	ep := cp.Endpoints[0].ID
	if want := ep + "-pooler.us-east-2.grove.test"; cp.ConnectionURIs[0].ConnectionParameters.PoolerHost != want {
		t.Fatalf("pooler_host %q, want %q", cp.ConnectionURIs[0].ConnectionParameters.PoolerHost, want)
	}
	uri := pooledURI(t, c, cp)
	if strings.Contains(uri, "options=") || !strings.Contains(uri, "@"+ep+"-pooler.us-east-2.grove.test") {
		t.Fatalf("with a domain the pooled URI routes by host: %s", redact(uri))
	}
	out, err := grovetest.Psql(t, uri+"&hostaddr=127.0.0.1", "select current_user")
	if err != nil || out != "app_user" {
		t.Fatalf("psql by SNI through the pooler: %v: %s", err, out)
	}
	if !strings.Contains(g.Logs(), "pooler started") {
		t.Fatal("the -pooler SNI name did not go through the pooler")
	}
}

// TestPooledDebianPgBouncer: with Debian 12's PgBouncer 1.18 (no
// protocol-level prepared statements) Grove says so at start and pooled
// connections work for clients that do not cache prepared statements.
func TestPooledDebianPgBouncer(t *testing.T) {
	const debian = "/usr/sbin/pgbouncer"
	if _, err := os.Stat(debian); err != nil {
		t.Skip("Debian's pgbouncer not installed")
	}
	g := start(t, "--pgbouncer", debian)
	if !regexp.MustCompile(`pooler: PgBouncer" path=` + debian + `.*prepared_statements=(true|false)`).MatchString(g.Logs()) {
		t.Fatalf("grove did not log the PgBouncer it runs:\n%s", g.Logs())
	}
	cp := g.CreateSeed()
	pooled := pooledURI(t, checkedClient(g), cp)
	if out, err := grovetest.Psql(t, pooled, "select current_user"); err != nil || out != "app_user" {
		t.Fatalf("psql through Debian's PgBouncer: %v: %s", err, out)
	}
	cfg, err := pgx.ParseConfig(pooled)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), "select $1::int * 2", 21).Scan(&n); err != nil || n != 42 {
		t.Fatalf("unnamed statement through the pooler: %d, %v", n, err)
	}
}

// TestPooledPgbench500: 500 concurrent pgbench clients through the pooler of
// one 0.25 CU endpoint (max_connections 104) complete with no errors.
func TestPooledPgbench500(t *testing.T) {
	bin := "/usr/lib/postgresql/15/bin/pgbench"
	if _, err := os.Stat(bin); err != nil {
		if bin, err = exec.LookPath("pgbench"); err != nil {
			t.Skip("pgbench not installed (Debian postgresql-client)")
		}
	}
	g := start(t)
	c := checkedClient(g)
	cp := createSized(t, g, "0.25")
	pooled := pooledURI(t, c, cp)
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=60")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("pgbench %v: %v:\n%s", args[:len(args)-1], err, out)
		}
		return string(out)
	}
	run("-i", "-q", "-s", "1", cp.ConnectionURIs[0].ConnectionURI)
	// A client keeps the endpoint awake meanwhile.
	keep := pgxConnect(t, cp.ConnectionURIs[0].ConnectionURI)
	// A transaction count, not a duration: on a 0.25 CU compute (a quarter
	// of a CPU where cgroups apply) connecting 500 clients takes seconds.
	out := run("-n", "-S", "-c", "500", "-j", "2", "-t", "20", pooled)
	t.Logf("pgbench -n -S -c 500 -j 2 -t 20 through the pooler:\n%s", out)
	if !strings.Contains(out, "number of clients: 500") || !regexp.MustCompile(`number of failed transactions: 0\b`).MatchString(out) ||
		!strings.Contains(out, "number of transactions actually processed: 10000/10000") {
		t.Fatalf("pgbench did not run 500 clients × 20 transactions without failures:\n%s", out)
	}
	// The compute never saw more than its pool (0.9 × 104) of pooled
	// backends: PgBouncer queued the rest.
	var backends int
	if err := keep.QueryRow(t.Context(), "select count(*) from pg_stat_activity where usename = 'app_user'").Scan(&backends); err != nil {
		t.Fatal(err)
	}
	if backends > 94 {
		t.Errorf("%d app_user backends after the run, more than the pool of 93 plus this client", backends)
	}
}
