package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/grovedb/grove/internal/pgversion"
)

// installedMajors lists the Postgres majors Grove finds on this machine.
func installedMajors(t *testing.T) []int {
	t.Helper()
	installs, err := pgversion.Find(t.Context(), pgversion.DefaultDirs()...)
	if err != nil {
		t.Skipf("no Postgres installed: %v", err)
	}
	return pgversion.Majors(installs)
}

// createProject makes a project of a major in the sponsored org and
// returns it with its owner's connection URI.
func createProject(t *testing.T, g *grovetest.Grove, name string, major int) apitypes.CreatedProject {
	t.Helper()
	body := fmt.Sprintf(`{"project":{"name":%q,"org_id":%q,"pg_version":%d,"branch":{"role_name":"app_user","database_name":"app_db"}}}`,
		name, g.OrgID("sponsored"), major)
	var cp apitypes.CreatedProject
	if st, raw := g.API("POST", "/projects", body, &cp); st != 201 {
		t.Fatalf("create %s: %d %s", name, st, raw)
	}
	return cp
}

// connectExec connects to uri for the test and returns the connection and
// a function running statements on it with the simple protocol.
func connectExec(t *testing.T, ctx context.Context, uri string) (*pgx.Conn, func(sql string) error) {
	t.Helper()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn, func(sql string) error {
		_, err := conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol)
		return err
	}
}

// TestTenantEscape: a project's own role, on every installed major, tries
// every known path from SQL to the OS or to a superuser, and each fails;
// what a tenant may do (trusted extensions, roles of its own from 16 on)
// still works, and no setting it can read names a host path.
func TestTenantEscape(t *testing.T) {
	g := start(t)
	for _, major := range installedMajors(t) {
		t.Run(strconv.Itoa(major), func(t *testing.T) {
			cp := createProject(t, g, "escape-"+strconv.Itoa(major), major)
			uri := cp.ConnectionURIs[0].ConnectionURI
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			conn, exec := connectExec(t, ctx, uri)
			// Each attack runs in a transaction rolled back afterwards, so
			// that one that succeeded cannot help the next.
			attacks := []string{
				`GRANT pg_execute_server_program TO current_user`,
				`GRANT pg_read_server_files TO current_user`,
				`GRANT pg_write_server_files TO current_user`,
				`GRANT pg_read_all_settings TO current_user`,
				`ALTER GROUP pg_execute_server_program ADD USER app_user`,
				`CREATE ROLE esc IN ROLE pg_execute_server_program`,
				`CREATE ROLE esc; GRANT pg_execute_server_program TO esc; GRANT esc TO current_user`,
				`CREATE ROLE esc SUPERUSER`,
				`ALTER ROLE current_user SUPERUSER`,
				`ALTER ROLE current_user REPLICATION`,
				`ALTER ROLE cloud_admin PASSWORD 'x'`,
				`ALTER ROLE grove_pooler PASSWORD 'x'`,
				`ALTER ROLE grove_replication PASSWORD 'x'`,
				`GRANT cloud_admin TO current_user`,
				`GRANT grove_replication TO current_user`,
				`CREATE TEMP TABLE o(l text); COPY o FROM PROGRAM 'id'`,
				`COPY (SELECT 1) TO PROGRAM 'id'`,
				`COPY (SELECT 1) TO '/tmp/grove-escape'`,
				`CREATE TEMP TABLE o(l text); COPY o FROM '/etc/passwd'`,
				`SELECT pg_read_file('/etc/passwd')`,
				`SELECT pg_read_file('postgresql.conf')`,
				`SELECT pg_read_binary_file('global/pg_control')`,
				`SELECT pg_ls_dir('.')`,
				`SELECT pg_stat_file('PG_VERSION')`,
				`SELECT lo_import('/etc/passwd')`,
				`SELECT lo_export(lo_from_bytea(0, 'x'), '/tmp/grove-escape')`,
				`CREATE FUNCTION esc() RETURNS int LANGUAGE c AS 'libc.so.6', 'getpid'`,
				`CREATE FUNCTION esc() RETURNS int LANGUAGE internal AS 'pg_backend_pid'`,
				`CREATE LANGUAGE plperlu`,
				`CREATE EXTENSION dblink`,
				`CREATE EXTENSION postgres_fdw`,
				`CREATE EXTENSION file_fdw`,
				`CREATE EXTENSION pageinspect`,
				`LOAD 'basic_archive'`,
				`ALTER SYSTEM SET archive_command = 'id'`,
				`ALTER SYSTEM RESET ALL`,
				`SET ROLE cloud_admin`,
				`SET ROLE grove_replication`,
				`SET ROLE grove_pooler`,
				`SET ROLE pg_execute_server_program`,
				`SET SESSION AUTHORIZATION cloud_admin`,
				`SET SESSION AUTHORIZATION grove_pooler`,
				`SELECT * FROM grove.pooler_lookup('app_user')`,
				`SELECT rolpassword FROM pg_authid`,
				`CHECKPOINT`,
				`SET archive_command = 'id'`,
			}
			for _, sql := range attacks {
				if err := exec("BEGIN"); err != nil {
					t.Fatal(err)
				}
				err := exec(sql)
				if rerr := exec("ROLLBACK"); rerr != nil {
					t.Fatal(rerr)
				}
				if err == nil {
					t.Errorf("%s: succeeded; want it refused", sql)
				}
			}
			// What Neon's roles may do still works.
			allowed := []string{
				`CREATE EXTENSION pgcrypto`,
				`CREATE TABLE t(id int); INSERT INTO t VALUES (1); ALTER TABLE t ENABLE ROW LEVEL SECURITY`,
				`CREATE DATABASE scratch_` + strconv.Itoa(major),
			}
			if major >= 16 {
				allowed = append(allowed, `CREATE ROLE own_role; GRANT own_role TO current_user`)
			}
			for _, sql := range allowed {
				if err := exec(sql); err != nil {
					t.Errorf("%s: %v; want it to work", sql, err)
				}
			}
			// No setting a tenant can read shows a host path or a shell command.
			rows, err := conn.Query(ctx, `SELECT name, setting FROM pg_settings WHERE setting LIKE '%/%' OR name IN ('archive_command', 'restore_command')`)
			if err != nil {
				t.Fatal(err)
			}
			settings, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Name, Setting string }])
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range settings {
				if strings.Contains(s.Setting, "/") || (s.Setting != "" && s.Setting != "(disabled)") {
					t.Errorf("setting %s = %q is visible to the project's role", s.Name, s.Setting)
				}
			}
		})
	}
}

// postmaster is a running postgres postmaster as /proc shows it.
type postmaster struct {
	pid                int
	uid                uint32
	dataDir, socketDir string
}

// postmasters lists the postmasters whose data directory is under dir.
func postmasters(t *testing.T, dir string) []postmaster {
	t.Helper()
	var out []postmaster
	for _, pid := range grovetest.PostgresPids(dir) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		p := postmaster{pid: pid}
		args := strings.Split(string(b), "\x00")
		for i := 0; i+1 < len(args); i++ {
			switch args[i] {
			case "-D":
				p.dataDir = args[i+1]
			case "-k":
				p.socketDir = args[i+1]
			}
		}
		fi, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
		if err != nil {
			continue
		}
		p.uid = fi.Sys().(*syscall.Stat_t).Uid
		out = append(out, p)
	}
	return out
}

// asUID runs a command as uid (and its group) with no supplementary group.
func asUID(t *testing.T, uid uint32, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}}
	cmd.Env = []string{"PATH=/usr/bin:/bin", "PGCONNECT_TIMEOUT=5", "HOME=/nonexistent"}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestComputeIdentities: each project's computes run under an OS identity
// of their own, the metadata cluster under another; a process holding one
// project's identity reaches neither another project's compute nor the
// metadata cluster, nor their files, and is no superuser even of its own.
func TestComputeIdentities(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("compute identities need root")
	}
	g := start(t)
	a, b := g.CreateSeed(), createProject(t, g, "other-tenant", 17)
	for _, cp := range []apitypes.CreatedProject{a, b} {
		if _, err := grovetest.Psql(t, cp.ConnectionURIs[0].ConnectionURI, "select 1"); err != nil {
			t.Fatal(err)
		}
	}
	run := g.RunDir()
	procs := map[string]postmaster{} // by socket dir
	for _, p := range postmasters(t, "/") {
		procs[p.socketDir] = p
	}
	pa, okA := procs[filepath.Join(run, a.Endpoints[0].ID)]
	pb, okB := procs[filepath.Join(run, b.Endpoints[0].ID)]
	meta, okM := procs[run+"-meta"]
	if !okA || !okB || !okM {
		t.Fatalf("postmasters not found: project A %v, project B %v, metadata %v", okA, okB, okM)
	}
	if pa.uid == pb.uid || pa.uid == meta.uid || pb.uid == meta.uid || pa.uid == 0 || meta.uid == 0 {
		t.Fatalf("identities: project A %d, project B %d, metadata %d; want three distinct non-root uids", pa.uid, pb.uid, meta.uid)
	}
	psql := func(uid uint32, sock, db string) (string, error) {
		return asUID(t, uid, "psql", "-XAtq", "-h", sock, "-U", "cloud_admin", "-d", db, "-c", "select 1")
	}
	// Grove itself is the superuser everywhere.
	if out, err := grovetest.Psql(t, "host="+pa.socketDir+" user=cloud_admin dbname=postgres", "select 1"); err != nil {
		t.Fatalf("Grove's own superuser login: %v: %s", err, out)
	}
	for _, tc := range []struct {
		name string
		run  func() (string, error)
	}{
		{"A to B's socket", func() (string, error) { return psql(pa.uid, pb.socketDir, "postgres") }},
		{"A to the metadata socket", func() (string, error) { return psql(pa.uid, meta.socketDir, "grove") }},
		{"A as superuser of its own cluster", func() (string, error) { return psql(pa.uid, pa.socketDir, "postgres") }},
		{"A as pooler of its own cluster, over replication", func() (string, error) {
			return asUID(t, pa.uid, "psql", "-XAtq", "-d", "host="+pa.socketDir+" user=grove_pooler replication=true", "-c", "IDENTIFY_SYSTEM")
		}},
		{"A reads B's volume", func() (string, error) { return asUID(t, pa.uid, "ls", pb.dataDir) }},
		{"A reads B's control file", func() (string, error) {
			return asUID(t, pa.uid, "cat", filepath.Join(pb.dataDir, "global", "pg_control"))
		}},
		{"A reads the metadata cluster", func() (string, error) { return asUID(t, pa.uid, "ls", meta.dataDir) }},
		{"the metadata cluster reads A's volume", func() (string, error) { return asUID(t, meta.uid, "ls", pa.dataDir) }},
		{"A reads Grove's logs", func() (string, error) {
			return asUID(t, pa.uid, "ls", filepath.Join(filepath.Dir(filepath.Dir(pa.dataDir)), "logs"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if out, err := tc.run(); err == nil {
				t.Fatalf("succeeded: %s", out)
			}
		})
	}
	// Its own helper role reaches its own cluster: what a replica and the pooler use.
	if out, err := asUID(t, pa.uid, "psql", "-XAtq", "-h", pa.socketDir, "-U", "grove_pooler", "-d", "postgres",
		"-c", "select usename from grove.pooler_lookup('app_user')"); err != nil || strings.TrimSpace(out) != "app_user" {
		t.Fatalf("pooler lookup as A's identity: %v: %s", err, out)
	}
}

// TestSizeLimit: a free project past its plan's storage quota has its
// writes refused with Neon's error naming the limit, while reads and
// deletes work and another project writes on; once it deletes data it
// writes again; the project reports its limit; the log says it once.
func TestSizeLimit(t *testing.T) {
	g := start(t)
	const limit = 40 << 20 // two fresh databases are ~15 MB
	setPlan(t, g, "free", map[string]any{"storage_quota_bytes": limit})
	free := g.CreateSeed()
	var paid apitypes.CreatedProject
	body := fmt.Sprintf(`{"project":{"name":"paid-app","org_id":%q,"branch":{"role_name":"app_user","database_name":"app_db"}}}`, g.OrgID("paid"))
	if st, raw := g.API("POST", "/projects", body, &paid); st != 201 {
		t.Fatalf("create paid project: %d %s", st, raw)
	}
	var got apitypes.ProjectResponse
	if st, raw := g.API("GET", "/projects/"+free.Project.ID, nil, &got); st != 200 {
		t.Fatalf("get project: %d %s", st, raw)
	}
	if got.Project.BranchLogicalSizeLimit != limit>>20 || got.Project.BranchLogicalSizeLimitBytes != limit {
		t.Fatalf("branch_logical_size_limit = %d MiB, %d bytes; want %d, %d", got.Project.BranchLogicalSizeLimit,
			got.Project.BranchLogicalSizeLimitBytes, limit>>20, limit)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	conn, exec := connectExec(t, ctx, free.ConnectionURIs[0].ConnectionURI)
	if err := exec(`CREATE TABLE big(id int, pad text)`); err != nil {
		t.Fatal(err)
	}
	// Write in batches, as an app does, until the writes are refused.
	var refused error
	for i := 0; i < 400 && refused == nil; i++ {
		refused = exec(`INSERT INTO big SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, 2000) g`)
		if refused == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	var pe *pgconn.PgError
	if !errors.As(refused, &pe) || pe.Code != "53100" || !strings.Contains(pe.Message, "project size limit (40 MB) has been exceeded") {
		t.Fatalf("writes past the limit: %v; want SQLSTATE 53100 naming the 40 MB limit", refused)
	}
	for _, sql := range []string{`INSERT INTO big VALUES (1, 'x')`, `UPDATE big SET pad = 'y' WHERE id = 1`, `CREATE TABLE other(id int)`} {
		if err := exec(sql); err == nil {
			t.Errorf("%s: succeeded past the limit", sql)
		}
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM big`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("read past the limit: %d, %v", n, err)
	}
	if m := scrapeMetrics(t, g, g.Key); !strings.Contains(m, "grove_branches_over_size_limit 1\n") {
		t.Errorf("/metrics does not count the branch over its limit:\n%s", grepLines(m, "grove_branches_over_size_limit"))
	}
	// Another tenant is not held.
	if _, err := grovetest.Psql(t, paid.ConnectionURIs[0].ConnectionURI, "create table t as select g from generate_series(1, 100000) g"); err != nil {
		t.Fatalf("the other project: %v", err)
	}
	// Deleting data lets writes resume once measured.
	if err := exec(`TRUNCATE big`); err != nil {
		t.Fatalf("truncate past the limit: %v", err)
	}
	grovetest.WaitFor(t, "writes to resume", func() bool { return exec(`INSERT INTO big VALUES (1, 'x')`) == nil })
	if c := strings.Count(g.Logs(), "over its size limit"); c != 1 {
		t.Errorf("the log says %d times that the branch is over its limit; want once", c)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
