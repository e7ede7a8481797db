// Package metastore keeps Grove's metadata in Postgres through pgx: orgs,
// users, API keys, projects, branches, endpoints, roles, databases and
// operations. Schema changes are versioned SQL migrations embedded in the
// binary and applied at Open. It is the source of truth at reconciliation.
package metastore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a unique constraint refuses a row.
var ErrConflict = errors.New("already exists")

// Store is the metadata store.
type Store struct {
	pool *pgxpool.Pool
	// roles counts the writes that may change what GetEndpointRole
	// answers (a role's verifier, an endpoint's branch, an endpoint or
	// project gone). It moves after the write has committed, so that a
	// cache of answers stamped with the generation read before their
	// lookup is current exactly while the generation stays the same. One
	// Grove writes a store.
	roles atomic.Uint64
	// dataAPI: see DataAPIGeneration (dataapi.go).
	dataAPI atomic.Uint64
}

// RolesGeneration is the generation of role verifiers: a verifier looked up
// after reading generation g is current while RolesGeneration returns g.
func (s *Store) RolesGeneration() uint64 { return s.roles.Load() }

// rolesChanged is deferred by the writes RolesGeneration counts.
func (s *Store) rolesChanged() { s.roles.Add(1) }

// Open connects to url, applies pending migrations and returns the store.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse metadata url: %w", err)
	}
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect metadata store: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the connections.
func (s *Store) Close() { s.pool.Close() }

// migrate applies every embedded migration newer than the recorded version,
// each in its own transaction, serialised by an advisory lock so that two
// Grove processes sharing an external store do not race.
func (s *Store) migrate(ctx context.Context) error {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(7438219)`); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7438219)`)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: bad migration name %s", base)
		}
		if v <= current {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: apply %s: %w", base, err)
		}
	}
	return nil
}

// mapErr turns pgx's no-rows and unique violations into the package's sentinels.
func mapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("%s: %w (%s)", what, ErrConflict, pgErr.ConstraintName)
	}
	return fmt.Errorf("%s: %w", what, err)
}
