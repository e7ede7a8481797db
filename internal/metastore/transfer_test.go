package metastore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/metastore"
)

// transferFixture makes two orgs (paid "src", free "dst") and n projects
// in src, each with a default branch and a read_write endpoint sized
// 0.25-4 CU that never suspends, and a 7-day history window.
func transferFixture(t *testing.T, s *metastore.Store, n int) (src, dst string, ids []string) {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	src, dst = "org-src-12345678", "org-dst-12345678"
	u := metastore.User{ID: uuid.New(), Email: "a@b.c", Name: "a", CreatedAt: now}
	if err := s.CreateBootstrap(ctx, metastore.Bootstrap{User: u, KeyHash: []byte("h"), KeyName: "k", Orgs: []metastore.Org{
		{ID: src, Name: "paid", Handle: "paid", Plan: "paid", CreatedAt: now},
		{ID: dst, Name: "sponsored", Handle: "sponsored", Plan: "free", CreatedAt: now},
	}}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		id := fmt.Sprintf("proj-%08d", i)
		br, ep := "br-"+id, "ep-"+id
		ids = append(ids, id)
		_, err := s.CreateProject(ctx, metastore.NewProject{
			Project: metastore.Project{ID: id, OrgID: src, Name: id, RegionID: "aws-us-east-2", PGVersion: 17, Provisioner: "k8s-neonvm",
				HistoryRetentionSeconds: 604800, CreatedAt: now, UpdatedAt: now,
				DefaultEndpointSettings: json.RawMessage(`{"autoscaling_limit_min_cu":0.25,"autoscaling_limit_max_cu":4,"suspend_timeout_seconds":-1}`)},
			Branch: metastore.Branch{ID: br, ProjectID: id, Name: "main", IsDefault: true, VolumeID: "vol-" + id, CreatedAt: now, UpdatedAt: now},
			Endpoint: metastore.Endpoint{ID: ep, ProjectID: id, BranchID: br, Type: "read_write", RegionID: "aws-us-east-2",
				MinCU: 0.25, MaxCU: 4, SuspendTimeoutSeconds: -1, Settings: json.RawMessage(`{}`), CreatedAt: now, UpdatedAt: now},
			Role:     metastore.Role{BranchID: br, Name: "app", Verifier: "v", CreatedAt: now, UpdatedAt: now},
			Database: metastore.Database{BranchID: br, Name: "app", OwnerName: "app", CreatedAt: now, UpdatedAt: now},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return src, dst, ids
}

func orgProjects(t *testing.T, s *metastore.Store, org string) int {
	t.Helper()
	n, err := s.OrgProjectCount(t.Context(), org)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var errRefused = errors.New("refused by check")

// TestTransferProjects: a transfer moves every project or none, and
// brings endpoints, default settings and history within the destination
// plan in the same transaction.
func TestTransferProjects(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	src, dst, ids := transferFixture(t, s, 3)
	in := metastore.TransferProjects{SourceOrgID: src, DestOrgID: dst, ProjectIDs: append([]string{"nope-1"}, ids...)}

	// A missing project is reported to check, which refuses: nothing moves.
	var seen metastore.TransferState
	_, err := s.TransferProjects(ctx, in, func(st metastore.TransferState) error {
		seen = st
		if len(st.Missing) > 0 {
			return errRefused
		}
		return nil
	})
	if !errors.Is(err, errRefused) || len(seen.Missing) != 1 || seen.Missing[0] != "nope-1" || len(seen.Projects) != 3 ||
		seen.Plan.Name != "free" || seen.SourcePlan.Name != "paid" || seen.DestProjectCount != 0 || seen.Projects[0].Branches != 1 {
		t.Fatalf("refused transfer: %v, state %+v", err, seen)
	}
	if orgProjects(t, s, src) != 3 || orgProjects(t, s, dst) != 0 {
		t.Fatal("a refused transfer moved projects")
	}

	// A project with an operation in flight refuses the whole transfer.
	op := metastore.Operation{ID: uuid.New(), ProjectID: ids[1], Action: "apply_config", Status: "running",
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := s.BeginOperations(ctx, ids[1], op); err != nil {
		t.Fatal(err)
	}
	in.ProjectIDs = ids
	if _, err := s.TransferProjects(ctx, in, func(metastore.TransferState) error { return nil }); !errors.Is(err, metastore.ErrTransferBusy) {
		t.Fatalf("busy project: %v, want ErrTransferBusy", err)
	}
	if err := s.FinishOperation(ctx, op.ID, "finished", "", time.Now()); err != nil {
		t.Fatal(err)
	}

	res, err := s.TransferProjects(ctx, in, func(metastore.TransferState) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if orgProjects(t, s, src) != 0 || orgProjects(t, s, dst) != 3 || len(res.Capped) != 3 {
		t.Fatalf("after the transfer: src %d, dst %d, capped %d", orgProjects(t, s, src), orgProjects(t, s, dst), len(res.Capped))
	}
	for _, id := range ids {
		p, err := s.GetProject(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]float64
		_ = json.Unmarshal(p.DefaultEndpointSettings, &d)
		if p.OrgID != dst || p.HistoryRetentionSeconds != 86400 ||
			d["autoscaling_limit_max_cu"] != 2 || d["autoscaling_limit_min_cu"] != 0.25 || d["suspend_timeout_seconds"] != 0 {
			t.Errorf("project %s: org %s, history %d, defaults %s", id, p.OrgID, p.HistoryRetentionSeconds, p.DefaultEndpointSettings)
		}
		eps, err := s.ProjectEndpoints(ctx, id)
		if err != nil || len(eps) != 1 {
			t.Fatal(err)
		}
		if e := eps[0]; e.ID != "ep-"+id || e.MinCU != 0.25 || e.MaxCU != 2 || e.SuspendTimeoutSeconds != 0 {
			t.Errorf("endpoint of %s after the transfer: %+v", id, e)
		}
	}

	// Back to the paid plan: nothing is outside it, nothing changes.
	res, err = s.TransferProjects(ctx, metastore.TransferProjects{SourceOrgID: dst, DestOrgID: src, ProjectIDs: ids},
		func(metastore.TransferState) error { return nil })
	if err != nil || len(res.Capped) != 0 || orgProjects(t, s, src) != 3 {
		t.Fatalf("back: %v, capped %d", err, len(res.Capped))
	}
	// Projects of another org are missing, not moved.
	_, err = s.TransferProjects(ctx, metastore.TransferProjects{SourceOrgID: dst, DestOrgID: src, ProjectIDs: ids},
		func(st metastore.TransferState) error {
			if len(st.Missing) != 3 {
				t.Errorf("missing %v, want all 3", st.Missing)
			}
			return errRefused
		})
	if !errors.Is(err, errRefused) {
		t.Fatalf("wrong source: %v", err)
	}
	if _, err := s.TransferProjects(ctx, metastore.TransferProjects{SourceOrgID: "org-nope", DestOrgID: src, ProjectIDs: ids},
		func(metastore.TransferState) error { return nil }); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("unknown org: %v, want ErrNotFound", err)
	}
}

// TestPlans: the seeded plans, an upsert, and the table's checks.
func TestPlans(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	plans, err := s.Plans(ctx)
	if err != nil || len(plans) != 2 {
		t.Fatalf("seeded plans: %+v, %v", plans, err)
	}
	free, paid := plans[0], plans[1]
	if free.Name != "free" || free.ProjectsPerOrg != 30000 || free.MaxCU != 2 || free.ManualSnapshots != 1 || free.MinSuspendTimeoutSeconds != 300 ||
		free.SuspendDisableAllowed || free.BranchesPerProject != 10 || free.HistoryRetentionMaxSeconds != 86400 || free.StorageQuotaBytes != 512<<20 ||
		free.ProtectedBranches != 0 {
		t.Errorf("free plan: %+v", free)
	}
	if paid.Name != "paid" || paid.MaxCU != 16 || paid.ManualSnapshots != 100 || paid.MinSuspendTimeoutSeconds != 60 ||
		!paid.SuspendDisableAllowed || paid.BranchesPerProject != 1000 || paid.HistoryRetentionMaxSeconds != 604800 || paid.StorageQuotaBytes != 0 ||
		paid.ProtectedBranches != 5 {
		t.Errorf("paid plan: %+v", paid)
	}
	free.ProjectsPerOrg = 3
	got, err := s.UpsertPlan(ctx, free)
	if err != nil || got.ProjectsPerOrg != 3 || !got.UpdatedAt.After(plans[0].UpdatedAt) {
		t.Fatalf("upsert: %+v, %v", got, err)
	}
	bad := free
	bad.MaxCU = 0.1
	if _, err := s.UpsertPlan(ctx, bad); err == nil {
		t.Error("a plan with max_cu below min_cu was stored")
	}
	trial := free
	trial.Name = "trial"
	if _, err := s.UpsertPlan(ctx, trial); err != nil {
		t.Fatal(err)
	}
	if plans, _ := s.Plans(ctx); len(plans) != 3 {
		t.Errorf("plans after adding one: %d", len(plans))
	}
}
