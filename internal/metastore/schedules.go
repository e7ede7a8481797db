package metastore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// BackupSchedule is a root branch's backup schedule: Schedule is the JSON
// array of Neon's BackupScheduleItem, SetAt when it was last set (slots
// before it take nothing).
type BackupSchedule struct {
	BranchID  string
	ProjectID string
	Schedule  json.RawMessage
	SetAt     time.Time
}

// GetBackupSchedule returns a branch's schedule; ErrNotFound when it has none.
func (s *Store) GetBackupSchedule(ctx context.Context, branchID string) (BackupSchedule, error) {
	var b BackupSchedule
	err := s.pool.QueryRow(ctx, `SELECT branch_id, project_id, schedule, set_at FROM backup_schedules WHERE branch_id = $1`, branchID).
		Scan(&b.BranchID, &b.ProjectID, &b.Schedule, &b.SetAt)
	return b, mapErr("backup schedule of "+branchID, err)
}

// SetBackupSchedule replaces a branch's schedule; an empty one removes it.
func (s *Store) SetBackupSchedule(ctx context.Context, b BackupSchedule) error {
	if len(b.Schedule) == 0 || string(b.Schedule) == "[]" || string(b.Schedule) == "null" {
		_, err := s.pool.Exec(ctx, `DELETE FROM backup_schedules WHERE branch_id = $1`, b.BranchID)
		return mapErr("remove backup schedule of "+b.BranchID, err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO backup_schedules (branch_id, project_id, schedule, set_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (branch_id) DO UPDATE SET schedule = $3, set_at = $4`, b.BranchID, b.ProjectID, b.Schedule, b.SetAt)
	return mapErr("set backup schedule of "+b.BranchID, err)
}

// BackupSchedules lists the schedules of live projects' branches.
func (s *Store) BackupSchedules(ctx context.Context) ([]BackupSchedule, error) {
	rows, err := s.pool.Query(ctx, `SELECT s.branch_id, s.project_id, s.schedule, s.set_at FROM backup_schedules s
		JOIN projects p ON p.id = s.project_id WHERE p.deleted_at IS NULL ORDER BY s.branch_id`)
	if err != nil {
		return nil, mapErr("backup schedules", err)
	}
	return collect(rows, func(row pgx.Row) (BackupSchedule, error) {
		var b BackupSchedule
		err := row.Scan(&b.BranchID, &b.ProjectID, &b.Schedule, &b.SetAt)
		return b, err
	})
}

// LastScheduledSnapshots returns, by branch and schedule frequency, when
// the newest scheduled snapshot of that frequency was taken.
func (s *Store) LastScheduledSnapshots(ctx context.Context) (map[string]map[string]time.Time, error) {
	rows, err := s.pool.Query(ctx, `SELECT source_branch_id, schedule, max(created_at) FROM snapshots
		WHERE schedule IS NOT NULL GROUP BY source_branch_id, schedule`)
	if err != nil {
		return nil, mapErr("scheduled snapshots", err)
	}
	defer rows.Close()
	out := map[string]map[string]time.Time{}
	for rows.Next() {
		var b, f string
		var t time.Time
		if err := rows.Scan(&b, &f, &t); err != nil {
			return nil, mapErr("scheduled snapshots", err)
		}
		if out[b] == nil {
			out[b] = map[string]time.Time{}
		}
		out[b][f] = t
	}
	return out, mapErr("scheduled snapshots", rows.Err())
}
