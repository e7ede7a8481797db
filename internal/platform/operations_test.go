package platform

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pgtest"
)

// opsFixture is a Platform over a real metadata store holding one project.
func opsFixture(t *testing.T, budget time.Duration) (*Platform, string) {
	t.Helper()
	srv := pgtest.Start(t)
	st, err := metastore.Open(t.Context(), srv.AdminDSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	ctx := t.Context()
	at := now()
	org := metastore.Org{ID: "org-a-b-12345678", Name: "sponsored", Handle: "sponsored", Plan: "free", CreatedAt: at}
	u := metastore.User{ID: uuid.New(), Email: "a@b.c", Name: "a", CreatedAt: at}
	if err := st.CreateBootstrap(ctx, metastore.Bootstrap{User: u, Orgs: []metastore.Org{org}, KeyHash: []byte("h"), KeyName: "k"}); err != nil {
		t.Fatal(err)
	}
	const pid, bid = "quiet-moon-12345678", "br-a-b-12345678"
	_, err = st.CreateProject(ctx, metastore.NewProject{
		Project: metastore.Project{ID: pid, OrgID: org.ID, Name: "p", RegionID: "aws-us-east-2", PGVersion: 17,
			Provisioner: "k8s-neonvm", HistoryRetentionSeconds: 86400, CreatedAt: at, UpdatedAt: at},
		Branch: metastore.Branch{ID: bid, ProjectID: pid, Name: "main", IsDefault: true, VolumeID: "vol-1", CreatedAt: at, UpdatedAt: at},
		Endpoint: metastore.Endpoint{ID: "ep-a-b-12345678", ProjectID: pid, BranchID: bid, Type: "read_write", RegionID: "aws-us-east-2",
			MinCU: 0.25, MaxCU: 1, Settings: json.RawMessage(`{}`), CreatedAt: at, UpdatedAt: at},
		Role:     metastore.Role{BranchID: bid, Name: "app", Verifier: "v", CreatedAt: at, UpdatedAt: at},
		Database: metastore.Database{BranchID: bid, Name: "app", OwnerName: "app", CreatedAt: at, UpdatedAt: at},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &Platform{cfg: Config{OpBudget: budget}, store: st, log: slog.New(slog.DiscardHandler)}
	t.Cleanup(p.Wait)
	return p, pid
}

func statusOf(t *testing.T, p *Platform, projectID string, id uuid.UUID) string {
	t.Helper()
	op, err := p.store.GetOperation(context.Background(), projectID, id)
	if err != nil {
		t.Fatal(err)
	}
	return op.Status
}

// TestMutateLocksProject: while a mutation's work runs past the budget its
// operations answer running, other mutations get Neon's 423, and the
// operations finish (or fail) when the work ends.
func TestMutateLocksProject(t *testing.T) {
	p, pid := opsFixture(t, 50*time.Millisecond)
	ctx := t.Context()
	release := make(chan struct{})
	ops, err := p.mutate(ctx, pid, []metastore.Operation{newOp(pid, "", "", "apply_config")}, func(context.Context) error {
		<-release
		return nil
	})
	if err != nil || len(ops) != 1 || ops[0].Status != "running" {
		t.Fatalf("slow mutation = %+v, %v; want one running operation", ops, err)
	}
	_, err = p.mutate(ctx, pid, []metastore.Operation{newOp(pid, "", "", "apply_config")}, func(context.Context) error {
		t.Error("work of a refused mutation ran")
		return nil
	})
	if errkind.Of(err) != errkind.Locked || errkind.Message(err) != "project already has running conflicting operations, scheduling of new ones is prohibited" {
		t.Fatalf("concurrent mutation: %v (kind %v); want Neon's 423", err, errkind.Of(err))
	}
	close(release)
	p.Wait()
	if s := statusOf(t, p, pid, ops[0].ID); s != "finished" {
		t.Fatalf("slow operation ended %q, want finished", s)
	}

	fast, err := p.mutate(ctx, pid, []metastore.Operation{newOp(pid, "", "", "apply_config"), newOp(pid, "", "", "start_compute")},
		func(context.Context) error { return nil })
	if err != nil || fast[0].Status != "finished" || fast[1].Status != "finished" {
		t.Fatalf("fast mutation = %+v, %v; want finished operations", fast, err)
	}

	boom := newErr(errkind.Conflict, "boom")
	failed, err := p.mutate(ctx, pid, []metastore.Operation{newOp(pid, "", "", "apply_config")}, func(context.Context) error { return boom })
	if !errors.Is(err, boom) || failed[0].Status != "failed" || failed[0].Error != "boom" {
		t.Fatalf("failing mutation = %+v, %v", failed, err)
	}
	if s := statusOf(t, p, pid, failed[0].ID); s != "failed" {
		t.Fatalf("failed operation recorded %q", s)
	}
	if _, err := p.mutate(ctx, "no-such-12345678", []metastore.Operation{newOp("no-such-12345678", "", "", "apply_config")},
		func(context.Context) error { return nil }); errkind.Of(err) != errkind.NotFound {
		t.Fatalf("mutation of an unknown project: %v", err)
	}
}

// TestMutateRelease: work that releases the call answers with its first
// operations finished and the rest running, and finishes those later; a
// mutation issued meanwhile waits for them instead of meeting a 423.
func TestMutateRelease(t *testing.T) {
	p, pid := opsFixture(t, 5*time.Second)
	ctx := t.Context()
	proceed := make(chan struct{})
	ops, err := p.mutate(ctx, pid, []metastore.Operation{newOp(pid, "", "", "create_branch"), newOp(pid, "", "", "start_compute")},
		func(ctx context.Context) error {
			p.release(ctx, 1)
			<-proceed
			return nil
		})
	if err != nil || len(ops) != 2 || ops[0].Status != "finished" || ops[1].Status != "running" {
		t.Fatalf("released mutation = %+v, %v; want the first finished, the second running", ops, err)
	}
	if s := statusOf(t, p, pid, ops[0].ID); s != "finished" {
		t.Fatalf("released operation recorded %q", s)
	}
	time.AfterFunc(100*time.Millisecond, func() { close(proceed) })
	next, err := p.mutate(ctx, pid, []metastore.Operation{newOp(pid, "", "", "apply_config")}, func(context.Context) error { return nil })
	if err != nil || next[0].Status != "finished" {
		t.Fatalf("mutation behind a running one = %+v, %v; want it to wait and finish", next, err)
	}
	if s := statusOf(t, p, pid, ops[1].ID); s != "finished" {
		t.Fatalf("operation left running after the release finished %q", s)
	}
}
