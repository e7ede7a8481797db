package metastore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// GetBranch returns a branch of a project.
func (s *Store) GetBranch(ctx context.Context, projectID, branchID string) (Branch, error) {
	b, err := scanBranch(s.pool.QueryRow(ctx, `SELECT `+branchCols+` FROM branches WHERE project_id = $1 AND id = $2`,
		projectID, branchID))
	return b, mapErr("get branch "+branchID, err)
}

// BranchFilter selects a page of a project's branches.
type BranchFilter struct {
	ProjectID string
	Search    string // part of the name or id
	// SortBy is name, created_at or updated_at; ties are broken by id.
	SortBy string
	Desc   bool
	// AfterValue and AfterID are the sort key of the last branch of the
	// previous page (AfterValue as text: the name or an RFC 3339 time).
	AfterValue, AfterID string
	Limit               int
}

var branchSortCols = map[string]string{"name": "name", "created_at": "created_at", "updated_at": "updated_at"}

// ListBranches returns a page of a project's branches.
func (s *Store) ListBranches(ctx context.Context, f BranchFilter) ([]Branch, error) {
	col, ok := branchSortCols[f.SortBy]
	if !ok {
		return nil, fmt.Errorf("list branches: unknown sort column %q", f.SortBy)
	}
	cast, dir, cmp := "text", "ASC", ">"
	if col != "name" {
		cast = "timestamptz"
	}
	if f.Desc {
		dir, cmp = "DESC", "<"
	}
	q := `SELECT ` + branchCols + ` FROM branches WHERE project_id = $1
		AND ($2 = '' OR strpos(lower(name), lower($2)) > 0 OR strpos(id, lower($2)) > 0)`
	args := []any{f.ProjectID, f.Search}
	if f.AfterID != "" {
		q += ` AND (` + col + `, id) ` + cmp + ` ($3::` + cast + `, $4)`
		args = append(args, f.AfterValue, f.AfterID)
	}
	q += fmt.Sprintf(` ORDER BY %s %s, id %s LIMIT %d`, col, dir, dir, f.Limit)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, mapErr("list branches", err)
	}
	return collect(rows, scanBranch)
}

// CountBranches counts a project's branches matching search.
func (s *Store) CountBranches(ctx context.Context, projectID, search string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM branches WHERE project_id = $1
		AND ($2 = '' OR strpos(lower(name), lower($2)) > 0 OR strpos(id, lower($2)) > 0)`, projectID, search).Scan(&n)
	return n, mapErr("count branches", err)
}

// UpdateBranch sets a branch's name and protection; a name another branch
// of the project has is ErrConflict.
func (s *Store) UpdateBranch(ctx context.Context, b Branch) (Branch, error) {
	out, err := scanBranch(s.pool.QueryRow(ctx, `UPDATE branches SET name = $3, protected = $4, updated_at = $5
		WHERE project_id = $1 AND id = $2 RETURNING `+branchCols, b.ProjectID, b.ID, b.Name, b.Protected, b.UpdatedAt))
	return out, mapErr("update branch "+b.ID, err)
}

// SetDefaultBranch makes a branch the project's default and the previous
// default an ordinary branch, in one statement.
func (s *Store) SetDefaultBranch(ctx context.Context, projectID, branchID string, at time.Time) (Branch, error) {
	var out Branch
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE branches SET is_default = (id = $2), updated_at = $3
			WHERE project_id = $1 AND (is_default OR id = $2) AND is_default <> (id = $2)`, projectID, branchID, at); err != nil {
			return err
		}
		var err error
		out, err = scanBranch(tx.QueryRow(ctx, `SELECT `+branchCols+` FROM branches WHERE project_id = $1 AND id = $2`, projectID, branchID))
		return err
	})
	return out, mapErr("set default branch "+branchID, err)
}
