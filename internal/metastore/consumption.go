package metastore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ConsumptionRow is an increment of one branch's usage in one bucket.
type ConsumptionRow struct {
	ProjectID, BranchID string
	Bucket              time.Time
	ActiveSeconds       float64
	ComputeSeconds      float64
	WrittenBytes        int64
	TransferBytes       int64
}

// AddConsumption adds rows to the consumption table in one statement and
// records each touched branch's current logical size as the bucket's
// largest seen.
func (s *Store) AddConsumption(ctx context.Context, rows []ConsumptionRow) error {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	var (
		projects, branches = make([]string, n), make([]string, n)
		buckets            = make([]time.Time, n)
		active, cpu        = make([]float64, n), make([]float64, n)
		written, transfer  = make([]int64, n), make([]int64, n)
	)
	for i, r := range rows {
		projects[i], branches[i], buckets[i] = r.ProjectID, r.BranchID, r.Bucket
		active[i], cpu[i], written[i], transfer[i] = r.ActiveSeconds, r.ComputeSeconds, r.WrittenBytes, r.TransferBytes
	}
	// Rows of one key are summed first: ON CONFLICT cannot touch a row twice.
	_, err := s.pool.Exec(ctx, `
		INSERT INTO consumption AS c (project_id, branch_id, bucket, active_time_seconds, compute_time_seconds,
			written_data_bytes, data_transfer_bytes, logical_size_bytes)
		SELECT u.project_id, u.branch_id, u.bucket, sum(u.active), sum(u.cpu), sum(u.written), sum(u.transfer),
			coalesce(max(b.logical_size), 0)
		FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[], $5::float8[], $6::bigint[], $7::bigint[])
			AS u(project_id, branch_id, bucket, active, cpu, written, transfer)
		LEFT JOIN branches b ON b.id = u.branch_id
		GROUP BY u.project_id, u.branch_id, u.bucket
		ON CONFLICT (project_id, bucket, branch_id) DO UPDATE SET
			active_time_seconds = c.active_time_seconds + excluded.active_time_seconds,
			compute_time_seconds = c.compute_time_seconds + excluded.compute_time_seconds,
			written_data_bytes = c.written_data_bytes + excluded.written_data_bytes,
			data_transfer_bytes = c.data_transfer_bytes + excluded.data_transfer_bytes,
			logical_size_bytes = greatest(c.logical_size_bytes, excluded.logical_size_bytes)`,
		projects, branches, buckets, active, cpu, written, transfer)
	return mapErr("add consumption", err)
}

// ConsumptionQuery selects consumption summed per timeframe.
type ConsumptionQuery struct {
	ProjectIDs []string
	BranchIDs  []string // optional filter; per-branch results when ByBranch
	ByBranch   bool
	From, To   time.Time // buckets in [From, To)
	// Trunc is the timeframe: "hour", "day" or "month" (UTC).
	Trunc string
	// BucketSeconds is the bucket length, to turn sizes into byte-hours.
	BucketSeconds float64
}

// ConsumptionPoint is the usage of a project (or branch) in one timeframe.
type ConsumptionPoint struct {
	ProjectID, BranchID string
	Start               time.Time
	ActiveSeconds       float64
	ComputeSeconds      float64
	WrittenBytes        int64
	TransferBytes       int64
	// StorageBytes is the largest size seen in the timeframe (the sum of the
	// branches' sizes per bucket), StorageByteHours its sum over hours.
	StorageBytes     int64
	StorageByteHours int64
}

// Consumption returns q's timeframes with any usage, per project (and
// branch), oldest first.
func (s *Store) Consumption(ctx context.Context, q ConsumptionQuery) ([]ConsumptionPoint, error) {
	switch q.Trunc {
	case "hour", "day", "month":
	default:
		return nil, fmt.Errorf("consumption: bad timeframe %q", q.Trunc)
	}
	if q.BucketSeconds <= 0 {
		q.BucketSeconds = 3600
	}
	branchKey := `''`
	if q.ByBranch {
		branchKey = `branch_id`
	}
	var branchFilter []string
	if len(q.BranchIDs) > 0 {
		branchFilter = q.BranchIDs
	}
	rows, err := s.pool.Query(ctx, `
		WITH per_bucket AS (
			SELECT project_id, `+branchKey+` AS branch_id, bucket,
				sum(active_time_seconds) AS active, sum(compute_time_seconds) AS cpu,
				sum(written_data_bytes) AS written, sum(data_transfer_bytes) AS transfer,
				sum(logical_size_bytes) AS size
			FROM consumption
			WHERE project_id = ANY($1) AND bucket >= $2 AND bucket < $3
				AND ($6::text[] IS NULL OR branch_id = ANY($6))
			GROUP BY 1, 2, 3)
		SELECT project_id, branch_id, date_trunc($4, bucket, 'UTC') AS tf,
			sum(active)::float8, sum(cpu)::float8, sum(written)::bigint, sum(transfer)::bigint,
			max(size)::bigint, (sum(size) * $5 / 3600)::bigint
		FROM per_bucket GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
		q.ProjectIDs, q.From, q.To, q.Trunc, q.BucketSeconds, branchFilter)
	if err != nil {
		return nil, mapErr("consumption", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ConsumptionPoint, error) {
		var p ConsumptionPoint
		err := r.Scan(&p.ProjectID, &p.BranchID, &p.Start, &p.ActiveSeconds, &p.ComputeSeconds,
			&p.WrittenBytes, &p.TransferBytes, &p.StorageBytes, &p.StorageByteHours)
		p.Start = p.Start.UTC()
		return p, err
	})
	return out, mapErr("consumption", err)
}

// EndpointOwner is the project and branch of an endpoint.
type EndpointOwner struct{ ProjectID, BranchID string }

// EndpointOwners returns the project and branch of each existing endpoint
// among ids.
func (s *Store) EndpointOwners(ctx context.Context, ids []string) (map[string]EndpointOwner, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, project_id, branch_id FROM endpoints WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, mapErr("endpoint owners", err)
	}
	defer rows.Close()
	out := map[string]EndpointOwner{}
	for rows.Next() {
		var id string
		var o EndpointOwner
		if err := rows.Scan(&id, &o.ProjectID, &o.BranchID); err != nil {
			return nil, mapErr("endpoint owners", err)
		}
		out[id] = o
	}
	return out, mapErr("endpoint owners", rows.Err())
}

// ProjectQuotas are the quotas of the live projects that set any, by
// project id; values are the raw settings.quota object.
func (s *Store) ProjectQuotas(ctx context.Context, ids []string) (map[string]json.RawMessage, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, settings->'quota' FROM projects
		WHERE deleted_at IS NULL AND jsonb_typeof(settings->'quota') = 'object' AND settings->'quota' <> '{}'::jsonb
			AND ($1::text[] IS NULL OR id = ANY($1))`, ids)
	if err != nil {
		return nil, mapErr("project quotas", err)
	}
	defer rows.Close()
	out := map[string]json.RawMessage{}
	for rows.Next() {
		var id string
		var q json.RawMessage
		if err := rows.Scan(&id, &q); err != nil {
			return nil, mapErr("project quotas", err)
		}
		out[id] = q
	}
	return out, mapErr("project quotas", rows.Err())
}

// BranchUsageInfo is what consumption needs of a branch.
type BranchUsageInfo struct {
	ProjectID, ID string
	Root          bool // no parent: Neon's root branches
	LogicalSize   int64
}

// BranchUsageInfos returns the live branches of the projects, by project
// then branch id.
func (s *Store) BranchUsageInfos(ctx context.Context, projectIDs []string) ([]BranchUsageInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT project_id, id, parent_id IS NULL, coalesce(logical_size, 0)
		FROM branches WHERE project_id = ANY($1) ORDER BY project_id, id`, projectIDs)
	if err != nil {
		return nil, mapErr("branch usage", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BranchUsageInfo, error) {
		var b BranchUsageInfo
		err := r.Scan(&b.ProjectID, &b.ID, &b.Root, &b.LogicalSize)
		return b, err
	})
	return out, mapErr("branch usage", err)
}
