// Package rolesync makes a running compute's roles and databases match a
// branch's config as the metadata store records it: the drops and renames
// recorded since the last apply are replayed in order, then missing roles
// and databases are made (the first database from the warm cluster's spare
// one, which is fast), verifiers and owners updated. Every step checks the
// cluster first, so a repeat after a crash changes nothing. The statements
// come from computesql; the caller serialises applies of one branch and
// records what was applied.
package rolesync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/grovedb/grove/internal/computesql"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/reserved"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Compute is the running compute whose roles and databases Apply changes
// (a *compute.Instance).
type Compute interface {
	// Conn opens a connection to a database as the platform's admin role.
	Conn(ctx context.Context, db string) (*pgx.Conn, error)
	// Exec runs statements in a database as the platform's admin role.
	Exec(ctx context.Context, db, sql string) error
	// Major is the compute's Postgres major version.
	Major() int
}

// Apply makes the compute match cfg and returns the sequence number of the
// last change it replayed (0 when there was none).
func Apply(ctx context.Context, inst Compute, cfg metastore.BranchConfig) (int64, error) {
	conn, err := inst.Conn(ctx, "postgres")
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	c := &cluster{inst: inst, conn: conn}
	if err := c.read(ctx); err != nil {
		return 0, err
	}
	var last int64
	for _, ch := range cfg.Changes {
		switch ch.Kind {
		case "drop_role":
			err = c.dropRole(ctx, ch.Name)
		case "drop_database":
			err = c.dropDatabase(ctx, ch.Name)
		case "rename_database":
			err = c.renameDatabase(ctx, ch.Name, ch.NewName)
		default:
			err = fmt.Errorf("unknown change kind %q", ch.Kind)
		}
		if err != nil {
			return 0, fmt.Errorf("%s %q: %w", ch.Kind, ch.Name, err)
		}
		last = ch.Seq
	}
	for _, r := range cfg.Roles {
		if err := c.ensureRole(ctx, r); err != nil {
			return 0, fmt.Errorf("role %q: %w", r.Name, err)
		}
	}
	for _, d := range cfg.Databases {
		if err := c.ensureDatabase(ctx, d); err != nil {
			return 0, fmt.Errorf("database %q: %w", d.Name, err)
		}
	}
	return last, nil
}

// cluster is what Apply knows of a compute's roles and databases.
type cluster struct {
	inst  Compute
	conn  *pgx.Conn
	roles map[string]pgRole
	dbs   map[string]pgDatabase
}

type pgRole struct {
	secret   string
	canLogin bool
}

type pgDatabase struct {
	owner       string
	connectable bool
}

func (c *cluster) read(ctx context.Context) error {
	c.roles, c.dbs = map[string]pgRole{}, map[string]pgDatabase{}
	rows, err := c.conn.Query(ctx, computesql.Roles)
	if err != nil {
		return err
	}
	for rows.Next() {
		var name string
		var r pgRole
		if err := rows.Scan(&name, &r.secret, &r.canLogin); err != nil {
			rows.Close()
			return err
		}
		c.roles[name] = r
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = c.conn.Query(ctx, computesql.Databases)
	if err != nil {
		return err
	}
	for rows.Next() {
		var name string
		var d pgDatabase
		if err := rows.Scan(&name, &d.owner, &d.connectable); err != nil {
			rows.Close()
			return err
		}
		c.dbs[name] = d
	}
	return rows.Err()
}

func (c *cluster) exec(ctx context.Context, sql string, args ...any) error {
	_, err := c.conn.Exec(ctx, sql, args...)
	return err
}

func (c *cluster) ensureRole(ctx context.Context, r metastore.Role) error {
	login := r.Verifier != ""
	cur, ok := c.roles[r.Name]
	switch {
	case !ok:
		return c.exec(ctx, computesql.CreateRole(r.Name, r.Verifier, c.inst.Major()))
	case login && (cur.secret != r.Verifier || !cur.canLogin):
		return c.exec(ctx, computesql.SetPassword(r.Name, r.Verifier))
	}
	return nil
}

func (c *cluster) ensureDatabase(ctx context.Context, d metastore.Database) error {
	cur, ok := c.dbs[d.Name]
	if !ok {
		if spare, has := c.dbs[reserved.SpareDatabase]; has {
			if err := c.exec(ctx, computesql.RenameDatabase(reserved.SpareDatabase, d.Name)); err != nil {
				return err
			}
			delete(c.dbs, reserved.SpareDatabase)
			cur = spare
		} else {
			if err := c.exec(ctx, computesql.CreateDatabase(d.Name, d.OwnerName)); err != nil {
				return err
			}
			cur = pgDatabase{owner: d.OwnerName, connectable: true}
		}
		c.dbs[d.Name] = cur
	}
	if cur.owner != d.OwnerName {
		if err := c.exec(ctx, computesql.SetDatabaseOwner(d.Name, d.OwnerName)); err != nil {
			return err
		}
		cur.owner = d.OwnerName
		c.dbs[d.Name] = cur
	}
	return nil
}

func (c *cluster) dropDatabase(ctx context.Context, name string) error {
	if _, ok := c.dbs[name]; !ok {
		return nil
	}
	if err := c.exec(ctx, computesql.DropDatabase(name)); err != nil {
		return err
	}
	delete(c.dbs, name)
	return nil
}

// renameDatabase renames a database if it still has its old name; the
// sessions on it are ended first, as a rename requires.
func (c *cluster) renameDatabase(ctx context.Context, from, to string) error {
	cur, ok := c.dbs[from]
	if _, taken := c.dbs[to]; !ok || taken {
		return nil
	}
	var err error
	for try := 0; try < 5; try++ {
		if err = c.exec(ctx, computesql.EndDatabaseSessions, from); err != nil {
			return err
		}
		err = c.exec(ctx, computesql.RenameDatabase(from, to))
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "55006" { // object_in_use: a session came back
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	delete(c.dbs, from)
	c.dbs[to] = cur
	return nil
}

// dropRole ends the role's sessions, gives what it owns in each database to
// that database's owner (as Neon's compute does), drops its remaining
// privileges and then the role.
func (c *cluster) dropRole(ctx context.Context, name string) error {
	if _, ok := c.roles[name]; !ok {
		return nil
	}
	if err := c.exec(ctx, computesql.EndRoleSessions, name); err != nil {
		return err
	}
	for db, d := range c.dbs {
		if !d.connectable {
			continue
		}
		to := d.owner
		if to == name {
			to = pgrun.AdminRole
		}
		if err := c.inst.Exec(ctx, db, computesql.DisownRole(name, to)); err != nil {
			return fmt.Errorf("in database %q: %w", db, err)
		}
		if d.owner == name {
			d.owner = to
			c.dbs[db] = d
		}
	}
	if err := c.exec(ctx, computesql.DropRole(name)); err != nil {
		return err
	}
	delete(c.roles, name)
	return nil
}
