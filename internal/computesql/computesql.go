// Package computesql writes the SQL Grove sends to a compute to manage its
// roles and databases and to empty a schema-only branch. Its functions are
// pure: they return statement text (with $n parameters where a value can
// be bound) and open no connection. Names reach the text only through
// Ident and values only through Literal or a parameter.
package computesql

import (
	"strings"

	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/reserved"
	"github.com/jackc/pgx/v5"
)

// Ident quotes a name as an SQL identifier.
func Ident(s string) string { return pgx.Identifier{s}.Sanitize() }

// Literal quotes a value as an SQL string literal (standard_conforming_strings
// is on in every compute).
func Literal(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// Setup makes a project's owner role and database from the warm cluster's
// spare database, idempotently (a first start after a crash may run it
// again). It is one statement, so one commit. The dollar-quote tag is
// random so that no name can end the block.
func Setup(role, verifier, db string, major int) string {
	tag := "$g" + ids.LowerAlnum(16) + "$"
	return `DO ` + tag + ` BEGIN
IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ` + Literal(role) + `) THEN
  EXECUTE format('CREATE ROLE %I WITH LOGIN ` + pgrun.TenantRoleOptions(major) + ` PASSWORD %L', ` + Literal(role) + `, ` + Literal(verifier) + `);
END IF;
IF NOT EXISTS (SELECT FROM pg_database WHERE datname = ` + Literal(db) + `) THEN
  EXECUTE format('ALTER DATABASE ` + reserved.SpareDatabase + ` RENAME TO %I', ` + Literal(db) + `);
END IF;
EXECUTE format('ALTER DATABASE %I OWNER TO %I', ` + Literal(db) + `, ` + Literal(role) + `);
END ` + tag
}

// Roles lists a cluster's roles: name, SCRAM secret ("" without one),
// whether it can log in.
const Roles = `SELECT rolname, coalesce(rolpassword, ''), rolcanlogin FROM pg_authid`

// Databases lists a cluster's databases: name, owner, whether a client can
// connect to it.
const Databases = `SELECT datname, pg_get_userbyid(datdba), datallowconn AND NOT datistemplate FROM pg_database`

// ConnectableDatabases lists the names of the databases a client can
// connect to.
const ConnectableDatabases = `SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate`

// Sample reads, in one round trip, a compute's logical size (the databases
// a user sees: Grove's spare database and the templates are not the
// branch's data) and its WAL position.
const Sample = `SELECT (SELECT coalesce(sum(pg_database_size(oid)), 0) FROM pg_database
		WHERE datname NOT IN ('template0', 'template1', '` + reserved.SpareDatabase + `'))::bigint,
	pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint`

// CreateRole makes a tenant role of a Postgres major version; a role
// without a verifier cannot log in.
func CreateRole(name, verifier string, major int) string {
	if verifier == "" {
		return `CREATE ROLE ` + Ident(name) + ` WITH NOLOGIN ` + pgrun.TenantRoleOptions(major)
	}
	return `CREATE ROLE ` + Ident(name) + ` WITH LOGIN ` + pgrun.TenantRoleOptions(major) + ` PASSWORD ` + Literal(verifier)
}

// SetPassword lets a role log in with a SCRAM verifier.
func SetPassword(name, verifier string) string {
	return `ALTER ROLE ` + Ident(name) + ` WITH LOGIN PASSWORD ` + Literal(verifier)
}

// CreateDatabase makes a database owned by a role.
func CreateDatabase(name, owner string) string {
	return `CREATE DATABASE ` + Ident(name) + ` OWNER ` + Ident(owner)
}

// RenameDatabase renames a database; it fails while sessions are on it.
func RenameDatabase(from, to string) string {
	return `ALTER DATABASE ` + Ident(from) + ` RENAME TO ` + Ident(to)
}

// SetDatabaseOwner gives a database to a role.
func SetDatabaseOwner(name, owner string) string {
	return `ALTER DATABASE ` + Ident(name) + ` OWNER TO ` + Ident(owner)
}

// DropDatabase drops a database, ending the sessions on it.
func DropDatabase(name string) string {
	return `DROP DATABASE IF EXISTS ` + Ident(name) + ` WITH (FORCE)`
}

// EndDatabaseSessions ends the other sessions on the database named by $1.
const EndDatabaseSessions = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`

// EndRoleSessions ends the sessions of the role named by $1.
const EndRoleSessions = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`

// DisownRole gives what a role owns in the current database to another
// role and drops its remaining privileges there, so that it can be dropped.
func DisownRole(name, to string) string {
	return `REASSIGN OWNED BY ` + Ident(name) + ` TO ` + Ident(to) + `; DROP OWNED BY ` + Ident(name)
}

// DropRole drops a role.
func DropRole(name string) string { return `DROP ROLE IF EXISTS ` + Ident(name) }

// TruncateUserTables empties every ordinary and partitioned table of the
// current database outside the system schemas, except extensions' own
// tables, in one TRUNCATE (so that foreign keys between them do not
// matter). Sequences keep their values.
const TruncateUserTables = `DO $grove$
DECLARE tables text;
BEGIN
  SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ') INTO tables
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e');
  IF tables IS NOT NULL THEN
    EXECUTE 'TRUNCATE ' || tables;
  END IF;
END $grove$`
