package metastore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

func queueEndpoint(b *pgx.Batch, e Endpoint) {
	if e.Provisioner == "" {
		e.Provisioner = "k8s-neonvm"
	}
	b.Queue(`INSERT INTO endpoints (id, project_id, branch_id, type, region_id, min_cu, max_cu,
		suspend_timeout_seconds, disabled, settings, last_active, created_at, updated_at, name, provisioner, passwordless_access)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)`,
		e.ID, e.ProjectID, e.BranchID, e.Type, e.RegionID, e.MinCU, e.MaxCU,
		e.SuspendTimeoutSeconds, e.Disabled, jsonOrEmpty(e.Settings), e.LastActive, e.CreatedAt, e.UpdatedAt,
		e.Name, e.Provisioner, e.PasswordlessAccess)
}

// InsertEndpoint records a new endpoint; a second read_write endpoint on a
// branch is ErrConflict.
func (s *Store) InsertEndpoint(ctx context.Context, e Endpoint) error {
	b := &pgx.Batch{}
	queueEndpoint(b, e)
	return mapErr("insert endpoint "+e.ID, s.pool.SendBatch(ctx, b).Close())
}

// GetEndpoint returns an endpoint of a project.
func (s *Store) GetEndpoint(ctx context.Context, projectID, endpointID string) (Endpoint, error) {
	e, err := scanEndpoint(s.pool.QueryRow(ctx, `SELECT `+endpointCols+` FROM endpoints WHERE project_id = $1 AND id = $2`,
		projectID, endpointID))
	return e, mapErr("get endpoint "+endpointID, err)
}

// BranchEndpoints returns a branch's endpoints.
func (s *Store) BranchEndpoints(ctx context.Context, branchID string) ([]Endpoint, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+endpointCols+` FROM endpoints WHERE branch_id = $1 ORDER BY created_at, id`, branchID)
	if err != nil {
		return nil, mapErr("branch endpoints", err)
	}
	return collect(rows, scanEndpoint)
}

// UpdateEndpoint writes an endpoint's changeable fields and returns it.
func (s *Store) UpdateEndpoint(ctx context.Context, e Endpoint) (Endpoint, error) {
	defer s.rolesChanged()
	out, err := scanEndpoint(s.pool.QueryRow(ctx, `UPDATE endpoints SET branch_id = $3, min_cu = $4, max_cu = $5,
		suspend_timeout_seconds = $6, disabled = $7, settings = $8, name = $9, provisioner = $10,
		passwordless_access = $11, updated_at = $12
		WHERE project_id = $1 AND id = $2 RETURNING `+endpointCols,
		e.ProjectID, e.ID, e.BranchID, e.MinCU, e.MaxCU, e.SuspendTimeoutSeconds, e.Disabled, jsonOrEmpty(e.Settings),
		e.Name, e.Provisioner, e.PasswordlessAccess, e.UpdatedAt))
	return out, mapErr("update endpoint "+e.ID, err)
}

// DeleteEndpoint removes an endpoint; its branch and data stay.
func (s *Store) DeleteEndpoint(ctx context.Context, projectID, endpointID string) error {
	defer s.rolesChanged()
	tag, err := s.pool.Exec(ctx, `DELETE FROM endpoints WHERE project_id = $1 AND id = $2`, projectID, endpointID)
	if err != nil {
		return mapErr("delete endpoint "+endpointID, err)
	}
	if tag.RowsAffected() == 0 {
		return mapErr("delete endpoint "+endpointID, pgx.ErrNoRows)
	}
	return nil
}

// ProjectLastActive returns the latest last_active of a project's
// endpoints, nil when none was ever active.
func (s *Store) ProjectLastActive(ctx context.Context, projectID string) (*time.Time, error) {
	var t *time.Time
	err := s.pool.QueryRow(ctx, `SELECT max(last_active) FROM endpoints WHERE project_id = $1`, projectID).Scan(&t)
	return t, mapErr("project last active", err)
}
