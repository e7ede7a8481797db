package metastore

import (
	"context"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// KeyListing is an API key as listed: never its secret, with its creator's
// name for Neon's created_by object.
type KeyListing struct {
	APIKey
	CreatorName string
	Revoked     bool
}

// KeyScope selects the keys a list or revoke may touch: the personal keys
// of a user, or the org and project-scoped keys of an org.
type KeyScope struct {
	UserID uuid.UUID // personal keys of this user, when OrgID is empty
	OrgID  string    // org and project keys of this org
}

func (sc KeyScope) where(first int) (string, []any) {
	if sc.OrgID != "" {
		return `k.kind IN ('org', 'project') AND k.org_id = $` + strconv.Itoa(first), []any{sc.OrgID}
	}
	return `k.kind = 'personal' AND k.user_id = $` + strconv.Itoa(first), []any{sc.UserID}
}

const keyCols = `k.id, k.kind, k.name, k.user_id, k.org_id, k.project_id, k.created_by, k.created_at, k.last_used_at, k.revoked, coalesce(u.name, '')`

func scanKey(row pgx.Row) (KeyListing, error) {
	var k KeyListing
	var org, project *string
	err := row.Scan(&k.ID, &k.Kind, &k.Name, &k.UserID, &org, &project, &k.CreatedBy, &k.CreatedAt, &k.LastUsedAt, &k.Revoked, &k.CreatorName)
	if org != nil {
		k.OrgID = *org
	}
	if project != nil {
		k.ProjectID = *project
	}
	return k, err
}

// CreateKey stores a new API key by the hash of its secret and returns it
// with its id.
func (s *Store) CreateKey(ctx context.Context, k APIKey, hash []byte) (APIKey, error) {
	var org, project *string
	if k.OrgID != "" {
		org = &k.OrgID
	}
	if k.ProjectID != "" {
		project = &k.ProjectID
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO api_keys (kind, name, hash, user_id, org_id, project_id, created_by, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id`,
		k.Kind, k.Name, hash, k.UserID, org, project, k.CreatedBy, k.CreatedAt).Scan(&k.ID)
	return k, mapErr("create api key", err)
}

// ListKeys returns the live keys of a scope, oldest first.
func (s *Store) ListKeys(ctx context.Context, sc KeyScope) ([]KeyListing, error) {
	cond, args := sc.where(1)
	rows, err := s.pool.Query(ctx, `SELECT `+keyCols+` FROM api_keys k LEFT JOIN users u ON u.id = k.created_by
		WHERE NOT k.revoked AND `+cond+` ORDER BY k.id`, args...)
	if err != nil {
		return nil, mapErr("list api keys", err)
	}
	return collect(rows, scanKey)
}

// RevokeKey revokes a live key of a scope and returns it; ErrNotFound when
// the scope has no such live key. A revoked key stops authenticating at
// once: KeyByHash reads only live keys.
func (s *Store) RevokeKey(ctx context.Context, sc KeyScope, id int64) (KeyListing, error) {
	cond, args := sc.where(2)
	k, err := scanKey(s.pool.QueryRow(ctx, `WITH r AS (
			UPDATE api_keys k SET revoked = true WHERE k.id = $1 AND NOT k.revoked AND `+cond+` RETURNING k.*)
		SELECT `+keyCols+` FROM r k LEFT JOIN users u ON u.id = k.created_by`, append([]any{id}, args...)...))
	return k, mapErr("revoke api key", err)
}

// MemberWithUser is an org membership with the member's email.
type MemberWithUser struct {
	Member
	Email string
}

// OrgMembers returns the members of an org.
func (s *Store) OrgMembers(ctx context.Context, orgID string) ([]MemberWithUser, error) {
	rows, err := s.pool.Query(ctx, `SELECT m.id, m.org_id, m.user_id, m.role, m.joined_at, u.email
		FROM org_members m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY m.joined_at, m.id`, orgID)
	if err != nil {
		return nil, mapErr("org members", err)
	}
	return collect(rows, func(row pgx.Row) (MemberWithUser, error) {
		var m MemberWithUser
		err := row.Scan(&m.ID, &m.OrgID, &m.UserID, &m.Role, &m.JoinedAt, &m.Email)
		return m, err
	})
}

// MemberRole returns a user's role in an org; ErrNotFound when the user is
// not a member.
func (s *Store) MemberRole(ctx context.Context, orgID string, userID uuid.UUID) (string, error) {
	var role string
	err := s.pool.QueryRow(ctx, `SELECT role FROM org_members WHERE org_id = $1 AND user_id = $2`, orgID, userID).Scan(&role)
	return role, mapErr("org member", err)
}
