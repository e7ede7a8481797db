package metastore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Org is an organization with a plan.
type Org struct {
	ID, Name, Handle, Plan string
	CreatedAt, UpdatedAt   time.Time
}

// User is a platform user (the admin, for now).
type User struct {
	ID          uuid.UUID
	Email, Name string
	CreatedAt   time.Time
}

// Member is a user's membership of an org.
type Member struct {
	ID       uuid.UUID
	OrgID    string
	UserID   uuid.UUID
	Role     string
	JoinedAt time.Time
}

// APIKey is a stored (hashed) API key.
type APIKey struct {
	ID         int64
	Kind       string // personal | org | project
	Name       string
	UserID     *uuid.UUID
	OrgID      string
	ProjectID  string
	CreatedBy  uuid.UUID
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// Project is a user app's database project.
type Project struct {
	ID, OrgID, Name, RegionID string
	PGVersion                 int
	Provisioner               string
	StorePasswords            bool
	HistoryRetentionSeconds   int
	Settings                  json.RawMessage
	DefaultEndpointSettings   json.RawMessage
	CreatedAt, UpdatedAt      time.Time
	DeletedAt                 *time.Time
}

// Branch is a line of history; VolumeID names its storage volume.
type Branch struct {
	ID, ProjectID        string
	ParentID             *string
	Name                 string
	IsDefault, Protected bool
	VolumeID             string
	// SetupPending: the owner role and database are made at the first start.
	SetupPending         bool
	CreatedAt, UpdatedAt time.Time
	// Branching (migration 0006): where the branch came from, its expiry,
	// and its snapshot-restore links.
	ParentLSN                               string
	ParentTimestamp                         *time.Time
	InitSource                              string // parent-data | schema-only
	ExpiresAt                               *time.Time
	TTLIntervalSeconds                      *int64
	LastResetAt                             *time.Time
	RestoreStatus, RestoredFrom, RestoredAs string
	// LogicalSize is the bytes of the branch's databases when its compute
	// last ran (nil: never measured).
	LogicalSize *int64
}

// Endpoint is a compute attached to a branch.
type Endpoint struct {
	ID, ProjectID, BranchID, Type, RegionID string
	MinCU, MaxCU                            float64
	SuspendTimeoutSeconds                   int64
	Disabled                                bool
	Settings                                json.RawMessage
	LastActive                              *time.Time
	CreatedAt, UpdatedAt                    time.Time
	// Name, Provisioner and PasswordlessAccess are stored only to be echoed.
	Name, Provisioner  string
	PasswordlessAccess bool
}

// Role is a Postgres role made through the API.
type Role struct {
	BranchID, Name       string
	Verifier             string
	SealedPassword       []byte
	Protected            bool
	CreatedAt, UpdatedAt time.Time
}

// Database is a Postgres database made through the API.
type Database struct {
	ID                   int64
	BranchID, Name       string
	OwnerName            string
	CreatedAt, UpdatedAt time.Time
}

// Operation is Neon's record of an action.
type Operation struct {
	ID                    uuid.UUID
	ProjectID             string
	BranchID, EndpointID  string
	Action, Status, Error string
	FailuresCount         int
	CreatedAt, UpdatedAt  time.Time
	TotalDurationMS       int
}

// NewProject is everything a project create writes, in one transaction.
type NewProject struct {
	Project    Project
	Branch     Branch
	Endpoint   Endpoint
	Role       Role
	Database   Database
	Operations []Operation
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateProject writes a whole new project atomically and returns the
// database with its assigned id.
func (s *Store) CreateProject(ctx context.Context, np NewProject) (Database, error) {
	p, b, e, r, d := np.Project, np.Branch, np.Endpoint, np.Role, np.Database
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		batch.Queue(`INSERT INTO projects (id, org_id, name, region_id, pg_version, provisioner, store_passwords,
			history_retention_seconds, settings, default_endpoint_settings, created_at, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
			p.ID, p.OrgID, p.Name, p.RegionID, p.PGVersion, p.Provisioner, p.StorePasswords,
			p.HistoryRetentionSeconds, jsonOrEmpty(p.Settings), jsonOrEmpty(p.DefaultEndpointSettings), p.CreatedAt, p.UpdatedAt)
		batch.Queue(`INSERT INTO branches (id, project_id, parent_id, name, is_default, protected, volume_id, setup_pending, created_at, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
			b.ID, b.ProjectID, b.ParentID, b.Name, b.IsDefault, b.Protected, b.VolumeID, b.SetupPending, b.CreatedAt, b.UpdatedAt)
		queueEndpoint(batch, e)
		batch.Queue(`INSERT INTO roles (branch_id, name, verifier, sealed_password, protected, created_at, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7)`, r.BranchID, r.Name, r.Verifier, r.SealedPassword, r.Protected, r.CreatedAt, r.UpdatedAt)
		batch.Queue(`INSERT INTO databases (branch_id, name, owner_name, created_at, updated_at)
			VALUES ($1,$2,$3,$4,$5) RETURNING id`, d.BranchID, d.Name, d.OwnerName, d.CreatedAt, d.UpdatedAt)
		for _, op := range np.Operations {
			queueOperation(batch, op)
		}
		br := tx.SendBatch(ctx, batch)
		for i := 0; i < 4; i++ {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return err
			}
		}
		if err := br.QueryRow().Scan(&d.ID); err != nil {
			br.Close()
			return err
		}
		for range np.Operations {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return err
			}
		}
		return br.Close()
	})
	if err != nil {
		return Database{}, mapErr("create project "+p.ID, err)
	}
	return d, nil
}

func queueOperation(b *pgx.Batch, op Operation) {
	b.Queue(`INSERT INTO operations (id, project_id, branch_id, endpoint_id, action, status, error, failures_count,
		created_at, updated_at, total_duration_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
		op.ID, op.ProjectID, nullable(op.BranchID), nullable(op.EndpointID), op.Action, op.Status, nullable(op.Error),
		op.FailuresCount, op.CreatedAt, op.UpdatedAt, op.TotalDurationMS)
}

// InsertOperations records operations.
func (s *Store) InsertOperations(ctx context.Context, ops ...Operation) error {
	b := &pgx.Batch{}
	for _, op := range ops {
		queueOperation(b, op)
	}
	return mapErr("insert operations", s.pool.SendBatch(ctx, b).Close())
}

// FinishOperation sets an operation's terminal status.
func (s *Store) FinishOperation(ctx context.Context, id uuid.UUID, status, errText string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE operations SET status = $2, error = $3, updated_at = $4,
		total_duration_ms = GREATEST(0, (extract(epoch FROM ($4 - created_at)) * 1000)::int),
		failures_count = failures_count + CASE WHEN $2 IN ('failed', 'error') THEN 1 ELSE 0 END
		WHERE id = $1`, id, status, nullable(errText), at)
	return mapErr("finish operation", err)
}

// FailUnfinishedOperations marks every operation left scheduling/running by a
// crash as failed, so that nothing stays locked forever. It returns the count.
func (s *Store) FailUnfinishedOperations(ctx context.Context, reason string) (int64, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE operations SET status = 'failed', error = $1, updated_at = now(),
		failures_count = failures_count + 1 WHERE status IN ('scheduling', 'running', 'cancelling')`, reason)
	if err != nil {
		return 0, mapErr("fail unfinished operations", err)
	}
	return tag.RowsAffected(), nil
}

const operationCols = `id, project_id, coalesce(branch_id, ''), coalesce(endpoint_id, ''), action, status,
	coalesce(error, ''), failures_count, created_at, updated_at, total_duration_ms`

func scanOperation(row pgx.Row) (Operation, error) {
	var o Operation
	err := row.Scan(&o.ID, &o.ProjectID, &o.BranchID, &o.EndpointID, &o.Action, &o.Status, &o.Error,
		&o.FailuresCount, &o.CreatedAt, &o.UpdatedAt, &o.TotalDurationMS)
	return o, err
}

// GetOperation returns one operation of a project.
func (s *Store) GetOperation(ctx context.Context, projectID string, id uuid.UUID) (Operation, error) {
	o, err := scanOperation(s.pool.QueryRow(ctx, `SELECT `+operationCols+` FROM operations WHERE project_id = $1 AND id = $2`, projectID, id))
	return o, mapErr("get operation", err)
}

// ListOperations returns a project's operations, newest first, created
// before the cursor time when one is given.
func (s *Store) ListOperations(ctx context.Context, projectID string, before *time.Time, limit int) ([]Operation, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+operationCols+` FROM operations
		WHERE project_id = $1 AND ($2::timestamptz IS NULL OR created_at < $2)
		ORDER BY created_at DESC, id LIMIT $3`, projectID, before, limit)
	if err != nil {
		return nil, mapErr("list operations", err)
	}
	return collect(rows, scanOperation)
}

func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func jsonOrEmpty(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage(`{}`)
	}
	return b
}

const projectCols = `id, org_id, name, region_id, pg_version, provisioner, store_passwords, history_retention_seconds,
	settings, default_endpoint_settings, created_at, updated_at, deleted_at`

func scanProject(row pgx.Row) (Project, error) {
	var p Project
	err := row.Scan(&p.ID, &p.OrgID, &p.Name, &p.RegionID, &p.PGVersion, &p.Provisioner, &p.StorePasswords,
		&p.HistoryRetentionSeconds, &p.Settings, &p.DefaultEndpointSettings, &p.CreatedAt, &p.UpdatedAt, &p.DeletedAt)
	return p, err
}

// GetProject returns a live (not deleted) project.
func (s *Store) GetProject(ctx context.Context, id string) (Project, error) {
	p, err := scanProject(s.pool.QueryRow(ctx, `SELECT `+projectCols+` FROM projects WHERE id = $1 AND deleted_at IS NULL`, id))
	return p, mapErr("get project "+id, err)
}

// ProjectFilter selects projects for a list.
type ProjectFilter struct {
	OrgIDs    []string // projects of these orgs
	ProjectID string   // or only this project (project-scoped keys)
	Search    string   // part of name or id
	After     string   // cursor: id of the last project of the previous page
	Limit     int
}

// ListProjects returns live projects ordered by id.
func (s *Store) ListProjects(ctx context.Context, f ProjectFilter) ([]Project, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+projectCols+` FROM projects
		WHERE deleted_at IS NULL AND org_id = ANY($1)
		AND ($2 = '' OR id = $2)
		AND ($3 = '' OR strpos(lower(name), lower($3)) > 0 OR strpos(id, lower($3)) > 0)
		AND id > $4
		ORDER BY id LIMIT $5`, f.OrgIDs, f.ProjectID, f.Search, f.After, f.Limit)
	if err != nil {
		return nil, mapErr("list projects", err)
	}
	return collect(rows, scanProject)
}

// MarkProjectDeleted soft-deletes a project; its resources are purged after.
func (s *Store) MarkProjectDeleted(ctx context.Context, id string, at time.Time) (Project, error) {
	defer s.rolesChanged()
	p, err := scanProject(s.pool.QueryRow(ctx, `UPDATE projects SET deleted_at = $2, updated_at = $2
		WHERE id = $1 AND deleted_at IS NULL RETURNING `+projectCols, id, at))
	return p, mapErr("delete project "+id, err)
}

// PurgeProject removes a deleted project's rows (its volumes are gone).
func (s *Store) PurgeProject(ctx context.Context, id string) error {
	defer s.rolesChanged()
	_, err := s.pool.Exec(ctx, `DELETE FROM projects WHERE id = $1 AND deleted_at IS NOT NULL`, id)
	return mapErr("purge project "+id, err)
}

// DeletedProjects lists projects marked deleted but not yet purged.
func (s *Store) DeletedProjects(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM projects WHERE deleted_at IS NOT NULL`)
	if err != nil {
		return nil, mapErr("deleted projects", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// LiveVolumes returns the volume ids of branches of live projects.
func (s *Store) LiveVolumes(ctx context.Context) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT b.volume_id FROM branches b JOIN projects p ON p.id = b.project_id
		WHERE p.deleted_at IS NULL
		UNION ALL SELECT sn.volume_id FROM snapshots sn JOIN projects p ON p.id = sn.project_id
		WHERE p.deleted_at IS NULL`)
	if err != nil {
		return nil, mapErr("live volumes", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

const branchCols = `id, project_id, parent_id, name, is_default, protected, volume_id, setup_pending, created_at, updated_at,
	coalesce(parent_lsn, ''), parent_timestamp, init_source, expires_at, ttl_interval_seconds, last_reset_at,
	coalesce(restore_status, ''), coalesce(restored_from, ''), coalesce(restored_as, ''), logical_size`

func scanBranch(row pgx.Row) (Branch, error) {
	var b Branch
	err := row.Scan(&b.ID, &b.ProjectID, &b.ParentID, &b.Name, &b.IsDefault, &b.Protected, &b.VolumeID, &b.SetupPending, &b.CreatedAt, &b.UpdatedAt,
		&b.ParentLSN, &b.ParentTimestamp, &b.InitSource, &b.ExpiresAt, &b.TTLIntervalSeconds, &b.LastResetAt,
		&b.RestoreStatus, &b.RestoredFrom, &b.RestoredAs, &b.LogicalSize)
	return b, err
}

// ProjectBranches returns a project's branches (deleted projects included, for purging).
func (s *Store) ProjectBranches(ctx context.Context, projectID string) ([]Branch, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+branchCols+` FROM branches WHERE project_id = $1 ORDER BY created_at, id`, projectID)
	if err != nil {
		return nil, mapErr("project branches", err)
	}
	return collect(rows, scanBranch)
}

const endpointCols = `id, project_id, branch_id, type, region_id, min_cu, max_cu, suspend_timeout_seconds, disabled,
	settings, last_active, created_at, updated_at, name, provisioner, passwordless_access`

func scanEndpoint(row pgx.Row) (Endpoint, error) {
	var e Endpoint
	err := row.Scan(&e.ID, &e.ProjectID, &e.BranchID, &e.Type, &e.RegionID, &e.MinCU, &e.MaxCU, &e.SuspendTimeoutSeconds,
		&e.Disabled, &e.Settings, &e.LastActive, &e.CreatedAt, &e.UpdatedAt, &e.Name, &e.Provisioner, &e.PasswordlessAccess)
	return e, err
}

// ProjectEndpoints returns a project's endpoints.
func (s *Store) ProjectEndpoints(ctx context.Context, projectID string) ([]Endpoint, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+endpointCols+` FROM endpoints WHERE project_id = $1 ORDER BY created_at, id`, projectID)
	if err != nil {
		return nil, mapErr("project endpoints", err)
	}
	return collect(rows, scanEndpoint)
}

// EndpointRoute is what the proxy and the compute need to reach an endpoint.
type EndpointRoute struct {
	Endpoint     Endpoint
	VolumeID     string
	PGVersion    int
	SetupPending bool
}

// GetEndpointRoute returns a live endpoint with its branch volume and version.
func (s *Store) GetEndpointRoute(ctx context.Context, endpointID string) (EndpointRoute, error) {
	r, _, err := s.GetEndpointRole(ctx, endpointID, "")
	return r, err
}

// GetEndpointRole is GetEndpointRoute plus, in the same query, the SCRAM
// verifier of a role on the endpoint's branch ("" when the API did not make
// that role): the one metadata read a proxied login needs.
func (s *Store) GetEndpointRole(ctx context.Context, endpointID, role string) (EndpointRoute, string, error) {
	var r EndpointRoute
	var verifier *string
	e := &r.Endpoint
	err := s.pool.QueryRow(ctx, `SELECT e.id, e.project_id, e.branch_id, e.type, e.region_id, e.min_cu, e.max_cu,
		e.suspend_timeout_seconds, e.disabled, e.settings, e.last_active, e.created_at, e.updated_at,
		e.name, e.provisioner, e.passwordless_access, b.volume_id, p.pg_version,
		b.setup_pending, ro.verifier
		FROM endpoints e JOIN branches b ON b.id = e.branch_id JOIN projects p ON p.id = e.project_id
		LEFT JOIN roles ro ON ro.branch_id = e.branch_id AND ro.name = $2
		WHERE e.id = $1 AND p.deleted_at IS NULL`, endpointID, role).Scan(&e.ID, &e.ProjectID, &e.BranchID, &e.Type, &e.RegionID,
		&e.MinCU, &e.MaxCU, &e.SuspendTimeoutSeconds, &e.Disabled, &e.Settings, &e.LastActive, &e.CreatedAt, &e.UpdatedAt,
		&e.Name, &e.Provisioner, &e.PasswordlessAccess, &r.VolumeID, &r.PGVersion, &r.SetupPending, &verifier)
	if verifier == nil {
		return r, "", mapErr("get endpoint "+endpointID, err)
	}
	return r, *verifier, mapErr("get endpoint "+endpointID, err)
}

// ClearSetupPending records that a branch's owner role and database exist.
func (s *Store) ClearSetupPending(ctx context.Context, branchID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE branches SET setup_pending = false WHERE id = $1`, branchID)
	return mapErr("clear setup pending", err)
}

// TouchEndpoint records the endpoint's last activity.
func (s *Store) TouchEndpoint(ctx context.Context, endpointID string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE endpoints SET last_active = $2 WHERE id = $1`, endpointID, at)
	return mapErr("touch endpoint", err)
}

const roleCols = `branch_id, name, coalesce(verifier, ''), sealed_password, protected, created_at, updated_at`

func scanRole(row pgx.Row) (Role, error) {
	var r Role
	err := row.Scan(&r.BranchID, &r.Name, &r.Verifier, &r.SealedPassword, &r.Protected, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

// GetRole returns a role of a branch.
func (s *Store) GetRole(ctx context.Context, branchID, name string) (Role, error) {
	r, err := scanRole(s.pool.QueryRow(ctx, `SELECT `+roleCols+` FROM roles WHERE branch_id = $1 AND name = $2`, branchID, name))
	return r, mapErr(fmt.Sprintf("get role %q", name), err)
}

// BranchRoles returns the roles of a branch.
func (s *Store) BranchRoles(ctx context.Context, branchID string) ([]Role, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+roleCols+` FROM roles WHERE branch_id = $1 ORDER BY created_at, name`, branchID)
	if err != nil {
		return nil, mapErr("branch roles", err)
	}
	return collect(rows, scanRole)
}

// BranchDatabases returns the databases of a branch.
func (s *Store) BranchDatabases(ctx context.Context, branchID string) ([]Database, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, branch_id, name, owner_name, created_at, updated_at FROM databases
		WHERE branch_id = $1 ORDER BY id`, branchID)
	if err != nil {
		return nil, mapErr("branch databases", err)
	}
	return collect(rows, func(row pgx.Row) (Database, error) {
		var d Database
		err := row.Scan(&d.ID, &d.BranchID, &d.Name, &d.OwnerName, &d.CreatedAt, &d.UpdatedAt)
		return d, err
	})
}

// UpdateProject writes a project's changeable fields and returns it.
func (s *Store) UpdateProject(ctx context.Context, p Project) (Project, error) {
	out, err := scanProject(s.pool.QueryRow(ctx, `UPDATE projects SET name = $2, history_retention_seconds = $3,
		settings = $4, default_endpoint_settings = $5, updated_at = $6
		WHERE id = $1 AND deleted_at IS NULL RETURNING `+projectCols,
		p.ID, p.Name, p.HistoryRetentionSeconds, jsonOrEmpty(p.Settings), jsonOrEmpty(p.DefaultEndpointSettings), p.UpdatedAt))
	return out, mapErr("update project "+p.ID, err)
}

// OrgOwner returns the first admin of an org: the owner of its projects.
func (s *Store) OrgOwner(ctx context.Context, orgID string) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx, `SELECT u.id, u.email, u.name, u.created_at FROM org_members m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = $1 ORDER BY m.role = 'admin' DESC, m.joined_at, u.id LIMIT 1`, orgID).
		Scan(&u.ID, &u.Email, &u.Name, &u.CreatedAt)
	return u, mapErr("org owner "+orgID, err)
}
