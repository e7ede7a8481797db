package accounts

import (
	"context"
	"errors"
	"testing"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pgtest"
)

// fixture is Accounts over a real metadata store after the first start,
// with the admin's key.
func fixture(t *testing.T) (*Accounts, BootstrapResult) {
	t.Helper()
	srv := pgtest.Start(t)
	st, err := metastore.Open(t.Context(), srv.AdminDSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	a := New(st)
	var saved string
	boot, err := a.Bootstrap(t.Context(), func(key string) error { saved = key; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !boot.Created || boot.APIKey == "" || saved != boot.APIKey || len(boot.Orgs) != 2 {
		t.Fatalf("first start: %+v (saved %q)", boot, saved)
	}
	return a, boot
}

func wantKind(t *testing.T, what string, err error, k errkind.Kind) {
	t.Helper()
	if errkind.Of(err) != k || err == nil {
		t.Errorf("%s: %v, want an error of kind %d", what, err, k)
	}
}

// TestKeys: keys resolve to principals; each key kind manages only the
// keys its rules allow; a revoked key no longer authenticates.
func TestKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	a, boot := fixture(t)
	ctx := t.Context()
	sponsored, paid := boot.Orgs[0].ID, boot.Orgs[1].ID

	again, err := a.Bootstrap(ctx, func(string) error { return errors.New("no second key") })
	if err != nil || again.Created || len(again.Orgs) != 2 || again.Orgs[0].ID != sponsored {
		t.Fatalf("second start: %+v, %v", again, err)
	}
	admin, err := a.Authenticate(ctx, boot.APIKey)
	if err != nil || !admin.Personal() || !admin.CanOrg(sponsored) || !admin.CanOrg(paid) {
		t.Fatalf("admin key: %+v, %v", admin, err)
	}
	_, err = a.Authenticate(ctx, "nope")
	wantKind(t, "unknown key", err, errkind.Unauthorized)
	_, err = a.Authenticate(ctx, "")
	wantKind(t, "no key", err, errkind.Unauthorized)
	if ok, err := a.IsAdmin(ctx, admin); !ok || err != nil {
		t.Errorf("IsAdmin(admin) = %v, %v", ok, err)
	}
	u, plan, err := a.User(ctx, admin)
	if err != nil || u.ID != admin.UserID || plan != "free" {
		t.Errorf("User(admin) = %+v, %q, %v", u, plan, err)
	}

	// Personal keys.
	k, err := a.CreatePersonalKey(ctx, admin, KeyInput{Name: "ci"})
	if err != nil || k.Secret == "" || k.Kind != "personal" {
		t.Fatalf("CreatePersonalKey: %+v, %v", k, err)
	}
	_, err = a.CreatePersonalKey(ctx, admin, KeyInput{Name: " "})
	wantKind(t, "personal key without a name", err, errkind.Invalid)
	if keys, err := a.ListPersonalKeys(ctx, admin); err != nil || len(keys) != 2 {
		t.Errorf("ListPersonalKeys: %+v, %v", keys, err)
	}
	if _, err := a.Authenticate(ctx, k.Secret); err != nil {
		t.Errorf("new personal key: %v", err)
	}
	if _, err := a.RevokePersonalKey(ctx, admin, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = a.Authenticate(ctx, k.Secret)
	wantKind(t, "revoked key", err, errkind.Unauthorized)
	_, err = a.RevokePersonalKey(ctx, admin, k.ID)
	wantKind(t, "revoked twice", err, errkind.NotFound)

	// Org keys, and a project-scoped one.
	noProject := func(context.Context, string) (metastore.Project, error) {
		return metastore.Project{}, notFound("project")
	}
	ok, err := a.CreateOrgKey(ctx, admin, paid, KeyInput{Name: "deploy"}, noProject)
	if err != nil || ok.Kind != "org" || ok.OrgID != paid {
		t.Fatalf("CreateOrgKey: %+v, %v", ok, err)
	}
	org, err := a.Authenticate(ctx, ok.Secret)
	if err != nil || org.Personal() || !org.CanOrg(paid) || org.CanOrg(sponsored) {
		t.Fatalf("org key: %+v, %v", org, err)
	}
	if ok, err := a.IsAdmin(ctx, org); ok || err != nil {
		t.Errorf("IsAdmin(org key) = %v, %v", ok, err)
	}
	_, err = a.CreatePersonalKey(ctx, org, KeyInput{Name: "x"})
	wantKind(t, "personal key by an org key", err, errkind.Forbidden)
	_, err = a.CreateOrgKey(ctx, org, paid, KeyInput{Name: "x"}, noProject)
	wantKind(t, "org key by an org key", err, errkind.Forbidden)
	_, err = a.ListOrgKeys(ctx, org, sponsored)
	wantKind(t, "another org's keys", err, errkind.NotFound)
	project := func(_ context.Context, id string) (metastore.Project, error) {
		return metastore.Project{ID: id, OrgID: paid}, nil
	}
	_, err = a.CreateOrgKey(ctx, org, sponsored, KeyInput{Name: "x", ProjectID: "p-p-12345678"}, project)
	wantKind(t, "scoped key in another org", err, errkind.NotFound)
	_, err = a.CreateOrgKey(ctx, admin, sponsored, KeyInput{Name: "x", ProjectID: "p-p-12345678"}, project)
	wantKind(t, "scoped key for a project of another org", err, errkind.NotFound)
	sk, err := a.CreateOrgKey(ctx, org, paid, KeyInput{Name: "scoped", ProjectID: "p-p-12345678"}, project)
	if err != nil || sk.Kind != "project" || sk.ProjectID != "p-p-12345678" {
		t.Fatalf("project-scoped key: %+v, %v", sk, err)
	}
	scoped, err := a.Authenticate(ctx, sk.Secret)
	if err != nil || scoped.ProjectID != "p-p-12345678" || !scoped.CanOrg(paid) {
		t.Fatalf("project-scoped key: %+v, %v", scoped, err)
	}
	_, err = a.ListOrgKeys(ctx, scoped, paid)
	wantKind(t, "keys listed by a project-scoped key", err, errkind.Forbidden)
	if keys, err := a.ListOrgKeys(ctx, org, paid); err != nil || len(keys) != 2 {
		t.Errorf("ListOrgKeys: %+v, %v", keys, err)
	}
	if _, err := a.RevokeOrgKey(ctx, org, paid, sk.ID); err != nil {
		t.Errorf("org key revokes its org's key: %v", err)
	}
	_, err = a.RevokeOrgKey(ctx, admin, sponsored, ok.ID)
	wantKind(t, "revoke of another org's key", err, errkind.NotFound)
}

// TestOrgs: the orgs a caller reaches and a page of their members.
func TestOrgs(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	a, boot := fixture(t)
	ctx := t.Context()
	admin, err := a.Authenticate(ctx, boot.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	orgs, err := a.Orgs(ctx, admin)
	if err != nil || len(orgs) != 2 {
		t.Fatalf("Orgs: %+v, %v", orgs, err)
	}
	if o, err := a.GetOrg(ctx, admin, orgs[1].ID); err != nil || o.ID != orgs[1].ID {
		t.Errorf("GetOrg: %+v, %v", o, err)
	}
	_, err = a.GetOrg(ctx, admin, "org-none-12345678")
	wantKind(t, "an org the caller does not reach", err, errkind.NotFound)
	page, err := a.OrgMembers(ctx, admin, orgs[0].ID, MembersInput{Limit: 1})
	if err != nil || len(page.Members) != 1 || page.Next != "" || page.SortBy != "joined_at" || page.SortOrder != "desc" {
		t.Fatalf("OrgMembers: %+v, %v", page, err)
	}
	_, err = a.OrgMembers(ctx, admin, orgs[0].ID, MembersInput{SortBy: "name"})
	wantKind(t, "unknown sort", err, errkind.Invalid)
	_, err = a.OrgMembers(ctx, admin, orgs[0].ID, MembersInput{Cursor: "!"})
	wantKind(t, "bad cursor", err, errkind.Invalid)
	m, err := a.OrgMember(ctx, admin, orgs[0].ID, page.Members[0].ID.String())
	if err != nil || m.Email != "admin@grove.local" {
		t.Errorf("OrgMember: %+v, %v", m, err)
	}
	_, err = a.OrgMember(ctx, admin, orgs[0].ID, "not-a-uuid")
	wantKind(t, "unknown member", err, errkind.NotFound)
}
