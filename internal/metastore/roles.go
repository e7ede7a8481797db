package metastore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Errors of role and database changes that callers branch on.
var (
	// ErrNoSuchOwner: a database's owner is not a role of its branch.
	ErrNoSuchOwner = errors.New("database owner not found")
	// ErrRoleOwnsDatabase: a role still owns a database of its branch.
	ErrRoleOwnsDatabase = errors.New("role owns a database")
)

// ConfigChange is a drop or rename still to be replayed on a branch's
// compute; creates and updates converge from the recorded state alone.
type ConfigChange struct {
	Seq           int64
	Kind          string // drop_role | drop_database | rename_database
	Name, NewName string
}

// BranchConfig is what a branch's compute must converge to, read in one
// snapshot.
type BranchConfig struct {
	Pending   bool
	Version   int64
	Roles     []Role
	Databases []Database
	Changes   []ConfigChange
}

// GetBranchConfig reads a branch's pending flag, roles, databases and
// changes still to replay, consistently.
func (s *Store) GetBranchConfig(ctx context.Context, branchID string) (BranchConfig, error) {
	var c BranchConfig
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT setup_pending, config_version FROM branches WHERE id = $1`, branchID).
			Scan(&c.Pending, &c.Version); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+roleCols+` FROM roles WHERE branch_id = $1 ORDER BY created_at, name`, branchID)
		if err != nil {
			return err
		}
		if c.Roles, err = collect(rows, scanRole); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT `+databaseCols+` FROM databases WHERE branch_id = $1 ORDER BY id`, branchID)
		if err != nil {
			return err
		}
		if c.Databases, err = collect(rows, scanDatabase); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT seq, kind, name, coalesce(new_name, '') FROM config_changes
			WHERE branch_id = $1 ORDER BY seq`, branchID)
		if err != nil {
			return err
		}
		c.Changes, err = collect(rows, func(row pgx.Row) (ConfigChange, error) {
			var ch ConfigChange
			err := row.Scan(&ch.Seq, &ch.Kind, &ch.Name, &ch.NewName)
			return ch, err
		})
		return err
	})
	return c, mapErr("get branch config "+branchID, err)
}

// ClearConfigPending records that a compute has applied the branch's
// config of the given version: the replayed changes (up to throughSeq) are
// removed, and the pending flag is cleared unless a newer change came since.
func (s *Store) ClearConfigPending(ctx context.Context, branchID string, version, throughSeq int64) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM config_changes WHERE branch_id = $1 AND seq <= $2`, branchID, throughSeq); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE branches SET setup_pending = false WHERE id = $1 AND config_version = $2`, branchID, version)
		return err
	})
	return mapErr("clear config pending "+branchID, err)
}

// configChanged marks a branch's compute config as pending, within tx.
func configChanged(ctx context.Context, tx pgx.Tx, branchID string, changes ...ConfigChange) error {
	for _, ch := range changes {
		if _, err := tx.Exec(ctx, `INSERT INTO config_changes (branch_id, kind, name, new_name) VALUES ($1, $2, $3, $4)`,
			branchID, ch.Kind, ch.Name, nullable(ch.NewName)); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `UPDATE branches SET setup_pending = true, config_version = config_version + 1 WHERE id = $1`, branchID)
	return err
}

const databaseCols = `id, branch_id, name, owner_name, created_at, updated_at`

func scanDatabase(row pgx.Row) (Database, error) {
	var d Database
	err := row.Scan(&d.ID, &d.BranchID, &d.Name, &d.OwnerName, &d.CreatedAt, &d.UpdatedAt)
	return d, err
}

// GetDatabase returns a database of a branch.
func (s *Store) GetDatabase(ctx context.Context, branchID, name string) (Database, error) {
	d, err := scanDatabase(s.pool.QueryRow(ctx, `SELECT `+databaseCols+` FROM databases WHERE branch_id = $1 AND name = $2`, branchID, name))
	return d, mapErr(fmt.Sprintf("get database %q", name), err)
}

func ownerExists(ctx context.Context, tx pgx.Tx, branchID, owner string) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM roles WHERE branch_id = $1 AND name = $2)`, branchID, owner).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return ErrNoSuchOwner
	}
	return nil
}

// InsertDatabase records a new database of a branch (its owner must be a
// role of the branch) and marks the branch's config pending.
func (s *Store) InsertDatabase(ctx context.Context, d Database) (Database, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := ownerExists(ctx, tx, d.BranchID, d.OwnerName); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO databases (branch_id, name, owner_name, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, d.BranchID, d.Name, d.OwnerName, d.CreatedAt, d.UpdatedAt).Scan(&d.ID); err != nil {
			return err
		}
		return configChanged(ctx, tx, d.BranchID)
	})
	return d, mapErr(fmt.Sprintf("create database %q", d.Name), err)
}

// UpdateDatabase renames a database and/or changes its owner (empty means
// unchanged) and marks the branch's config pending.
func (s *Store) UpdateDatabase(ctx context.Context, branchID, name, newName, newOwner string, at time.Time) (Database, error) {
	defer s.DataAPIChanged()
	var d Database
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if newOwner != "" {
			if err := ownerExists(ctx, tx, branchID, newOwner); err != nil {
				return err
			}
		}
		var err error
		d, err = scanDatabase(tx.QueryRow(ctx, `UPDATE databases SET name = coalesce($3, name), owner_name = coalesce($4, owner_name),
			updated_at = $5 WHERE branch_id = $1 AND name = $2 RETURNING `+databaseCols, branchID, name, nullable(newName), nullable(newOwner), at))
		if err != nil {
			return err
		}
		var changes []ConfigChange
		if newName != "" && newName != name {
			changes = append(changes, ConfigChange{Kind: "rename_database", Name: name, NewName: newName})
			if err := databaseGoneTx(ctx, tx, branchID, name, newName); err != nil {
				return err
			}
		}
		return configChanged(ctx, tx, branchID, changes...)
	})
	return d, mapErr(fmt.Sprintf("update database %q", name), err)
}

// DeleteDatabase removes a database of a branch and records its drop.
func (s *Store) DeleteDatabase(ctx context.Context, branchID, name string) (Database, error) {
	defer s.DataAPIChanged()
	var d Database
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		d, err = scanDatabase(tx.QueryRow(ctx, `DELETE FROM databases WHERE branch_id = $1 AND name = $2 RETURNING `+databaseCols, branchID, name))
		if err != nil {
			return err
		}
		if err := databaseGoneTx(ctx, tx, branchID, name, ""); err != nil {
			return err
		}
		return configChanged(ctx, tx, branchID, ConfigChange{Kind: "drop_database", Name: name})
	})
	return d, mapErr(fmt.Sprintf("delete database %q", name), err)
}

// InsertRole records a new role of a branch and marks its config pending.
func (s *Store) InsertRole(ctx context.Context, r Role) error {
	defer s.rolesChanged()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO roles (branch_id, name, verifier, sealed_password, protected, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.BranchID, r.Name, nullable(r.Verifier), r.SealedPassword, r.Protected,
			r.CreatedAt, r.UpdatedAt); err != nil {
			return err
		}
		return configChanged(ctx, tx, r.BranchID)
	})
	return mapErr(fmt.Sprintf("create role %q", r.Name), err)
}

// SetRolePassword replaces a role's verifier and sealed password (nil when
// the project does not store passwords) and marks the config pending.
func (s *Store) SetRolePassword(ctx context.Context, branchID, name, verifier string, sealed []byte, at time.Time) (Role, error) {
	defer s.rolesChanged()
	var r Role
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		r, err = scanRole(tx.QueryRow(ctx, `UPDATE roles SET verifier = $3, sealed_password = $4, updated_at = $5
			WHERE branch_id = $1 AND name = $2 RETURNING `+roleCols, branchID, name, verifier, sealed, at))
		if err != nil {
			return err
		}
		return configChanged(ctx, tx, branchID)
	})
	return r, mapErr(fmt.Sprintf("reset password of role %q", name), err)
}

// DeleteRole removes a role of a branch that owns none of its databases and
// records its drop.
func (s *Store) DeleteRole(ctx context.Context, branchID, name string) (Role, error) {
	defer s.rolesChanged()
	var r Role
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var owns bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM databases WHERE branch_id = $1 AND owner_name = $2)`,
			branchID, name).Scan(&owns); err != nil {
			return err
		}
		var err error
		r, err = scanRole(tx.QueryRow(ctx, `DELETE FROM roles WHERE branch_id = $1 AND name = $2 RETURNING `+roleCols, branchID, name))
		if err != nil {
			return err
		}
		if owns {
			return ErrRoleOwnsDatabase
		}
		return configChanged(ctx, tx, branchID, ConfigChange{Kind: "drop_role", Name: name})
	})
	return r, mapErr(fmt.Sprintf("delete role %q", name), err)
}
