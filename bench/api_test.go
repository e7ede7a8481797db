package bench

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
)

// seedProjects adds n projects to an org straight into Grove's internal
// metadata store, copying a real project's row: listing reads only
// metadata, and 30,000 real creates would measure the creates instead.
func seedProjects(b *testing.B, g *grovetest.Grove, like apitypes.CreatedProject, n int) {
	b.Helper()
	conn := g.MetaConn(b)
	_, err := conn.Exec(b.Context(), `INSERT INTO projects (id, org_id, name, region_id, pg_version, provisioner,
		store_passwords, history_retention_seconds, settings, default_endpoint_settings, created_at, updated_at)
		SELECT format('seed-proj-%s', lpad(i::text, 8, '0')), org_id, format('app-%s', i), region_id, pg_version,
			provisioner, store_passwords, history_retention_seconds, settings, default_endpoint_settings, now(), now()
		FROM projects, generate_series(1, $2) AS i WHERE id = $1`, like.Project.ID, n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(b.Context(), `ANALYZE projects`); err != nil {
		b.Fatal(err)
	}
}

// timeCalls calls GET path n times and returns each call's duration.
func timeCalls(b *testing.B, g *grovetest.Grove, n int, path func(i int) string) []time.Duration {
	b.Helper()
	ds := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		if st, raw := g.API("GET", path(i), nil, nil); st != 200 {
			b.Fatalf("GET %s: %d %s", path(i), st, raw)
		}
		ds = append(ds, time.Since(start))
	}
	return ds
}

// BenchmarkListProjects measures GET /projects pages of 100 in an org of
// 30,000 projects, walking the whole list by cursor, with and without the
// org filter (a personal key then lists all its orgs), and a search.
func BenchmarkListProjects(b *testing.B) {
	g := startOnBtrfs(b, 2048, false, "--pool-size", "1")
	org := g.OrgID("sponsored")
	seedProjects(b, g, createProject(b, g, org), 30000-1)
	b.ResetTimer()
	for range b.N {
		var page apitypes.ProjectsResponse
		var ds []time.Duration
		cursor := ""
		for {
			start := time.Now()
			path := "/projects?limit=100&org_id=" + org + "&cursor=" + url.QueryEscape(cursor)
			if st, raw := g.API("GET", path, nil, &page); st != 200 {
				b.Fatalf("list: %d %s", st, raw)
			}
			ds = append(ds, time.Since(start))
			if page.Pagination == nil || len(page.Projects) < 100 {
				break
			}
			cursor = page.Pagination.Cursor
		}
		// The 300th page is full, so a 301st, empty one ends the walk.
		if len(ds) != 301 {
			b.Fatalf("walked %d pages, want 301 for 30,000 projects", len(ds))
		}
		percentiles(b, "list_page_org", ds)
		percentiles(b, "list_page_all_orgs", timeCalls(b, g, 100, func(i int) string {
			return fmt.Sprintf("/projects?limit=100&cursor=seed-proj-%08d", i*300)
		}))
		percentiles(b, "list_search", timeCalls(b, g, 100, func(i int) string {
			return fmt.Sprintf("/projects?limit=100&org_id=%s&search=app-%d", org, 100+i)
		}))
	}
}

// BenchmarkMetadataCalls measures API calls that read only metadata (and
// the compute manager's memory), in an org of 30,000 projects.
func BenchmarkMetadataCalls(b *testing.B) {
	g := startOnBtrfs(b, 2048, false, "--pool-size", "1")
	org := g.OrgID("sponsored")
	cp := createProject(b, g, org)
	seedProjects(b, g, cp, 30000-1)
	p, br, ep := cp.Project.ID, cp.Branch.ID, cp.Endpoints[0].ID
	routes := []struct{ name, path string }{
		{"me", "/users/me"},
		{"project", "/projects/" + p},
		{"endpoint", "/projects/" + p + "/endpoints/" + ep},
		{"branches", "/projects/" + p + "/branches"},
		{"roles", "/projects/" + p + "/branches/" + br + "/roles"},
		{"databases", "/projects/" + p + "/branches/" + br + "/databases"},
		{"operations", "/projects/" + p + "/operations"},
	}
	b.ResetTimer()
	for range b.N {
		var all []time.Duration
		for _, r := range routes {
			ds := timeCalls(b, g, 200, func(int) string { return r.path })
			all = append(all, ds...)
			percentiles(b, "get_"+r.name, ds)
		}
		percentiles(b, "metadata_calls", all)
	}
}
