package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/client"
	"github.com/grovedb/grove/internal/grovetest"
)

// keyClient is a client of g's API with key, whose responses the spec checks.
func keyClient(g *grovetest.Grove, key string) *client.Client {
	return client.New("http://"+g.APIAddr+"/api/v2", key, client.WithHTTPClient(&http.Client{
		Transport: checkingTransport{g: g},
	}))
}

// rawCall sends body as is with key and returns the status and the body,
// checked against the spec.
func rawCall(t *testing.T, g *grovetest.Grove, key, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+g.APIAddr+"/api/v2"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: checkingTransport{g: g}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}

func wantStatus(t *testing.T, what string, err error, status int) {
	t.Helper()
	if got := client.StatusCode(err); got != status {
		t.Errorf("%s: %v, want %d", what, err, status)
	}
}

// TestAPIKeyLifecycle: a personal key is shown once, works at once, is
// listed without its secret and with its last use, and is refused as soon
// as it is revoked.
func TestAPIKeyLifecycle(t *testing.T) {
	g := start(t, "--pool-size", "-1")
	ctx := t.Context()
	admin := keyClient(g, g.Key)
	me, err := admin.CurrentUser(ctx)
	if err != nil {
		t.Fatal(err)
	}

	created, err := admin.CreateAPIKey(ctx, apitypes.ApiKeyCreateRequest{KeyName: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Key, "napi_") || len(created.Key) != 69 || created.Name != "ci" || created.CreatedBy != me.ID {
		t.Fatalf("created key: %+v", created)
	}
	c := keyClient(g, created.Key)
	if u, err := c.CurrentUser(ctx); err != nil || u.ID != me.ID {
		t.Fatalf("users/me with the new key: %+v, %v", u, err)
	}
	if a, err := c.AuthDetails(ctx); err != nil || a.AuthMethod != "api_key_user" || a.AccountID != me.ID {
		t.Fatalf("auth details of a personal key: %+v, %v", a, err)
	}
	if orgs, err := c.ListUserOrganizations(ctx); err != nil || len(orgs) != 2 {
		t.Fatalf("a personal key reaches the user's orgs: %+v, %v", orgs, err)
	}

	st, raw := rawCall(t, g, g.Key, "GET", "/api_keys", "")
	if st != 200 || bytes.Contains(raw, []byte(created.Key)) || bytes.Contains(raw, []byte(`"key"`)) {
		t.Fatalf("list shows a secret or failed: %d %s", st, raw)
	}
	keys, err := admin.ListAPIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var listed *apitypes.ApiKeysListResponseItem
	for i := range keys {
		if keys[i].ID == created.ID {
			listed = &keys[i]
		}
	}
	if len(keys) != 2 || listed == nil || listed.LastUsedAt == nil || listed.CreatedBy.ID != me.ID || listed.CreatedBy.Name != "admin" {
		t.Fatalf("list after use: %+v", keys)
	}

	// A key revokes itself; it is refused at once.
	revoked, err := c.RevokeAPIKey(ctx, created.ID)
	if err != nil || !revoked.Revoked || revoked.ID != created.ID || revoked.LastUsedAt == nil {
		t.Fatalf("revoke: %+v, %v", revoked, err)
	}
	_, err = c.CurrentUser(ctx)
	wantStatus(t, "revoked key", err, 401)
	if keys, err := admin.ListAPIKeys(ctx); err != nil || len(keys) != 1 {
		t.Fatalf("list after revoke: %+v, %v", keys, err)
	}
	_, err = admin.RevokeAPIKey(ctx, created.ID)
	wantStatus(t, "second revoke", err, 404)
}

// TestKeyReach: each key kind reaches what Neon's does: a personal key its
// user's orgs, an org key one org (org_id inferred), a project-scoped key
// one project, which it cannot leave nor add to. The rest is 404.
func TestKeyReach(t *testing.T) {
	g := start(t, "--pool-size", "-1")
	ctx := t.Context()
	admin := keyClient(g, g.Key)
	paid, sponsored := g.OrgID("paid"), g.OrgID("sponsored")

	// Org key of "paid": creates there without org_id or naming its org;
	// naming another org is refused as not found, and creates nothing.
	ok, err := admin.CreateOrgAPIKey(ctx, paid, apitypes.OrgApiKeyCreateRequest{KeyName: "paid-org"})
	if err != nil || ok.ProjectID != "" {
		t.Fatalf("org key: %+v, %v", ok, err)
	}
	org := keyClient(g, ok.Key)
	p1, err := org.CreateProject(ctx, apitypes.ProjectCreateRequest{Project: apitypes.ProjectCreate{Name: "p1"}})
	if err != nil || p1.Project.OrgID != paid {
		t.Fatalf("org key creates without org_id: %+v, %v", p1, err)
	}
	_, err = org.CreateProject(ctx, apitypes.ProjectCreateRequest{Project: apitypes.ProjectCreate{Name: "p3", OrgID: sponsored}})
	wantStatus(t, "org key names another org", err, 404)
	if ce, isAPI := errors.AsType[*client.Error](err); !isAPI || ce.Body.Message != "organization "+sponsored+" not found: an organization API key creates projects only in its own organization" {
		t.Errorf("org key names another org: %v", err)
	}
	if list, err := admin.ListProjects(ctx, client.ListProjectsParams{OrgID: sponsored}); err != nil || len(list.Projects) != 0 {
		t.Fatalf("projects of the other org after the refusal: %+v, %v", list, err)
	}
	p3, err := org.CreateProject(ctx, apitypes.ProjectCreateRequest{Project: apitypes.ProjectCreate{Name: "p3", OrgID: paid}})
	if err != nil || p3.Project.OrgID != paid {
		t.Fatalf("org key names its own org: %+v, %v", p3, err)
	}
	p2, err := admin.CreateProject(ctx, apitypes.ProjectCreateRequest{Project: apitypes.ProjectCreate{Name: "p2", OrgID: sponsored}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.CreateProject(ctx, apitypes.ProjectCreateRequest{Project: apitypes.ProjectCreate{Name: "no-org"}})
	wantStatus(t, "personal key of two orgs without org_id", err, 400)

	if a, err := org.AuthDetails(ctx); err != nil || a.AuthMethod != "api_key_org" || a.AccountID != paid {
		t.Errorf("auth details of an org key: %+v, %v", a, err)
	}
	if orgs, err := org.ListUserOrganizations(ctx); err != nil || len(orgs) != 1 || orgs[0].ID != paid {
		t.Errorf("an org key's orgs: %+v, %v", orgs, err)
	}
	if o, err := org.GetOrganization(ctx, paid); err != nil || o.Plan != "paid" {
		t.Errorf("org key gets its org: %+v, %v", o, err)
	}
	_, err = org.GetOrganization(ctx, sponsored)
	wantStatus(t, "org key, another org", err, 404)
	_, err = org.GetProject(ctx, p2.Project.ID)
	wantStatus(t, "org key, another org's project", err, 404)
	_, err = org.ListOrgAPIKeys(ctx, sponsored)
	wantStatus(t, "org key, another org's keys", err, 404)
	_, err = org.ListProjects(ctx, client.ListProjectsParams{OrgID: sponsored})
	wantStatus(t, "org key, another org's projects", err, 404)
	if list, err := org.ListProjects(ctx, client.ListProjectsParams{}); err != nil || len(list.Projects) != 2 {
		t.Errorf("org key lists its org's projects: %+v, %v", list, err)
	}
	_, err = org.CreateOrgAPIKey(ctx, paid, apitypes.OrgApiKeyCreateRequest{KeyName: "by-org-key"})
	wantStatus(t, "org key creates an org-wide key", err, 403)
	_, err = org.ListAPIKeys(ctx)
	wantStatus(t, "org key lists personal keys", err, 403)

	// Project-scoped key for p1, made by the org key.
	pk, err := org.CreateOrgAPIKey(ctx, paid, apitypes.OrgApiKeyCreateRequest{KeyName: "p1-only", ProjectID: p1.Project.ID})
	if err != nil || pk.ProjectID != p1.Project.ID {
		t.Fatalf("project-scoped key: %+v, %v", pk, err)
	}
	scoped := keyClient(g, pk.Key)
	if _, err := scoped.GetProject(ctx, p1.Project.ID); err != nil {
		t.Errorf("scoped key, its project: %v", err)
	}
	if _, err := scoped.UpdateProject(ctx, p1.Project.ID, apitypes.ProjectUpdateRequest{Project: apitypes.ProjectUpdate{Name: "p1-renamed"}}); err != nil {
		t.Errorf("scoped key renames its project: %v", err)
	}
	_, err = scoped.UpdateProject(ctx, p3.Project.ID, apitypes.ProjectUpdateRequest{Project: apitypes.ProjectUpdate{Name: "taken"}})
	wantStatus(t, "scoped key renames a sibling project", err, 404)
	dbs := "/projects/" + p1.Project.ID + "/branches/" + p1.Branch.ID + "/databases"
	if st, raw := rawCall(t, g, pk.Key, "POST", dbs, `{"database":{"name":"scoped_db","owner_name":"neondb_owner"}}`); st != 201 {
		t.Errorf("scoped key creates a database in its project: %d %s", st, raw)
	}
	if st, raw := rawCall(t, g, pk.Key, "GET", dbs, ""); st != 200 || !bytes.Contains(raw, []byte("scoped_db")) {
		t.Errorf("scoped key lists its project's databases: %d %s", st, raw)
	}
	if eps, err := scoped.ListEndpoints(ctx, p1.Project.ID); err != nil || len(eps) != 1 {
		t.Errorf("scoped key, endpoints: %+v, %v", eps, err)
	}
	if ops, err := scoped.ListOperations(ctx, p1.Project.ID, client.ListOperationsParams{}); err != nil || len(ops.Operations) == 0 {
		t.Errorf("scoped key, operations: %+v, %v", ops, err)
	}
	if list, err := scoped.ListProjects(ctx, client.ListProjectsParams{}); err != nil || len(list.Projects) != 1 || list.Projects[0].ID != p1.Project.ID {
		t.Errorf("scoped key lists only its project: %+v, %v", list, err)
	}
	for _, other := range []string{p3.Project.ID, p2.Project.ID} {
		_, err = scoped.GetProject(ctx, other)
		wantStatus(t, "scoped key, project "+other, err, 404)
		_, err = scoped.ListEndpoints(ctx, other)
		wantStatus(t, "scoped key, endpoints of "+other, err, 404)
	}
	_, err = scoped.CreateProject(ctx, apitypes.ProjectCreateRequest{Project: apitypes.ProjectCreate{Name: "nope"}})
	var ce *client.Error
	if client.StatusCode(err) != 403 || !errors.As(err, &ce) || ce.Body.Message != "project-scoped API keys cannot create projects" {
		t.Errorf("scoped key creates a project: %v, want 403", err)
	}
	_, err = scoped.DeleteProject(ctx, p1.Project.ID)
	wantStatus(t, "scoped key deletes its project", err, 403)
	if _, err := scoped.GetProject(ctx, p1.Project.ID); err != nil {
		t.Errorf("project gone after a refused delete: %v", err)
	}
	_, err = scoped.ListOrgAPIKeys(ctx, paid)
	wantStatus(t, "scoped key lists org keys", err, 403)
	_, err = scoped.GetOrganization(ctx, sponsored)
	wantStatus(t, "scoped key, another org", err, 404)
	if a, err := scoped.AuthDetails(ctx); err != nil || a.AuthMethod != "api_key_org" || a.AccountID != paid {
		t.Errorf("auth details of a scoped key: %+v, %v", a, err)
	}

	// The org lists both keys, the scoped one with its project; revoking the
	// org key cuts it off at once and leaves the scoped one working.
	keys, err := admin.ListOrgAPIKeys(ctx, paid)
	if err != nil || len(keys) != 2 || keys[0].ID != ok.ID || keys[1].ProjectID != p1.Project.ID || keys[0].LastUsedAt == nil {
		t.Fatalf("org keys: %+v, %v", keys, err)
	}
	if r, err := admin.RevokeOrgAPIKey(ctx, paid, ok.ID); err != nil || !r.Revoked {
		t.Fatalf("revoke org key: %+v, %v", r, err)
	}
	_, err = org.GetProject(ctx, p1.Project.ID)
	wantStatus(t, "revoked org key", err, 401)
	if _, err := scoped.GetProject(ctx, p1.Project.ID); err != nil {
		t.Errorf("scoped key after its creator key's revocation: %v", err)
	}

	// Personal keys reach both orgs and their projects.
	for _, id := range []string{p1.Project.ID, p2.Project.ID, p3.Project.ID} {
		if _, err := admin.GetProject(ctx, id); err != nil {
			t.Errorf("personal key, project %s: %v", id, err)
		}
	}
}

// TestOrganizations: org details, members and a member, as bare objects.
func TestOrganizations(t *testing.T) {
	g := start(t, "--pool-size", "-1")
	ctx := t.Context()
	admin := keyClient(g, g.Key)
	paid := g.OrgID("paid")
	me, err := admin.CurrentUser(ctx)
	if err != nil || me.Plan == "" || me.ProjectsLimit == 0 {
		t.Fatalf("users/me: %+v, %v", me, err)
	}
	o, err := admin.GetOrganization(ctx, paid)
	if err != nil || o.ID != paid || o.Name != "paid" || o.ManagedBy != "console" {
		t.Fatalf("org: %+v, %v", o, err)
	}
	_, err = admin.GetOrganization(ctx, "org-nope-nope-12345678")
	wantStatus(t, "unknown org", err, 404)
	ms, err := admin.ListOrganizationMembers(ctx, paid, client.ListMembersParams{})
	if err != nil || len(ms.Members) != 1 || ms.Pagination == nil || ms.Pagination.SortBy != "joined_at" || ms.Pagination.SortOrder != "DESC" {
		t.Fatalf("members: %+v, %v", ms, err)
	}
	m := ms.Members[0]
	if m.Member.Role != "admin" || m.Member.UserID != me.ID || m.Member.OrgID != paid || m.User.Email != me.Email {
		t.Errorf("member: %+v", m)
	}
	if got, err := admin.GetOrganizationMember(ctx, paid, m.Member.ID); err != nil || got.ID != m.Member.ID {
		t.Errorf("member get: %+v, %v", got, err)
	}
	_, err = admin.GetOrganizationMember(ctx, g.OrgID("sponsored"), m.Member.ID)
	wantStatus(t, "member of another org", err, 404)
	for _, p := range []client.ListMembersParams{{SortBy: "name"}, {SortOrder: "up"}, {Limit: 501}, {Cursor: "not-a-cursor"}} {
		_, err := admin.ListOrganizationMembers(ctx, paid, p)
		wantStatus(t, "members with "+strconv.Quote(p.SortBy+p.SortOrder+p.Cursor)+" limit "+strconv.Itoa(p.Limit), err, 400)
	}
}

// TestAPIKeyBadInput: each bad request gets Neon's status and error body
// and changes nothing.
func TestAPIKeyBadInput(t *testing.T) {
	g := start(t, "--pool-size", "-1")
	ctx := t.Context()
	admin := keyClient(g, g.Key)
	paid, sponsored := g.OrgID("paid"), g.OrgID("sponsored")
	ok, err := admin.CreateOrgAPIKey(ctx, paid, apitypes.OrgApiKeyCreateRequest{KeyName: "paid-org"})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := admin.CreateProject(ctx, apitypes.ProjectCreateRequest{Project: apitypes.ProjectCreate{Name: "p2", OrgID: sponsored}})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("k", 65)
	okID := strconv.FormatInt(ok.ID, 10)
	tests := []struct {
		name, method, path, body string
		status                   int
		msg                      string // part of the message
	}{
		{"missing key_name", "POST", "/api_keys", `{}`, 400, "key_name"},
		{"null key_name", "POST", "/api_keys", `{"key_name":null}`, 400, "key_name"},
		{"long key_name", "POST", "/api_keys", `{"key_name":"` + long + `"}`, 400, "key_name"},
		{"key_name not a string", "POST", "/api_keys", `{"key_name":5}`, 400, "key_name"},
		{"bad JSON", "POST", "/api_keys", `{"key_name":`, 400, "invalid request"},
		{"no body", "POST", "/api_keys", ``, 400, "invalid request"},
		{"blank key_name", "POST", "/api_keys", `{"key_name":"  "}`, 400, "key_name"},
		{"unknown key id", "DELETE", "/api_keys/987654321", ``, 404, "not found"},
		{"key id not a number", "DELETE", "/api_keys/abc", ``, 400, "key_id"},
		{"org key through the personal route", "DELETE", "/api_keys/" + okID, ``, 404, "not found"},
		{"another org's key", "DELETE", "/organizations/" + sponsored + "/api_keys/" + okID, ``, 404, "not found"},
		{"org key missing key_name", "POST", "/organizations/" + paid + "/api_keys", `{"project_id":"x"}`, 400, "key_name"},
		{"bad project_id", "POST", "/organizations/" + paid + "/api_keys", `{"key_name":"k","project_id":"Bad!"}`, 400, "project_id"},
		{"another org's project", "POST", "/organizations/" + paid + "/api_keys", `{"key_name":"k","project_id":"` + p2.Project.ID + `"}`, 404, "not found"},
		{"unknown project", "POST", "/organizations/" + paid + "/api_keys", `{"key_name":"k","project_id":"nope-nope-12345678"}`, 404, "not found"},
		{"unknown org", "POST", "/organizations/org-nope-nope-12345678/api_keys", `{"key_name":"k"}`, 404, "not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, raw := rawCall(t, g, g.Key, tc.method, tc.path, tc.body)
			var e apitypes.GeneralError
			if st != tc.status || json.Unmarshal(raw, &e) != nil || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("%d %s, want %d with %q", st, raw, tc.status, tc.msg)
			}
		})
	}
	if keys, err := admin.ListAPIKeys(ctx); err != nil || len(keys) != 1 {
		t.Errorf("personal keys after bad requests: %+v, %v", keys, err)
	}
	if keys, err := admin.ListOrgAPIKeys(ctx, paid); err != nil || len(keys) != 1 {
		t.Errorf("org keys after bad requests: %+v, %v", keys, err)
	}
	if _, err := keyClient(g, ok.Key).GetOrganization(ctx, paid); err != nil {
		t.Errorf("org key after bad revokes: %v", err)
	}
}
