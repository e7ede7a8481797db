package metastore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// BranchConfigRecord is a branch's roles, databases and unreplayed changes:
// what a new branch, a restored branch or a snapshot carries over.
type BranchConfigRecord struct {
	Roles     []Role         `json:"roles"`
	Databases []Database     `json:"databases"`
	Changes   []ConfigChange `json:"changes"`
}

// NewBranch is everything a branch create writes, in one transaction.
type NewBranch struct {
	Branch    Branch
	Config    BranchConfigRecord
	Endpoints []Endpoint
}

func insertBranchTx(ctx context.Context, tx pgx.Tx, b Branch) error {
	if b.InitSource == "" {
		b.InitSource = "parent-data"
	}
	_, err := tx.Exec(ctx, `INSERT INTO branches (id, project_id, parent_id, name, is_default, protected, volume_id,
		setup_pending, created_at, updated_at, parent_lsn, parent_timestamp, init_source, expires_at,
		ttl_interval_seconds, last_reset_at, restore_status, restored_from, restored_as, logical_size)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)`,
		b.ID, b.ProjectID, b.ParentID, b.Name, b.IsDefault, b.Protected, b.VolumeID, b.SetupPending, b.CreatedAt, b.UpdatedAt,
		nullable(b.ParentLSN), b.ParentTimestamp, b.InitSource, b.ExpiresAt, b.TTLIntervalSeconds, b.LastResetAt,
		nullable(b.RestoreStatus), nullable(b.RestoredFrom), nullable(b.RestoredAs), b.LogicalSize)
	return err
}

// writeConfigTx makes cfg the roles, databases and pending changes of a
// branch (replacing what it had) and, with pending, marks its compute
// config pending.
func writeConfigTx(ctx context.Context, tx pgx.Tx, branchID string, cfg BranchConfigRecord, at time.Time, pending bool) error {
	for _, q := range []string{`DELETE FROM databases WHERE branch_id = $1`, `DELETE FROM roles WHERE branch_id = $1`,
		`DELETE FROM config_changes WHERE branch_id = $1`} {
		if _, err := tx.Exec(ctx, q, branchID); err != nil {
			return err
		}
	}
	for _, r := range cfg.Roles {
		if _, err := tx.Exec(ctx, `INSERT INTO roles (branch_id, name, verifier, sealed_password, protected, created_at, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7)`, branchID, r.Name, nullable(r.Verifier), r.SealedPassword, r.Protected, at, at); err != nil {
			return err
		}
	}
	for _, d := range cfg.Databases {
		if _, err := tx.Exec(ctx, `INSERT INTO databases (branch_id, name, owner_name, created_at, updated_at)
			VALUES ($1,$2,$3,$4,$5)`, branchID, d.Name, d.OwnerName, at, at); err != nil {
			return err
		}
	}
	if !pending {
		return nil
	}
	return configChanged(ctx, tx, branchID, cfg.Changes...)
}

// InsertBranch writes a new branch with its roles, databases and endpoints;
// its compute config is pending when the branch's SetupPending says so
// (its data may lack them), so that its first start converges. A name
// the project already has is ErrConflict.
func (s *Store) InsertBranch(ctx context.Context, nb NewBranch) (Branch, error) {
	defer s.rolesChanged()
	defer s.DataAPIChanged()
	var out Branch
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := insertBranchTx(ctx, tx, nb.Branch); err != nil {
			return err
		}
		if err := writeConfigTx(ctx, tx, nb.Branch.ID, nb.Config, nb.Branch.CreatedAt, nb.Branch.SetupPending); err != nil {
			return err
		}
		if nb.Branch.ParentID != nil { // a child inherits its parent's Data APIs
			if err := copyDataAPIsTx(ctx, tx, *nb.Branch.ParentID, nb.Branch.ID, nb.Branch.CreatedAt); err != nil {
				return err
			}
		}
		if len(nb.Endpoints) > 0 {
			b := &pgx.Batch{}
			for _, e := range nb.Endpoints {
				queueEndpoint(b, e)
			}
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
		}
		var err error
		out, err = scanBranch(tx.QueryRow(ctx, `SELECT `+branchCols+` FROM branches WHERE id = $1`, nb.Branch.ID))
		return err
	})
	return out, mapErr("insert branch "+nb.Branch.ID, err)
}

// BranchConfigOf returns a branch's roles, databases and pending changes.
func (s *Store) BranchConfigOf(ctx context.Context, branchID string) (BranchConfigRecord, error) {
	c, err := s.GetBranchConfig(ctx, branchID)
	if err != nil {
		return BranchConfigRecord{}, err
	}
	return BranchConfigRecord{Roles: c.Roles, Databases: c.Databases, Changes: c.Changes}, nil
}

// SaveBranch writes a branch's changeable fields: name, protection,
// default flag, parent, expiry and restore links. A name the project
// already has is ErrConflict.
func (s *Store) SaveBranch(ctx context.Context, b Branch) (Branch, error) {
	var out Branch
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = saveBranchTx(ctx, tx, b)
		return err
	})
	return out, mapErr("save branch "+b.ID, err)
}

func saveBranchTx(ctx context.Context, tx pgx.Tx, b Branch) (Branch, error) {
	return scanBranch(tx.QueryRow(ctx, `UPDATE branches SET name = $3, protected = $4, is_default = $5, parent_id = $6,
		expires_at = $7, ttl_interval_seconds = $8, last_reset_at = $9, restore_status = $10, restored_from = $11,
		restored_as = $12, volume_id = $13, updated_at = $14, parent_lsn = $15, parent_timestamp = $16
		WHERE project_id = $1 AND id = $2 RETURNING `+branchCols,
		b.ProjectID, b.ID, b.Name, b.Protected, b.IsDefault, b.ParentID, b.ExpiresAt, b.TTLIntervalSeconds, b.LastResetAt,
		nullable(b.RestoreStatus), nullable(b.RestoredFrom), nullable(b.RestoredAs), b.VolumeID, b.UpdatedAt,
		nullable(b.ParentLSN), b.ParentTimestamp))
}

// BranchChildren returns the branches whose parent is branchID.
func (s *Store) BranchChildren(ctx context.Context, projectID, branchID string) ([]Branch, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+branchCols+` FROM branches WHERE project_id = $1 AND parent_id = $2
		ORDER BY created_at, id`, projectID, branchID)
	if err != nil {
		return nil, mapErr("branch children", err)
	}
	return collect(rows, scanBranch)
}

// DeleteBranch removes a branch with its endpoints, roles and databases.
func (s *Store) DeleteBranch(ctx context.Context, projectID, branchID string) error {
	defer s.rolesChanged()
	defer s.DataAPIChanged()
	tag, err := s.pool.Exec(ctx, `DELETE FROM branches WHERE project_id = $1 AND id = $2`, projectID, branchID)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return mapErr("delete branch "+branchID, err)
}

// ExpiredBranches returns the branches of live projects whose expires_at
// has passed.
func (s *Store) ExpiredBranches(ctx context.Context, at time.Time) ([]Branch, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+branchCols+` FROM branches
		WHERE project_id IN (SELECT id FROM projects WHERE deleted_at IS NULL) AND expires_at <= $1 ORDER BY expires_at`, at)
	if err != nil {
		return nil, mapErr("expired branches", err)
	}
	return collect(rows, scanBranch)
}

// Reset is a branch restore: the target takes a new volume and config; the
// backup, when given, takes the target's old volume, config and children.
type Reset struct {
	Target Branch // with its new volume, parent and last_reset_at
	Config BranchConfigRecord
	Backup *Branch // with the target's old volume
}

// ResetBranch writes a branch restore in one transaction.
func (s *Store) ResetBranch(ctx context.Context, r Reset) (Branch, error) {
	defer s.rolesChanged()
	defer s.DataAPIChanged()
	var out Branch
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var old Branch
		var err error
		if old, err = scanBranch(tx.QueryRow(ctx, `SELECT `+branchCols+` FROM branches WHERE id = $1 FOR UPDATE`, r.Target.ID)); err != nil {
			return err
		}
		parent := r.Target.ParentID
		if r.Backup != nil {
			r.Target.ParentID = old.ParentID // set below, once the backup exists
		}
		if out, err = saveBranchTx(ctx, tx, r.Target); err != nil {
			return err
		}
		if r.Backup != nil {
			if err := insertBranchTx(ctx, tx, *r.Backup); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO roles (branch_id, name, verifier, sealed_password, protected, created_at, updated_at)
				SELECT $2, name, verifier, sealed_password, protected, created_at, updated_at FROM roles WHERE branch_id = $1`,
				old.ID, r.Backup.ID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO databases (branch_id, name, owner_name, created_at, updated_at)
				SELECT $2, name, owner_name, created_at, updated_at FROM databases WHERE branch_id = $1 ORDER BY id`,
				old.ID, r.Backup.ID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO config_changes (branch_id, kind, name, new_name, created_at)
				SELECT $2, kind, name, new_name, created_at FROM config_changes WHERE branch_id = $1 ORDER BY seq`,
				old.ID, r.Backup.ID); err != nil {
				return err
			}
			if err := copyDataAPIsTx(ctx, tx, old.ID, r.Backup.ID, r.Target.UpdatedAt); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE branches SET setup_pending = $2, logical_size = $3 WHERE id = $1`,
				r.Backup.ID, old.SetupPending, old.LogicalSize); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE branches SET parent_id = $2 WHERE parent_id = $1 AND id <> $2`, old.ID, r.Backup.ID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE branches SET parent_id = $2 WHERE id = $1`, old.ID, parent); err != nil {
				return err
			}
		}
		if err := writeConfigTx(ctx, tx, r.Target.ID, r.Config, r.Target.UpdatedAt, true); err != nil {
			return err
		}
		out, err = scanBranch(tx.QueryRow(ctx, `SELECT `+branchCols+` FROM branches WHERE id = $1`, r.Target.ID))
		return err
	})
	return out, mapErr("reset branch "+r.Target.ID, err)
}

// Finalize is the swap of a snapshot restore: the restored branch takes the
// target's name, default flag, protection and endpoints; the target is
// renamed and keeps its snapshots and children.
type Finalize struct {
	ProjectID         string
	RestoredID        string
	TargetID, OldName string   // OldName: the target's new name
	DropEndpoints     []string // the restored branch's own (preview) endpoints
	At                time.Time
}

// FinalizeRestore writes a finalize in one transaction and returns the
// restored branch and the endpoints moved to it.
func (s *Store) FinalizeRestore(ctx context.Context, f Finalize) (Branch, []string, error) {
	defer s.rolesChanged()
	defer s.DataAPIChanged()
	var out Branch
	var moved []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		target, err := scanBranch(tx.QueryRow(ctx, `SELECT `+branchCols+` FROM branches WHERE project_id = $1 AND id = $2 FOR UPDATE`,
			f.ProjectID, f.TargetID))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM endpoints WHERE id = ANY($1)`, f.DropEndpoints); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE branches SET name = $2, is_default = false, protected = false, updated_at = $3
			WHERE id = $1`, target.ID, f.OldName, f.At); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE branches SET name = $2, is_default = $3, protected = $4, restore_status = 'finalized',
			restored_as = $5, updated_at = $6 WHERE id = $1`, f.RestoredID, target.Name, target.IsDefault, target.Protected,
			target.ID, f.At); err != nil {
			return err
		}
		// The schedule is one of the settings the restored branch takes
		// over; its slots count from now, so that one the target already
		// took is not taken again.
		if _, err := tx.Exec(ctx, `UPDATE backup_schedules SET branch_id = $2, set_at = $3 WHERE branch_id = $1`,
			target.ID, f.RestoredID, f.At); err != nil {
			return err
		}
		// So are its Data APIs, which serve on the endpoints it takes.
		if _, err := tx.Exec(ctx, `DELETE FROM data_apis WHERE branch_id = $1`, f.RestoredID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE data_apis SET branch_id = $2, generation = nextval('data_api_generation')
			WHERE branch_id = $1`, target.ID, f.RestoredID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE endpoints SET branch_id = $2, updated_at = $3 WHERE branch_id = $1 RETURNING id`,
			target.ID, f.RestoredID, f.At)
		if err != nil {
			return err
		}
		if moved, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		out, err = scanBranch(tx.QueryRow(ctx, `SELECT `+branchCols+` FROM branches WHERE id = $1`, f.RestoredID))
		return err
	})
	return out, moved, mapErr("finalize restore "+f.RestoredID, err)
}

// Snapshot is a read-only copy of a branch's volume at a point, with the
// roles and databases the branch had.
type Snapshot struct {
	ID, ProjectID, SourceBranchID, Name string
	VolumeID                            string
	LSN                                 string
	Timestamp                           *time.Time
	ExpiresAt                           *time.Time
	Manual                              bool
	FullSize                            *int64
	Schedule                            string // the backup schedule's frequency that took it; "" for others
	Config                              BranchConfigRecord
	CreatedAt, UpdatedAt                time.Time
}

const snapshotCols = `id, project_id, source_branch_id, name, volume_id, coalesce(lsn, ''), "timestamp", expires_at,
	manual, full_size, config, created_at, updated_at, coalesce(schedule, '')`

func scanSnapshot(row pgx.Row) (Snapshot, error) {
	var sn Snapshot
	var cfg []byte
	err := row.Scan(&sn.ID, &sn.ProjectID, &sn.SourceBranchID, &sn.Name, &sn.VolumeID, &sn.LSN, &sn.Timestamp, &sn.ExpiresAt,
		&sn.Manual, &sn.FullSize, &cfg, &sn.CreatedAt, &sn.UpdatedAt, &sn.Schedule)
	if err == nil && len(cfg) > 0 {
		err = json.Unmarshal(cfg, &sn.Config)
	}
	return sn, err
}

// InsertSnapshot records a snapshot whose volume exists.
func (s *Store) InsertSnapshot(ctx context.Context, sn Snapshot) (Snapshot, error) {
	cfg, err := json.Marshal(sn.Config)
	if err != nil {
		return Snapshot{}, err
	}
	out, err := scanSnapshot(s.pool.QueryRow(ctx, `INSERT INTO snapshots (id, project_id, source_branch_id, name, volume_id,
		lsn, "timestamp", expires_at, manual, full_size, config, created_at, updated_at, schedule)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) RETURNING `+snapshotCols,
		sn.ID, sn.ProjectID, sn.SourceBranchID, sn.Name, sn.VolumeID, nullable(sn.LSN), sn.Timestamp, sn.ExpiresAt, sn.Manual,
		sn.FullSize, cfg, sn.CreatedAt, sn.UpdatedAt, nullable(sn.Schedule)))
	return out, mapErr("insert snapshot "+sn.ID, err)
}

// ProjectSnapshots returns a project's snapshots, oldest first.
func (s *Store) ProjectSnapshots(ctx context.Context, projectID string) ([]Snapshot, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+snapshotCols+` FROM snapshots WHERE project_id = $1 ORDER BY created_at, id`, projectID)
	if err != nil {
		return nil, mapErr("project snapshots", err)
	}
	return collect(rows, scanSnapshot)
}

// GetSnapshot returns a snapshot of a project.
func (s *Store) GetSnapshot(ctx context.Context, projectID, id string) (Snapshot, error) {
	sn, err := scanSnapshot(s.pool.QueryRow(ctx, `SELECT `+snapshotCols+` FROM snapshots WHERE project_id = $1 AND id = $2`, projectID, id))
	return sn, mapErr("get snapshot "+id, err)
}

// UpdateSnapshot writes a snapshot's name and expiry.
func (s *Store) UpdateSnapshot(ctx context.Context, sn Snapshot) (Snapshot, error) {
	out, err := scanSnapshot(s.pool.QueryRow(ctx, `UPDATE snapshots SET name = $3, expires_at = $4, updated_at = $5
		WHERE project_id = $1 AND id = $2 RETURNING `+snapshotCols, sn.ProjectID, sn.ID, sn.Name, sn.ExpiresAt, sn.UpdatedAt))
	return out, mapErr("update snapshot "+sn.ID, err)
}

// DeleteSnapshot removes a snapshot's record.
func (s *Store) DeleteSnapshot(ctx context.Context, projectID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM snapshots WHERE project_id = $1 AND id = $2`, projectID, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return mapErr("delete snapshot "+id, err)
}

// ExpiredSnapshots returns the snapshots of live projects whose expires_at
// has passed.
func (s *Store) ExpiredSnapshots(ctx context.Context, at time.Time) ([]Snapshot, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+snapshotCols+` FROM snapshots
		WHERE project_id IN (SELECT id FROM projects WHERE deleted_at IS NULL) AND expires_at <= $1`, at)
	if err != nil {
		return nil, mapErr("expired snapshots", err)
	}
	return collect(rows, scanSnapshot)
}

// VolumeRetention returns the history_retention_seconds of the project
// whose live branch owns a volume; ErrNotFound when no live branch does.
func (s *Store) VolumeRetention(ctx context.Context, volumeID string) (int, error) {
	var sec int
	err := s.pool.QueryRow(ctx, `SELECT p.history_retention_seconds FROM branches b
		JOIN projects p ON p.id = b.project_id
		WHERE b.volume_id = $1 AND p.deleted_at IS NULL`, volumeID).Scan(&sec)
	return sec, mapErr("retention of volume "+volumeID, err)
}

// SetLogicalSize records the logical size measured on a volume's compute
// for the branch that owns the volume (none for a read replica's).
func (s *Store) SetLogicalSize(ctx context.Context, volumeID string, size int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE branches SET logical_size = $2 WHERE volume_id = $1`, volumeID, size)
	return mapErr("set logical size", err)
}
