package bench

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grovedb/grove/internal/grovetest"
)

// seedTransferable adds n projects to an org straight into the metadata
// store, each with a default branch and a read_write endpoint sized
// 0.25-4 CU with a 60 s suspend timeout, so that a move to the free org
// caps every one of them (the transfer's most expensive case). It returns
// their ids.
func seedTransferable(b *testing.B, g *grovetest.Grove, likeProjectID string, n int) []string {
	b.Helper()
	conn := g.MetaConn(b)
	rows, err := conn.Query(b.Context(), `WITH p AS (
			INSERT INTO projects (id, org_id, name, region_id, pg_version, provisioner, store_passwords,
				history_retention_seconds, settings, default_endpoint_settings, created_at, updated_at)
			SELECT format('seed-proj-%s', lpad(i::text, 8, '0')), org_id, format('app-%s', i), region_id, pg_version,
				provisioner, store_passwords, 604800, settings,
				'{"autoscaling_limit_min_cu":0.25,"autoscaling_limit_max_cu":4,"suspend_timeout_seconds":60}', now(), now()
			FROM projects, generate_series(1, $2) AS i WHERE id = $1 RETURNING id, region_id
		), br AS (
			INSERT INTO branches (id, project_id, name, is_default, volume_id, created_at, updated_at)
			SELECT 'br-seed-' || substr(id, 11), id, 'main', true, 'seed-volume-' || id, now(), now() FROM p
			RETURNING id, project_id
		), ep AS (
			INSERT INTO endpoints (id, project_id, branch_id, type, region_id, min_cu, max_cu, suspend_timeout_seconds, created_at, updated_at)
			SELECT 'ep-seed-' || substr(br.project_id, 11), br.project_id, br.id, 'read_write', p.region_id, 0.25, 4, 60, now(), now()
			FROM br JOIN p ON p.id = br.project_id RETURNING project_id
		)
		SELECT project_id FROM ep`, likeProjectID, n)
	if err != nil {
		b.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) != n {
		b.Fatalf("seed %d projects: %d, %v", n, len(ids), err)
	}
	if _, err := conn.Exec(b.Context(), `ANALYZE projects; ANALYZE branches; ANALYZE endpoints`); err != nil {
		b.Fatal(err)
	}
	return ids
}

// BenchmarkTransfer400 measures POST /organizations/{id}/projects/transfer
// of 400 projects (the most one call takes) from the paid org to the free
// org and back, each with a branch and an endpoint the free plan caps.
// The figure: ≤ 1 s.
func BenchmarkTransfer400(b *testing.B) {
	g := grovetest.Start(b, "--pool-size", "-1")
	paid, free := g.OrgID("paid"), g.OrgID("sponsored")
	like := createProject(b, g, paid)
	ids := append([]string{like.Project.ID}, seedTransferable(b, g, like.Project.ID, 399)...)
	body := func(dest string) string {
		s := `{"destination_org_id":"` + dest + `","project_ids":[`
		for i, id := range ids {
			if i > 0 {
				s += ","
			}
			s += `"` + id + `"`
		}
		return s + "]}"
	}
	from, to := paid, free
	var ds []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if st, raw := g.API("POST", "/organizations/"+from+"/projects/transfer", body(to), nil); st != 200 {
			b.Fatalf("transfer %d projects: %d %s", len(ids), st, raw)
		}
		ds = append(ds, time.Since(start))
		from, to = to, from
	}
	b.StopTimer()
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	metric(b, float64(total.Milliseconds())/float64(len(ds)), "ms/transfer400")
}
