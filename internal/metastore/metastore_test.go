package metastore_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pgtest"
)

func openStore(t *testing.T) *metastore.Store {
	t.Helper()
	srv := pgtest.Start(t)
	s, err := metastore.Open(t.Context(), srv.AdminDSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestMigrationsIdempotent(t *testing.T) {
	srv := pgtest.Start(t)
	for i := 0; i < 2; i++ {
		s, err := metastore.Open(t.Context(), srv.AdminDSN("postgres"))
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		s.Close()
	}
}

func TestProjectRoundTrip(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := metastore.User{ID: uuid.New(), Email: "a@b.c", Name: "a", CreatedAt: now}
	org := metastore.Org{ID: "org-a-b-12345678", Name: "sponsored", Handle: "sponsored", Plan: "free", CreatedAt: now}
	if err := s.CreateBootstrap(ctx, metastore.Bootstrap{User: u, Orgs: []metastore.Org{org}, KeyHash: []byte("h"), KeyName: "k"}); err != nil {
		t.Fatal(err)
	}
	k, err := s.KeyByHash(ctx, []byte("h"))
	if err != nil || k.Kind != "personal" || *k.UserID != u.ID {
		t.Fatalf("key = %+v, %v", k, err)
	}
	np := metastore.NewProject{
		Project: metastore.Project{ID: "cold-bonus-12345678", OrgID: org.ID, Name: "p", RegionID: "aws-us-east-2", PGVersion: 17,
			Provisioner: "k8s-neonvm", StorePasswords: true, HistoryRetentionSeconds: 86400, CreatedAt: now, UpdatedAt: now},
		Branch:   metastore.Branch{ID: "br-a-b-12345678", ProjectID: "cold-bonus-12345678", Name: "main", IsDefault: true, VolumeID: "vol-1", CreatedAt: now, UpdatedAt: now},
		Endpoint: metastore.Endpoint{ID: "ep-a-b-12345678", ProjectID: "cold-bonus-12345678", BranchID: "br-a-b-12345678", Type: "read_write", RegionID: "aws-us-east-2", MinCU: 0.25, MaxCU: 1, Settings: json.RawMessage(`{}`), CreatedAt: now, UpdatedAt: now},
		Role:     metastore.Role{BranchID: "br-a-b-12345678", Name: "app_user", Verifier: "v", CreatedAt: now, UpdatedAt: now},
		Database: metastore.Database{BranchID: "br-a-b-12345678", Name: "app_db", OwnerName: "app_user", CreatedAt: now, UpdatedAt: now},
		Operations: []metastore.Operation{{ID: uuid.New(), ProjectID: "cold-bonus-12345678", BranchID: "br-a-b-12345678",
			Action: "create_timeline", Status: "running", CreatedAt: now, UpdatedAt: now}},
	}
	db, err := s.CreateProject(ctx, np)
	if err != nil {
		t.Fatal(err)
	}
	if db.ID == 0 {
		t.Fatal("database id not assigned")
	}
	if _, err := s.CreateProject(ctx, np); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("second create: %v, want ErrConflict", err)
	}
	r, err := s.GetEndpointRoute(ctx, "ep-a-b-12345678")
	if err != nil || r.VolumeID != "vol-1" || r.PGVersion != 17 {
		t.Fatalf("route = %+v, %v", r, err)
	}
	for role, want := range map[string]string{"app_user": "v", "made_in_sql": ""} {
		if _, v, err := s.GetEndpointRole(ctx, "ep-a-b-12345678", role); err != nil || v != want {
			t.Fatalf("verifier of %s = %q, %v; want %q", role, v, err, want)
		}
	}
	if _, _, err := s.GetEndpointRole(ctx, "ep-nope-nope-12345678", "app_user"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("unknown endpoint: %v", err)
	}
	// A changed verifier moves the roles generation, after the write.
	gen := s.RolesGeneration()
	if _, err := s.SetRolePassword(ctx, "br-a-b-12345678", "app_user", "v2", nil, now); err != nil {
		t.Fatal(err)
	}
	if _, v, err := s.GetEndpointRole(ctx, "ep-a-b-12345678", "app_user"); err != nil || v != "v2" || s.RolesGeneration() == gen {
		t.Fatalf("after a password change: verifier %q, %v, generation %d (was %d)", v, err, s.RolesGeneration(), gen)
	}
	list, err := s.ListProjects(ctx, metastore.ProjectFilter{OrgIDs: []string{org.ID}, Search: "COLD", Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("list = %v, %v", list, err)
	}
	if n, err := s.FailUnfinishedOperations(ctx, "restart"); err != nil || n != 1 {
		t.Fatalf("fail unfinished = %d, %v", n, err)
	}
	if _, err := s.MarkProjectDeleted(ctx, np.Project.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetProject(ctx, np.Project.ID); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	live, err := s.LiveVolumes(ctx)
	if err != nil || live["vol-1"] {
		t.Fatalf("live volumes after delete = %v, %v", live, err)
	}
	if err := s.PurgeProject(ctx, np.Project.ID); err != nil {
		t.Fatal(err)
	}
}
