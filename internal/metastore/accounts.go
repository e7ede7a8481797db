package metastore

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Bootstrap is the first start's admin user, orgs and personal key.
type Bootstrap struct {
	User    User
	Orgs    []Org
	KeyHash []byte
	KeyName string
}

// IsBootstrapped reports whether a user exists already.
func (s *Store) IsBootstrapped(ctx context.Context) (bool, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n > 0, mapErr("check bootstrap", err)
}

// CreateBootstrap writes the admin user, the orgs (the user is admin of
// each) and the user's first personal API key in one transaction.
func (s *Store) CreateBootstrap(ctx context.Context, b Bootstrap) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO users (id, email, name, created_at) VALUES ($1,$2,$3,$4)`,
			b.User.ID, b.User.Email, b.User.Name, b.User.CreatedAt); err != nil {
			return err
		}
		for _, o := range b.Orgs {
			if _, err := tx.Exec(ctx, `INSERT INTO orgs (id, name, handle, plan, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$5)`,
				o.ID, o.Name, o.Handle, o.Plan, o.CreatedAt); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO org_members (id, org_id, user_id, role, joined_at) VALUES ($1,$2,$3,'admin',$4)`,
				uuid.New(), o.ID, b.User.ID, o.CreatedAt); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO api_keys (kind, name, hash, user_id, created_by, created_at) VALUES ('personal',$1,$2,$3,$3,$4)`,
			b.KeyName, b.KeyHash, b.User.ID, b.User.CreatedAt)
		return err
	})
	return mapErr("bootstrap", err)
}

// KeyByHash finds a live API key by the hash of its secret. Its use is
// recorded at most once a minute, so that reads do not each cost a commit.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (APIKey, error) {
	var k APIKey
	var org, project *string
	err := s.pool.QueryRow(ctx, `SELECT id, kind, name, user_id, org_id, project_id, created_by, created_at, last_used_at
		FROM api_keys WHERE hash = $1 AND NOT revoked`, hash).
		Scan(&k.ID, &k.Kind, &k.Name, &k.UserID, &org, &project, &k.CreatedBy, &k.CreatedAt, &k.LastUsedAt)
	if err != nil {
		return k, mapErr("api key", err)
	}
	if org != nil {
		k.OrgID = *org
	}
	if project != nil {
		k.ProjectID = *project
	}
	if k.LastUsedAt == nil || time.Since(*k.LastUsedAt) > time.Minute {
		if _, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = now() WHERE id = $1`, k.ID); err != nil {
			return k, mapErr("api key", err)
		}
	}
	return k, nil
}

// GetUser returns a user.
func (s *Store) GetUser(ctx context.Context, id uuid.UUID) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx, `SELECT id, email, name, created_at FROM users WHERE id = $1`, id).
		Scan(&u.ID, &u.Email, &u.Name, &u.CreatedAt)
	return u, mapErr("get user", err)
}

const orgCols = `o.id, o.name, o.handle, o.plan, o.created_at, o.updated_at`

func scanOrg(row pgx.Row) (Org, error) {
	var o Org
	err := row.Scan(&o.ID, &o.Name, &o.Handle, &o.Plan, &o.CreatedAt, &o.UpdatedAt)
	return o, err
}

// UserOrgs returns the orgs a user is a member of.
func (s *Store) UserOrgs(ctx context.Context, userID uuid.UUID) ([]Org, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+orgCols+` FROM orgs o JOIN org_members m ON m.org_id = o.id
		WHERE m.user_id = $1 ORDER BY o.created_at, o.id`, userID)
	if err != nil {
		return nil, mapErr("user orgs", err)
	}
	return collect(rows, scanOrg)
}

// GetOrg returns an org.
func (s *Store) GetOrg(ctx context.Context, id string) (Org, error) {
	o, err := scanOrg(s.pool.QueryRow(ctx, `SELECT `+orgCols+` FROM orgs o WHERE o.id = $1`, id))
	return o, mapErr("get org "+id, err)
}

// OrgByName returns an org by name.
func (s *Store) OrgByName(ctx context.Context, name string) (Org, error) {
	o, err := scanOrg(s.pool.QueryRow(ctx, `SELECT `+orgCols+` FROM orgs o WHERE o.name = $1`, name))
	return o, mapErr("get org "+name, err)
}

// ProjectPlan returns the plan of a project's organization.
func (s *Store) ProjectPlan(ctx context.Context, projectID string) (string, error) {
	var plan string
	err := s.pool.QueryRow(ctx, `SELECT o.plan FROM projects p JOIN orgs o ON o.id = p.org_id WHERE p.id = $1`, projectID).Scan(&plan)
	return plan, mapErr("plan of project "+projectID, err)
}
