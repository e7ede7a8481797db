package metastore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ErrTransferBusy is a transfer of a project with operations in flight.
var ErrTransferBusy = errors.New("project has running operations")

// TransferProjects moves projects from one org to another.
type TransferProjects struct {
	SourceOrgID, DestOrgID string
	ProjectIDs             []string
}

// TransferState is what a transfer's check sees, with both orgs and every
// project locked: the destination's plan and project count, and each
// project's branches and manual snapshots.
type TransferState struct {
	Source, Dest     Org
	SourcePlan, Plan Plan // the source's plan and the destination's
	DestProjectCount int
	Missing          []string // ids that are not live projects of the source org
	Projects         []TransferProject
}

// TransferProject is one project of a transfer.
type TransferProject struct {
	ID              string
	Branches        int
	ManualSnapshots int
	RootBranches    int
	// ProtectedBranches counts the project's protected branches.
	ProtectedBranches int
}

// TransferResult lists what applying the destination plan changed.
type TransferResult struct {
	// Capped are endpoints whose size or suspend timeout changed; a
	// running one keeps its compute until its next start.
	Capped []Endpoint
}

// TransferProjects moves projects to another org in one transaction: it
// locks both orgs (in id order, so that two transfers between the same
// orgs cannot deadlock) and the projects, refuses projects with
// operations in flight (ErrTransferBusy), lets check refuse the whole
// transfer, then changes the projects' org and applies the destination
// plan: endpoints' sizes and suspend timeouts, the projects' default
// endpoint settings and history retention are brought within its limits.
// Nothing else changes: endpoints keep their ids and hosts, so connection
// strings keep working.
func (s *Store) TransferProjects(ctx context.Context, in TransferProjects, check func(TransferState) error) (TransferResult, error) {
	var res TransferResult
	ids := slices.Clone(in.ProjectIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var st TransferState
		orgIDs := []string{in.SourceOrgID, in.DestOrgID}
		slices.Sort(orgIDs)
		rows, err := tx.Query(ctx, `SELECT `+orgCols+` FROM orgs o WHERE o.id = ANY($1) ORDER BY o.id FOR UPDATE`, orgIDs)
		if err != nil {
			return err
		}
		orgs, err := collect(rows, scanOrg)
		if err != nil {
			return err
		}
		for _, o := range orgs {
			if o.ID == in.SourceOrgID {
				st.Source = o
			}
			if o.ID == in.DestOrgID {
				st.Dest = o
			}
		}
		if st.Source.ID == "" {
			return fmt.Errorf("source org %s: %w", in.SourceOrgID, ErrNotFound)
		}
		if st.Dest.ID == "" {
			return fmt.Errorf("destination org %s: %w", in.DestOrgID, ErrNotFound)
		}
		if st.Plan, err = scanPlan(tx.QueryRow(ctx, `SELECT `+planCols+` FROM plans WHERE name = $1`, st.Dest.Plan)); err != nil {
			return fmt.Errorf("plan %s: %w", st.Dest.Plan, err)
		}
		if st.SourcePlan, err = scanPlan(tx.QueryRow(ctx, `SELECT `+planCols+` FROM plans WHERE name = $1`, st.Source.Plan)); err != nil {
			return fmt.Errorf("plan %s: %w", st.Source.Plan, err)
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM projects WHERE org_id = $1 AND deleted_at IS NULL`, in.DestOrgID).
			Scan(&st.DestProjectCount); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT p.id,
				(SELECT count(*) FROM branches b WHERE b.project_id = p.id),
				(SELECT count(*) FROM branches b WHERE b.project_id = p.id AND b.parent_id IS NULL),
				(SELECT count(*) FROM snapshots s WHERE s.project_id = p.id AND s.manual),
				(SELECT count(*) FROM branches b WHERE b.project_id = p.id AND b.protected),
				EXISTS (SELECT 1 FROM operations o WHERE o.project_id = p.id AND o.status IN ('scheduling', 'running', 'cancelling'))
			FROM projects p WHERE p.id = ANY($1) AND p.org_id = $2 AND p.deleted_at IS NULL
			ORDER BY p.id FOR UPDATE OF p`, ids, in.SourceOrgID)
		if err != nil {
			return err
		}
		busy := false
		found := map[string]bool{}
		for rows.Next() {
			var tp TransferProject
			var b bool
			if err := rows.Scan(&tp.ID, &tp.Branches, &tp.RootBranches, &tp.ManualSnapshots, &tp.ProtectedBranches, &b); err != nil {
				rows.Close()
				return err
			}
			busy = busy || b
			found[tp.ID] = true
			st.Projects = append(st.Projects, tp)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if !found[id] {
				st.Missing = append(st.Missing, id)
			}
		}
		if err := check(st); err != nil {
			return err
		}
		if busy {
			return ErrTransferBusy
		}
		p := st.Plan
		if _, err := tx.Exec(ctx, `UPDATE projects SET org_id = $2, updated_at = now(),
				history_retention_seconds = LEAST(history_retention_seconds, $3)
			WHERE id = ANY($1)`, ids, in.DestOrgID, p.HistoryRetentionMaxSeconds); err != nil {
			return err
		}
		// Sizes: max within the plan, min within [plan min, max], the
		// range no wider than the plan's spread. Suspend: at least the
		// plan's minimum; "never" becomes the default where the plan
		// does not allow it.
		rows, err = tx.Query(ctx, `WITH c AS (
				SELECT id, LEAST(GREATEST(max_cu, $2), $3) AS max_cu FROM endpoints WHERE project_id = ANY($1)
			), n AS (
				SELECT e.id, c.max_cu,
					LEAST(GREATEST(e.min_cu, $2, c.max_cu - $4), c.max_cu) AS min_cu,
					CASE WHEN e.suspend_timeout_seconds = -1 AND NOT $6 THEN 0
						WHEN e.suspend_timeout_seconds > 0 AND e.suspend_timeout_seconds < $5 THEN $5
						ELSE e.suspend_timeout_seconds END AS suspend
				FROM endpoints e JOIN c ON c.id = e.id
			)
			UPDATE endpoints e SET min_cu = n.min_cu, max_cu = n.max_cu, suspend_timeout_seconds = n.suspend, updated_at = now()
			FROM n WHERE e.id = n.id
				AND (e.min_cu <> n.min_cu OR e.max_cu <> n.max_cu OR e.suspend_timeout_seconds <> n.suspend)
			RETURNING `+prefixed("e.", endpointCols), ids, p.MinCU, p.MaxCU, p.MaxCUSpread, p.MinSuspendTimeoutSeconds, p.SuspendDisableAllowed)
		if err != nil {
			return err
		}
		if res.Capped, err = collect(rows, scanEndpoint); err != nil {
			return err
		}
		return capDefaultEndpointSettings(ctx, tx, ids, p)
	})
	return res, mapErr("transfer projects", err)
}

// capDefaultEndpointSettings brings the projects' default endpoint
// settings within a plan, so that endpoints created later start inside it.
func capDefaultEndpointSettings(ctx context.Context, tx pgx.Tx, ids []string, p Plan) error {
	rows, err := tx.Query(ctx, `SELECT id, default_endpoint_settings FROM projects WHERE id = ANY($1)`, ids)
	if err != nil {
		return err
	}
	type des struct {
		id  string
		raw json.RawMessage
	}
	all, err := collect(rows, func(r pgx.Row) (des, error) {
		var d des
		err := r.Scan(&d.id, &d.raw)
		return d, err
	})
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	for _, d := range all {
		m := map[string]any{}
		if len(d.raw) == 0 || json.Unmarshal(d.raw, &m) != nil {
			continue
		}
		changed := false
		num := func(k string) (float64, bool) {
			v, ok := m[k].(float64)
			return v, ok
		}
		maxCU, hasMax := num("autoscaling_limit_max_cu")
		minCU, hasMin := num("autoscaling_limit_min_cu")
		if hasMax && (maxCU > p.MaxCU || maxCU < p.MinCU) {
			maxCU = min(max(maxCU, p.MinCU), p.MaxCU)
			m["autoscaling_limit_max_cu"], changed = maxCU, true
		}
		if hasMin {
			lo := p.MinCU
			if hasMax {
				lo = max(lo, maxCU-p.MaxCUSpread)
			}
			hi := p.MaxCU
			if hasMax {
				hi = maxCU
			}
			if v := min(max(minCU, lo), hi); v != minCU {
				m["autoscaling_limit_min_cu"], changed = v, true
			}
		}
		if s, ok := num("suspend_timeout_seconds"); ok {
			switch {
			case s == -1 && !p.SuspendDisableAllowed:
				m["suspend_timeout_seconds"], changed = 0, true
			case s > 0 && int64(s) < p.MinSuspendTimeoutSeconds:
				m["suspend_timeout_seconds"], changed = p.MinSuspendTimeoutSeconds, true
			}
		}
		if !changed {
			continue
		}
		raw, err := json.Marshal(m)
		if err != nil {
			return err
		}
		b.Queue(`UPDATE projects SET default_endpoint_settings = $2 WHERE id = $1`, d.id, raw)
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// prefixed qualifies a column list with a table alias.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = alias + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
