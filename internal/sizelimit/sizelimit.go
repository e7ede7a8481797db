// Package sizelimit holds a compute's cluster to its project's logical size
// limit, as Neon's does: past the limit, writes that would grow the data
// (INSERT, UPDATE, COPY FROM, and the DDL that makes or rewrites relations)
// fail with an error naming the limit, while reads, DELETE, TRUNCATE and
// DROP keep working, so that deleting data (or a raised limit) lets writes
// resume.
//
// Vanilla Postgres has no hook on relation extension that SQL can reach,
// so the limit is held by catalog objects Grove's superuser installs in
// every database once the platform measures the cluster over its limit:
// a statement trigger on every table that refuses INSERT and UPDATE, and
// an event trigger that refuses, to every role but a superuser, the DDL
// that could take the triggers off (DROP TRIGGER, ALTER TABLE) or make new
// relations. A project's role can remove neither: the event trigger is the
// superuser's, and event triggers fire for every role. Both are removed once the
// cluster is measured under its limit again.
//
// What this does not hold: large objects, sequences and CREATE DATABASE
// (a new database is covered at the next measurement) still write; the
// platform measures at most every few seconds, so a fast writer can pass
// the limit by what it writes in between.
package sizelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/grovedb/grove/internal/computesql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Name names the triggers, functions and event trigger.
const Name = "grove_size_limit"

// SQLState is disk_full, as Neon's error.
const SQLState = "53100"

// Message is the error a write past the limit gets (Neon's text).
func Message(limitBytes int64) string {
	return "could not extend file because project size limit (" + strconv.FormatInt(limitBytes>>20, 10) + " MB) has been exceeded"
}

// Hint says how to get below the limit.
const Hint = "Delete data (DELETE, TRUNCATE or DROP) or raise the project's limit: writes resume within seconds of the size falling below it."

// ddlTags are the commands refused past the limit: those that make or
// rewrite relations, and those that could take the triggers off.
var ddlTags = []string{
	"ALTER TABLE", "DROP TRIGGER", "CREATE TRIGGER", "ALTER TRIGGER", "CREATE TABLE", "CREATE TABLE AS", "SELECT INTO",
	"CREATE INDEX", "ALTER INDEX", "CREATE MATERIALIZED VIEW", "REFRESH MATERIALIZED VIEW", "CREATE EXTENSION",
}

func quote(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

// setupSQL makes, in one database, the functions and the event trigger.
func setupSQL(limitBytes int64) string {
	raise := `RAISE EXCEPTION USING ERRCODE = '` + SQLState + `', MESSAGE = ` + quote(Message(limitBytes)) +
		`, HINT = ` + quote(Hint) + `;`
	tags := ""
	for i, t := range ddlTags {
		if i > 0 {
			tags += ", "
		}
		tags += quote(t)
	}
	return `CREATE SCHEMA IF NOT EXISTS grove;
REVOKE ALL ON SCHEMA grove FROM PUBLIC;
CREATE OR REPLACE FUNCTION grove.` + Name + `() RETURNS trigger LANGUAGE plpgsql
  SET search_path = pg_catalog AS $f$ BEGIN ` + raise + ` END $f$;
CREATE OR REPLACE FUNCTION grove.` + Name + `_ddl() RETURNS event_trigger LANGUAGE plpgsql
  SET search_path = pg_catalog AS $f$ BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN RETURN; END IF; -- Grove's own
  ` + raise + ` END $f$;
DO $d$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = '` + Name + `') THEN
    CREATE EVENT TRIGGER ` + Name + ` ON ddl_command_start WHEN TAG IN (` + tags + `)
      EXECUTE FUNCTION grove.` + Name + `_ddl();
  END IF;
END $d$`
}

// unguardedSQL lists the tables of a database without the trigger: every
// ordinary and partitioned table outside the system schemas, temporary
// ones included.
const unguardedSQL = `SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'grove')
  AND n.nspname NOT LIKE 'pg\_toast%'
  AND NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = '` + Name + `')`

// Apply holds the database conn is connected to (as a superuser) to the
// limit: it is idempotent, and covers tables made since it last ran. A
// table another transaction holds locked is skipped (lock timeout) and
// returned in the error; the next Apply covers it.
func Apply(ctx context.Context, conn *pgx.Conn, limitBytes int64) error {
	if _, err := conn.Exec(ctx, setupSQL(limitBytes), pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("size limit: %w", err)
	}
	rows, err := conn.Query(ctx, unguardedSQL)
	if err != nil {
		return fmt.Errorf("size limit: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("size limit: %w", err)
	}
	if _, err := conn.Exec(ctx, "SET lock_timeout = '200ms'"); err != nil {
		return fmt.Errorf("size limit: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "RESET lock_timeout") //nolint:errcheck // best effort on a connection that may be closing
	var errs []error
	for _, t := range tables {
		// t is regclass text: quoted as an identifier already.
		sql := `CREATE TRIGGER ` + Name + ` BEFORE INSERT OR UPDATE ON ` + t +
			` FOR EACH STATEMENT EXECUTE FUNCTION grove.` + Name + `()`
		if _, err := conn.Exec(ctx, sql); err != nil {
			errs = append(errs, fmt.Errorf("table %s: %w", t, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("size limit: %w", errors.Join(errs...))
	}
	return nil
}

// Lift removes what Apply installed in the database conn is connected to.
func Lift(ctx context.Context, conn *pgx.Conn) error {
	var present bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = '`+Name+`')
		OR EXISTS (SELECT FROM pg_trigger WHERE tgname = '`+Name+`')`).Scan(&present); err != nil {
		return fmt.Errorf("size limit: %w", err)
	}
	if !present {
		return nil
	}
	// The event trigger goes first: it refuses DROP TRIGGER.
	if _, err := conn.Exec(ctx, `DROP EVENT TRIGGER IF EXISTS `+Name); err != nil {
		return fmt.Errorf("size limit: %w", err)
	}
	// Dropping the function drops every trigger on it.
	if _, err := conn.Exec(ctx, `DROP FUNCTION IF EXISTS grove.`+Name+`() CASCADE; DROP FUNCTION IF EXISTS grove.`+Name+`_ddl()`,
		pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("size limit: %w", err)
	}
	return nil
}

// IsLimitError reports whether err is a write refused past the limit.
func IsLimitError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == SQLState
}

// Intervals between two measurements of a compute whose project has a
// size limit: past half of it (or over it) a write burst has less room.
const (
	LimitedInterval = 5 * time.Second
	NearInterval    = 2 * time.Second
)

// NextSample is how long to wait before measuring a branch of size
// against its limit again (0: none), every at most.
func NextSample(limit, size int64, every time.Duration) time.Duration {
	switch {
	case limit == 0:
		return every
	case size >= limit/2:
		return min(every, NearInterval)
	default:
		return min(every, LimitedInterval)
	}
}

// Conns opens admin connections to a cluster's databases (a running
// compute).
type Conns interface {
	Conn(ctx context.Context, db string) (*pgx.Conn, error)
}

// Hold applies the limit (over) or lifts it (Apply, Lift) in every
// database of a cluster that accepts connections.
func Hold(ctx context.Context, c Conns, limitBytes int64, over bool) error {
	return eachDatabase(ctx, c, func(conn *pgx.Conn) error {
		if over {
			return Apply(ctx, conn, limitBytes)
		}
		return Lift(ctx, conn)
	})
}

// eachDatabase runs f on an admin connection to each database of c that
// accepts connections.
func eachDatabase(ctx context.Context, c Conns, f func(*pgx.Conn) error) error {
	conn, err := c.Conn(ctx, "postgres")
	if err != nil {
		return err
	}
	rows, err := conn.Query(ctx, computesql.ConnectableDatabases)
	var dbs []string
	if err == nil {
		dbs, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err == nil {
		err = f(conn)
	}
	conn.Close(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	for _, db := range dbs {
		if db == "postgres" {
			continue
		}
		c, err := c.Conn(ctx, db)
		if err != nil {
			return err
		}
		err = f(c)
		c.Close(context.WithoutCancel(ctx))
		if err != nil {
			return err
		}
	}
	return nil
}
