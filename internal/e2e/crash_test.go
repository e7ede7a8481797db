package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
)

// TestKillDuringCreate kills grove with SIGKILL while project creates are in
// flight. After a restart every project that got a 201 works, every project
// the API lists works, and no volume is left that no project owns.
func TestKillDuringCreate(t *testing.T) {
	g := start(t)
	org := g.OrgID("sponsored")

	var (
		mu      sync.Mutex
		created []apitypes.CreatedProject
		wg      sync.WaitGroup
	)
	killed := make(chan struct{})
	var once sync.Once
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				select {
				case <-killed:
					return
				default:
				}
				var cp apitypes.CreatedProject
				st, _ := g.TryAPI("POST", "/projects", grovetest.SeedBody(org), &cp)
				if st != 201 {
					continue // the kill cut the request short
				}
				mu.Lock()
				created = append(created, cp)
				n := len(created)
				mu.Unlock()
				if n == 5 {
					once.Do(func() { g.Kill(); close(killed) })
				}
			}
		}()
	}
	wg.Wait()
	if len(created) < 5 {
		t.Fatalf("only %d projects created before the kill", len(created))
	}

	g.Start()
	var list apitypes.ProjectsResponse
	if st, raw := g.API("GET", "/projects?limit=400&org_id="+org, nil, &list); st != 200 {
		t.Fatalf("list: %d %s", st, raw)
	}
	listed := map[string]bool{}
	for _, p := range list.Projects {
		listed[p.ID] = true
	}
	for _, cp := range created {
		if !listed[cp.Project.ID] {
			t.Errorf("project %s got a 201 but is gone after the restart", cp.Project.ID)
			continue
		}
		uri := cp.ConnectionURIs[0].ConnectionURI
		if out, err := grovetest.Psql(t, uri, "select current_user"); err != nil || out != "app_user" {
			t.Errorf("project %s after restart: %v: %s", cp.Project.ID, err, out)
		}
	}
	// Every listed project is whole: its endpoint answers.
	for _, p := range list.Projects {
		var eps apitypes.EndpointsResponse
		if st, raw := g.API("GET", "/projects/"+p.ID+"/endpoints", nil, &eps); st != 200 || len(eps.Endpoints) != 1 {
			t.Errorf("project %s endpoints: %d %s", p.ID, st, raw)
		}
	}
	// No volume is left that neither a project nor the warm pool owns: the
	// warm pool holds at most one volume per installed version.
	entries, err := os.ReadDir(filepath.Join(g.DataDir, "volumes"))
	if err != nil {
		t.Fatal(err)
	}
	vols := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "vol-") {
			vols++
		}
	}
	if max := len(list.Projects) + 4; vols > max {
		t.Errorf("%d volumes for %d projects: half-made ones were left behind", vols, len(list.Projects))
	}
}
