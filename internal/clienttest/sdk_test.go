package clienttest

import (
	"slices"
	"strings"
	"testing"
)

// TestSDK runs testdata/sdk.mjs, which drives @neon/sdk against grove —
// including its readiness polling of operations — and checks each result.
func TestSDK(t *testing.T) {
	e := start(t)
	v := e.runScript(t, "sdk.mjs")

	var me struct{ Email string }
	if decode(t, v, "user.me", &me) && me.Email == "" {
		t.Errorf("user.me: no email")
	}
	var orgs []struct{ ID string }
	if decode(t, v, "user.organizations", &orgs) && !slices.ContainsFunc(orgs, func(o struct{ ID string }) bool { return o.ID == e.org }) {
		t.Errorf("user.organizations lacks %s: %+v", e.org, orgs)
	}
	var regions []struct {
		RegionID string `json:"region_id"`
	}
	if decode(t, v, "regions.list", &regions) && len(regions) == 0 {
		t.Errorf("regions.list is empty")
	}

	type project struct {
		ID, Name string
		OrgID    string `json:"org_id"`
	}
	var p project
	if decode(t, v, "projects.create", &p) && (p.ID == "" || p.Name != "sdk-app" || p.OrgID != e.org) {
		t.Errorf("projects.create: %+v (want org %s, the client's orgId)", p, e.org)
	}
	var conn struct {
		Project          project
		ConnectionString string
	}
	if decode(t, v, "projects.createAndConnect", &conn) {
		if user, db, err := connect(t, conn.ConnectionString); err != nil || user != "neondb_owner" || db != "neondb" {
			t.Errorf("createAndConnect's %s: %s@%s, %v", conn.ConnectionString, user, db, err)
		}
	}
	var got project
	if decode(t, v, "projects.get", &got) && got.ID != p.ID {
		t.Errorf("projects.get: %+v", got)
	}
	if decode(t, v, "projects.update", &got) && got.Name != "sdk-renamed" {
		t.Errorf("projects.update: %+v", got)
	}
	var listed []string
	if decode(t, v, "projects.list", &listed) {
		slices.Sort(listed)
		want := []string{p.ID, conn.Project.ID}
		slices.Sort(want)
		// The third project is made later; the list walked pages of one.
		if !slices.Equal(listed, want) {
			t.Errorf("projects.list (pages of 1): %v, want %v", listed, want)
		}
	}

	var branches []struct {
		ID, Name string
		Default  bool
	}
	if decode(t, v, "branches.list", &branches) && (len(branches) != 1 || !branches[0].Default) {
		t.Errorf("branches.list: %+v", branches)
	}
	var b struct{ ID, Name string }
	if decode(t, v, "branches.getDefault", &b) && b.Name != "main" {
		t.Errorf("branches.getDefault: %+v", b)
	}
	if decode(t, v, "branches.get", &b) && b.Name != "main" {
		t.Errorf("branches.get: %+v", b)
	}

	type named struct {
		Name      string
		OwnerName string `json:"owner_name"`
		Password  string
	}
	var n named
	if decode(t, v, "databases.create", &n) && n.Name != "sdk_db" {
		t.Errorf("databases.create: %+v", n)
	}
	if decode(t, v, "databases.get", &n) && (n.Name != "sdk_db" || n.OwnerName != "neondb_owner") {
		t.Errorf("databases.get: %+v", n)
	}
	var list []named
	if decode(t, v, "databases.list", &list) && len(list) != 2 {
		t.Errorf("databases.list: %+v", list)
	}
	if decode(t, v, "roles.create", &n) && (n.Name != "sdk_role" || n.Password == "") {
		t.Errorf("roles.create: %+v", n)
	}
	var pw string
	if decode(t, v, "roles.password", &pw) && pw != n.Password {
		t.Errorf("roles.password %q, want the created role's %q", pw, n.Password)
	}
	var reset named
	if decode(t, v, "roles.resetPassword", &reset) && (reset.Password == "" || reset.Password == pw) {
		t.Errorf("roles.resetPassword gave password %q (was %q)", reset.Password, pw)
	}
	if decode(t, v, "roles.list", &list) && len(list) != 2 {
		t.Errorf("roles.list: %+v", list)
	}
	var uri string
	if decode(t, v, "postgres.connectionString", &uri) {
		if user, db, err := connect(t, uri); err != nil || user != "neondb_owner" || db != "neondb" {
			t.Errorf("postgres.connectionString %s: %s@%s, %v", uri, user, db, err)
		}
	}

	var ep struct {
		ID           string
		CurrentState string `json:"current_state"`
	}
	if decode(t, v, "endpoints.suspend", &ep) && ep.ID == "" {
		t.Errorf("endpoints.suspend: %+v", ep)
	}
	if decode(t, v, "endpoints.start", &ep) && ep.ID == "" {
		t.Errorf("endpoints.start: %+v", ep)
	}
	if decode(t, v, "endpoints.get", &ep) && ep.CurrentState != "active" {
		t.Errorf("endpoint after start (operations waited for): %+v", ep)
	}

	var ops []struct{ ID, Status string }
	if decode(t, v, "operations.list", &ops) && len(ops) == 0 {
		t.Errorf("operations.list is empty")
	}
	var waited []string
	if decode(t, v, "operations.waitFor", &waited) {
		for _, id := range waited {
			if e.log.count("GET /api/v2/projects/"+p.ID+"/operations/"+id+" ") == 0 {
				t.Errorf("operations.waitFor did not poll operation %s", id)
			}
		}
	}
	var keys []struct{ ID int64 }
	if decode(t, v, "apiKeys.list", &keys) && len(keys) == 0 {
		t.Errorf("apiKeys.list is empty")
	}

	var doomed, deleted project
	if decode(t, v, "projects.create without waiting", &doomed) && decode(t, v, "projects.delete", &deleted) && deleted.ID != doomed.ID {
		t.Errorf("projects.delete returned %+v, want %s", deleted, doomed.ID)
	}
	var kind string
	if decode(t, v, "projects.get after delete", &kind) && kind != "not_found" {
		t.Errorf("projects.get after delete: %q, want not_found", kind)
	}
	if t.Failed() && strings.Contains(e.log.String(), "→ 423") {
		t.Log("a request got 423: an operation was still running")
	}
}
