package sizelimit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/sizelimit"
)

func TestMessage(t *testing.T) {
	if got, want := sizelimit.Message(512<<20), "could not extend file because project size limit (512 MB) has been exceeded"; got != want {
		t.Fatalf("Message = %q, want %q", got, want)
	}
}

// TestApplyLift: on every installed major, a project's role (owner of its
// tables, not a superuser) past the limit cannot grow its data nor take the
// guard off, can still read and delete, and writes again once lifted.
func TestApplyLift(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	for _, in := range pgtest.Installs(t) {
		t.Run(fmt.Sprint(in.Major), func(t *testing.T) {
			srv := pgtest.StartMajor(t, in.Major)
			srv.Exec(t, "postgres", `CREATE ROLE app LOGIN CREATEDB PASSWORD 'pw'`)
			srv.Exec(t, "postgres", `CREATE DATABASE app OWNER app`)
			ctx := t.Context()
			tenant, err := pgx.Connect(ctx, srv.DSN("app", "app")+" password=pw")
			if err != nil {
				t.Fatal(err)
			}
			defer tenant.Close(context.Background())
			exec := func(sql string) error {
				_, err := tenant.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol)
				return err
			}
			for _, sql := range []string{
				`CREATE TABLE t(id int PRIMARY KEY, v text)`, `INSERT INTO t SELECT g, 'x' FROM generate_series(1, 100) g`,
				`CREATE TABLE p(id int) PARTITION BY RANGE (id)`, `CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (1000)`,
				`CREATE TABLE "odd ""name"""(id int)`,
			} {
				if err := exec(sql); err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
			admin := srv.Conn(t, "app")
			if err := sizelimit.Apply(ctx, admin, 512<<20); err != nil {
				t.Fatal(err)
			}
			// Twice: idempotent.
			if err := sizelimit.Apply(ctx, admin, 512<<20); err != nil {
				t.Fatal(err)
			}
			for _, sql := range []string{
				`INSERT INTO t VALUES (1000, 'y')`,
				`UPDATE t SET v = 'z' WHERE id = 1`,
				`INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET v = 'w'`,
				`COPY t FROM PROGRAM 'true'`,
				`INSERT INTO p VALUES (1)`,
				`INSERT INTO p1 VALUES (2)`,
				`INSERT INTO "odd ""name""" VALUES (1)`,
				`CREATE TABLE t2(id int)`,
				`CREATE TABLE t3 AS SELECT * FROM t`,
				`SELECT * INTO t4 FROM t`,
				`CREATE INDEX ON t(v)`,
				`ALTER TABLE t DISABLE TRIGGER ALL`,
				`ALTER TABLE t DISABLE TRIGGER grove_size_limit`,
				`DROP TRIGGER grove_size_limit ON t`,
				`CREATE MATERIALIZED VIEW mv AS SELECT * FROM t`,
				`DROP EVENT TRIGGER grove_size_limit`,
				`DROP FUNCTION grove.grove_size_limit() CASCADE`,
			} {
				err := exec(sql)
				if err == nil {
					t.Errorf("%s: succeeded past the limit", sql)
				} else if sql != `COPY t FROM PROGRAM 'true'` && !sizelimit.IsLimitError(err) &&
					sql != `DROP EVENT TRIGGER grove_size_limit` && sql != `DROP FUNCTION grove.grove_size_limit() CASCADE` {
					t.Errorf("%s: %v; want the size limit's error", sql, err)
				}
			}
			var n int
			if err := tenant.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 100 {
				t.Fatalf("read past the limit: %d, %v", n, err)
			}
			for _, sql := range []string{`DELETE FROM t WHERE id > 50`, `TRUNCATE p1`, `DROP TABLE "odd ""name"""`, `VACUUM t`} {
				if err := exec(sql); err != nil {
					t.Errorf("%s past the limit: %v", sql, err)
				}
			}
			if err := sizelimit.Lift(ctx, admin); err != nil {
				t.Fatal(err)
			}
			for _, sql := range []string{`INSERT INTO t VALUES (1000, 'y')`, `UPDATE t SET v = 'z'`, `CREATE TABLE t2(id int)`, `INSERT INTO p VALUES (1)`} {
				if err := exec(sql); err != nil {
					t.Errorf("%s once lifted: %v", sql, err)
				}
			}
		})
	}
}

func TestNextSample(t *testing.T) {
	const every = 30 * time.Second
	for _, tc := range []struct {
		name        string
		limit, size int64
		want        time.Duration
	}{
		{"no limit", 0, 1 << 40, every},
		{"far from the limit", 512 << 20, 10 << 20, sizelimit.LimitedInterval},
		{"past half", 512 << 20, 300 << 20, sizelimit.NearInterval},
		{"over", 512 << 20, 600 << 20, sizelimit.NearInterval},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sizelimit.NextSample(tc.limit, tc.size, every); got != tc.want {
				t.Fatalf("NextSample = %v, want %v", got, tc.want)
			}
		})
	}
	if got := sizelimit.NextSample(512<<20, 600<<20, time.Second); got != time.Second {
		t.Fatalf("a shorter sampling interval wins: %v", got)
	}
}

// connsFunc opens connections to a test server's databases.
type connsFunc func(ctx context.Context, db string) (*pgx.Conn, error)

func (f connsFunc) Conn(ctx context.Context, db string) (*pgx.Conn, error) { return f(ctx, db) }

// TestHold: the guard goes on in every database that accepts connections,
// and comes off in each again.
func TestHold(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	srv := pgtest.Start(t)
	for _, db := range []string{"a", "b"} {
		srv.Exec(t, "postgres", "CREATE DATABASE "+db)
		srv.Exec(t, db, `CREATE TABLE t(id int)`)
	}
	srv.Exec(t, "postgres", `CREATE DATABASE closed ALLOW_CONNECTIONS false`)
	ctx := t.Context()
	c := connsFunc(srv.Connect)
	guarded := func(db string) bool {
		t.Helper()
		var n int
		if err := srv.Conn(t, db).QueryRow(ctx, `SELECT count(*) FROM pg_event_trigger WHERE evtname = $1`, sizelimit.Name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	if err := sizelimit.Hold(ctx, c, 1<<20, true); err != nil {
		t.Fatal(err)
	}
	for _, db := range []string{"postgres", "a", "b"} {
		if !guarded(db) {
			t.Errorf("database %s: no guard past the limit", db)
		}
	}
	if err := sizelimit.Hold(ctx, c, 1<<20, false); err != nil {
		t.Fatal(err)
	}
	for _, db := range []string{"postgres", "a", "b"} {
		if guarded(db) {
			t.Errorf("database %s: guard left once under the limit", db)
		}
	}
}
