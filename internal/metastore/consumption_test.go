package metastore_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/metastore"
)

// TestConsumption: increments add up per branch and bucket, a bucket keeps
// its branch's largest logical size, and queries sum per timeframe, per
// project or branch.
func TestConsumption(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := metastore.User{ID: uuid.New(), Email: "a@b.c", Name: "a", CreatedAt: now}
	org := metastore.Org{ID: "org-a-b-12345678", Name: "paid", Handle: "paid", Plan: "paid", CreatedAt: now}
	if err := s.CreateBootstrap(ctx, metastore.Bootstrap{User: u, Orgs: []metastore.Org{org}, KeyHash: []byte("h"), KeyName: "k"}); err != nil {
		t.Fatal(err)
	}
	const pid, bid, eid = "cold-bonus-12345678", "br-a-b-12345678", "ep-a-b-12345678"
	_, err := s.CreateProject(ctx, metastore.NewProject{
		Project: metastore.Project{ID: pid, OrgID: org.ID, Name: "p", RegionID: "aws-us-east-2", PGVersion: 17,
			Provisioner: "k8s-neonvm", StorePasswords: true, HistoryRetentionSeconds: 86400,
			Settings: json.RawMessage(`{"quota":{"active_time_seconds":60}}`), CreatedAt: now, UpdatedAt: now},
		Branch: metastore.Branch{ID: bid, ProjectID: pid, Name: "main", IsDefault: true, VolumeID: "vol-1", CreatedAt: now, UpdatedAt: now},
		Endpoint: metastore.Endpoint{ID: eid, ProjectID: pid, BranchID: bid, Type: "read_write", RegionID: "aws-us-east-2",
			MinCU: 1, MaxCU: 1, Settings: json.RawMessage(`{}`), CreatedAt: now, UpdatedAt: now},
		Role:     metastore.Role{BranchID: bid, Name: "app_user", Verifier: "v", CreatedAt: now, UpdatedAt: now},
		Database: metastore.Database{BranchID: bid, Name: "app_db", OwnerName: "app_user", CreatedAt: now, UpdatedAt: now},
	})
	if err != nil {
		t.Fatal(err)
	}
	h0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	add := func(bucket time.Time, active float64, transfer int64) {
		t.Helper()
		if err := s.AddConsumption(ctx, []metastore.ConsumptionRow{
			{ProjectID: pid, BranchID: bid, Bucket: bucket, ActiveSeconds: active, ComputeSeconds: active / 2, TransferBytes: transfer},
			{ProjectID: pid, BranchID: "br-gone-12345678", Bucket: bucket, ActiveSeconds: 1},
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetLogicalSize(ctx, "vol-1", 1000); err != nil {
		t.Fatal(err)
	}
	add(h0, 10, 100)
	add(h0, 20, 50) // same bucket: added
	if err := s.SetLogicalSize(ctx, "vol-1", 400); err != nil {
		t.Fatal(err)
	}
	add(h0.Add(time.Hour), 30, 0)
	add(h0.Add(24*time.Hour), 5, 0)

	tests := []struct {
		trunc    string
		byBranch bool
		want     []metastore.ConsumptionPoint
	}{
		{"hour", false, []metastore.ConsumptionPoint{
			{ProjectID: pid, Start: h0, ActiveSeconds: 32, ComputeSeconds: 15, TransferBytes: 150, StorageBytes: 1000, StorageByteHours: 1000},
			{ProjectID: pid, Start: h0.Add(time.Hour), ActiveSeconds: 31, ComputeSeconds: 15, StorageBytes: 400, StorageByteHours: 400},
			{ProjectID: pid, Start: h0.Add(24 * time.Hour), ActiveSeconds: 6, ComputeSeconds: 2.5, StorageBytes: 400, StorageByteHours: 400},
		}},
		{"day", true, []metastore.ConsumptionPoint{
			{ProjectID: pid, BranchID: bid, Start: h0.Truncate(24 * time.Hour), ActiveSeconds: 60, ComputeSeconds: 30, TransferBytes: 150, StorageBytes: 1000, StorageByteHours: 1400},
			{ProjectID: pid, BranchID: bid, Start: h0.Truncate(24 * time.Hour).Add(24 * time.Hour), ActiveSeconds: 5, ComputeSeconds: 2.5, StorageBytes: 400, StorageByteHours: 400},
			{ProjectID: pid, BranchID: "br-gone-12345678", Start: h0.Truncate(24 * time.Hour), ActiveSeconds: 3},
			{ProjectID: pid, BranchID: "br-gone-12345678", Start: h0.Truncate(24 * time.Hour).Add(24 * time.Hour), ActiveSeconds: 1},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.trunc, func(t *testing.T) {
			got, err := s.Consumption(ctx, metastore.ConsumptionQuery{ProjectIDs: []string{pid}, ByBranch: tc.byBranch,
				From: h0, To: h0.Add(48 * time.Hour), Trunc: tc.trunc, BucketSeconds: 3600})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("points = %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("point %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
	if _, err := s.Consumption(ctx, metastore.ConsumptionQuery{ProjectIDs: []string{pid}, Trunc: "week"}); err == nil {
		t.Error("a week timeframe was accepted")
	}
	owners, err := s.EndpointOwners(ctx, []string{eid, "ep-gone-12345678"})
	if err != nil || len(owners) != 1 || owners[eid] != (metastore.EndpointOwner{ProjectID: pid, BranchID: bid}) {
		t.Errorf("owners = %+v, %v", owners, err)
	}
	quotas, err := s.ProjectQuotas(ctx, nil)
	if err != nil || string(quotas[pid]) != `{"active_time_seconds": 60}` {
		t.Errorf("quotas = %s, %v", quotas, err)
	}
	infos, err := s.BranchUsageInfos(ctx, []string{pid})
	if err != nil || len(infos) != 1 || !infos[0].Root || infos[0].LogicalSize != 400 {
		t.Errorf("branch infos = %+v, %v", infos, err)
	}
}
