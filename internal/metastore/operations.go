package metastore

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// ErrLocked is returned when a project already has operations in flight.
var ErrLocked = errors.New("project has running operations")

// BeginOperations records ops as a project's new operations unless the
// project has operations that are not finished yet. The project row is
// locked for the check, so two mutations cannot both pass it.
func (s *Store) BeginOperations(ctx context.Context, projectID string, ops ...Operation) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM projects WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, projectID).Scan(&one)
		if err != nil {
			return mapErr("lock project", err)
		}
		var busy bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM operations WHERE project_id = $1
			AND status IN ('scheduling', 'running', 'cancelling'))`, projectID).Scan(&busy); err != nil {
			return mapErr("check running operations", err)
		}
		if busy {
			return ErrLocked
		}
		b := &pgx.Batch{}
		for _, op := range ops {
			queueOperation(b, op)
		}
		return mapErr("insert operations", tx.SendBatch(ctx, b).Close())
	})
}
