package clienttest

import (
	"slices"
	"strings"
	"testing"
)

// TestAPIClient runs testdata/api-client.mjs, which drives
// @neondatabase/api-client against grove, and checks what each call returned.
func TestAPIClient(t *testing.T) {
	e := start(t)
	v := e.runScript(t, "api-client.mjs")

	var me struct{ Email string }
	if decode(t, v, "getCurrentUserInfo", &me) && me.Email == "" {
		t.Errorf("getCurrentUserInfo: no email")
	}
	var orgs struct{ Organizations []struct{ ID, Name string } }
	if decode(t, v, "getCurrentUserOrganizations", &orgs) &&
		!slices.ContainsFunc(orgs.Organizations, func(o struct{ ID, Name string }) bool { return o.ID == e.org }) {
		t.Errorf("getCurrentUserOrganizations lacks %s: %+v", e.org, orgs)
	}

	var ids []string
	for _, name := range []string{"ac-1", "ac-2", "ac-3"} {
		var cp struct {
			Project    struct{ ID, Name string }
			Operations []struct{ Status string }
		}
		if decode(t, v, "createProject "+name, &cp) {
			if cp.Project.Name != name || len(cp.Operations) == 0 {
				t.Errorf("createProject %s: %+v", name, cp)
			}
			ids = append(ids, cp.Project.ID)
		}
	}

	var pages [][]string
	if decode(t, v, "listProjects pages", &pages) {
		var seen []string
		for _, pg := range pages {
			if len(pg) > 1 {
				t.Errorf("listProjects limit=1 gave a page of %d", len(pg))
			}
			seen = append(seen, pg...)
		}
		slices.Sort(seen)
		want := slices.Clone(ids)
		slices.Sort(want)
		if !slices.Equal(seen, want) {
			t.Errorf("listProjects pages %v, want each of %v once", pages, want)
		}
	}
	var found []string
	if decode(t, v, "listProjects search", &found) && !slices.Equal(found, []string{"ac-2"}) {
		t.Errorf("listProjects search=ac-2: %v", found)
	}

	var pr struct{ Project struct{ ID, Name string } }
	if decode(t, v, "getProject", &pr) && pr.Project.Name != "ac-1" {
		t.Errorf("getProject: %+v", pr)
	}
	if decode(t, v, "updateProject", &pr) && pr.Project.Name != "ac-1-renamed" {
		t.Errorf("updateProject: %+v", pr)
	}
	var branches struct {
		Branches []struct {
			ID, Name string
			Default  bool
		}
	}
	if decode(t, v, "listProjectBranches", &branches) &&
		(len(branches.Branches) != 1 || branches.Branches[0].Name != "main" || !branches.Branches[0].Default) {
		t.Errorf("listProjectBranches: %+v", branches)
	}
	var branch struct{ Branch struct{ ID, Name string } }
	if decode(t, v, "getProjectBranch", &branch) && branch.Branch.Name != "main" {
		t.Errorf("getProjectBranch: %+v", branch)
	}
	var endpoints struct{ Endpoints []struct{ ID, Type string } }
	if decode(t, v, "listProjectEndpoints", &endpoints) &&
		(len(endpoints.Endpoints) != 1 || endpoints.Endpoints[0].Type != "read_write") {
		t.Errorf("listProjectEndpoints: %+v", endpoints)
	}

	var db struct {
		Database struct {
			Name      string
			OwnerName string `json:"owner_name"`
		}
		Operations []struct{ Action string }
	}
	if decode(t, v, "createProjectBranchDatabase", &db) && (db.Database.Name != "extra_db" || db.Database.OwnerName != "app_user") {
		t.Errorf("createProjectBranchDatabase: %+v", db)
	}
	var dbs struct{ Databases []struct{ Name string } }
	if decode(t, v, "listProjectBranchDatabases", &dbs) {
		var names []string
		for _, d := range dbs.Databases {
			names = append(names, d.Name)
		}
		if slices.Sort(names); strings.Join(names, ",") != "app_db,extra_db" {
			t.Errorf("listProjectBranchDatabases: %v", names)
		}
	}
	var role struct {
		Role struct{ Name, Password string }
	}
	if decode(t, v, "createProjectBranchRole", &role) && (role.Role.Name != "reader" || role.Role.Password == "") {
		t.Errorf("createProjectBranchRole: %+v", role)
	}
	var roles struct{ Roles []struct{ Name string } }
	if decode(t, v, "listProjectBranchRoles", &roles) &&
		!slices.ContainsFunc(roles.Roles, func(r struct{ Name string }) bool { return r.Name == "reader" }) {
		t.Errorf("listProjectBranchRoles lacks reader: %+v", roles)
	}
	var pw struct{ Password string }
	if decode(t, v, "getProjectBranchRolePassword", &pw) && (pw.Password == "" || pw.Password != role.Role.Password) {
		t.Errorf("getProjectBranchRolePassword %q, want the created role's %q", pw.Password, role.Role.Password)
	}
	for step, want := range map[string]string{"getConnectionUri": "reader@extra_db", "getConnectionUri pooled": "app_user@app_db"} {
		var cu struct{ URI string }
		if !decode(t, v, step, &cu) {
			continue
		}
		user, dbname, err := connect(t, cu.URI)
		if strings.HasSuffix(step, "pooled") && poolingMissing(t, err) {
			continue
		}
		if err != nil || user+"@"+dbname != want {
			t.Errorf("%s: %s answered %s@%s, %v; want %s", step, cu.URI, user, dbname, err, want)
		}
	}

	var opPages [][]string
	if decode(t, v, "listProjectOperations pages", &opPages) {
		seen := map[string]bool{}
		for _, pg := range opPages {
			if len(pg) > 2 {
				t.Errorf("listProjectOperations limit=2 gave a page of %d", len(pg))
			}
			for _, id := range pg {
				if seen[id] {
					t.Errorf("operation %s on two pages: %v", id, opPages)
				}
				seen[id] = true
			}
		}
		// The create's operations, the database's and the role's at least.
		if len(seen) < 3 {
			t.Errorf("listProjectOperations pages %v: fewer than 3 operations", opPages)
		}
	}
	var op struct {
		Operation struct{ ID, Status, Action string }
	}
	if decode(t, v, "getProjectOperation", &op) && (op.Operation.ID == "" || op.Operation.Status == "") {
		t.Errorf("getProjectOperation: %+v", op)
	}

	var keys []struct {
		ID   int64
		Name string
	}
	if decode(t, v, "listApiKeys", &keys) && len(keys) == 0 {
		t.Errorf("listApiKeys is empty; the admin key is one")
	}
	var made struct {
		ID  int64
		Key string
	}
	if decode(t, v, "createApiKey", &made) && (made.ID == 0 || made.Key == "") {
		t.Errorf("createApiKey: %+v", made)
	}
	var email string
	if decode(t, v, "new key works", &email) && email != me.Email {
		t.Errorf("the new key is %q's, want %q's", email, me.Email)
	}
	var revoked struct {
		ID      int64
		Revoked bool
	}
	if decode(t, v, "revokeApiKey", &revoked) && (!revoked.Revoked || revoked.ID != made.ID) {
		t.Errorf("revokeApiKey: %+v", revoked)
	}

	for i, id := range ids {
		if i == 0 {
			continue // the script keeps the first project, whose URIs were connected to above
		}
		var got string
		if decode(t, v, "deleteProject "+id, &got) && got != id {
			t.Errorf("deleteProject %s returned %s", id, got)
		}
	}
	var status int
	if decode(t, v, "getProject after delete", &status) && status != 404 {
		t.Errorf("getProject after delete: %d, want 404", status)
	}
}
