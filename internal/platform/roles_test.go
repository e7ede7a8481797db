package platform

import (
	"errors"
	"testing"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metastore"
)

// TestConfigPendingVersion: every role or database change marks the branch
// pending and journals drops and renames in order; an apply that read an
// older config clears what it replayed but leaves the flag for the newer
// change.
func TestConfigPendingVersion(t *testing.T) {
	p, _ := opsFixture(t, 0)
	ctx := t.Context()
	const bid = "br-a-b-12345678"
	at := now()
	if err := p.store.InsertRole(ctx, metastore.Role{BranchID: bid, Name: "bob", Verifier: "v2", CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.store.InsertDatabase(ctx, metastore.Database{BranchID: bid, Name: "d1", OwnerName: "bob", CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.store.UpdateDatabase(ctx, bid, "d1", "d2", "", at); err != nil {
		t.Fatal(err)
	}
	seen, err := p.store.GetBranchConfig(ctx, bid)
	if err != nil {
		t.Fatal(err)
	}
	if !seen.Pending || len(seen.Roles) != 2 || len(seen.Databases) != 2 || len(seen.Changes) != 1 ||
		seen.Changes[0].Kind != "rename_database" || seen.Changes[0].Name != "d1" || seen.Changes[0].NewName != "d2" {
		t.Fatalf("config after changes: %+v", seen)
	}

	// A change lands while an apply of the config above runs.
	if _, err := p.store.DeleteDatabase(ctx, bid, "d2"); err != nil {
		t.Fatal(err)
	}
	if err := p.store.ClearConfigPending(ctx, bid, seen.Version, seen.Changes[0].Seq); err != nil {
		t.Fatal(err)
	}
	after, err := p.store.GetBranchConfig(ctx, bid)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Pending || len(after.Changes) != 1 || after.Changes[0].Kind != "drop_database" {
		t.Fatalf("a stale apply cleared a newer change: %+v", after)
	}
	if err := p.store.ClearConfigPending(ctx, bid, after.Version, after.Changes[0].Seq); err != nil {
		t.Fatal(err)
	}
	if done, err := p.store.GetBranchConfig(ctx, bid); err != nil || done.Pending || len(done.Changes) != 0 {
		t.Fatalf("after a current apply: %+v, %v", done, err)
	}
}

// TestRoleDatabaseRules: the store refuses an unknown owner and the drop of
// a role that owns a database, changing nothing.
func TestRoleDatabaseRules(t *testing.T) {
	p, _ := opsFixture(t, 0)
	ctx := t.Context()
	const bid = "br-a-b-12345678"
	at := now()
	if _, err := p.store.InsertDatabase(ctx, metastore.Database{BranchID: bid, Name: "x", OwnerName: "nobody", CreatedAt: at, UpdatedAt: at}); !errors.Is(err, metastore.ErrNoSuchOwner) {
		t.Errorf("database of an unknown owner: %v", err)
	}
	if _, err := p.store.UpdateDatabase(ctx, bid, "app", "", "nobody", at); !errors.Is(err, metastore.ErrNoSuchOwner) {
		t.Errorf("owner change to an unknown role: %v", err)
	}
	if _, err := p.store.DeleteRole(ctx, bid, "app"); !errors.Is(err, metastore.ErrRoleOwnsDatabase) {
		t.Errorf("delete of a database owner: %v", err)
	}
	if err := p.store.InsertRole(ctx, metastore.Role{BranchID: bid, Name: "app", CreatedAt: at, UpdatedAt: at}); !errors.Is(err, metastore.ErrConflict) {
		t.Errorf("duplicate role: %v", err)
	}
	cfg, err := p.store.GetBranchConfig(ctx, bid)
	if err != nil || cfg.Pending || len(cfg.Roles) != 1 || len(cfg.Databases) != 1 || len(cfg.Changes) != 0 {
		t.Fatalf("refused changes left: %+v, %v", cfg, err)
	}
	for _, tt := range []struct {
		err  error
		kind errkind.Kind
	}{
		{metastore.ErrNoSuchOwner, errkind.Unprocessable},
		{metastore.ErrRoleOwnsDatabase, errkind.Conflict},
		{metastore.ErrConflict, errkind.Conflict},
		{metastore.ErrNotFound, errkind.NotFound},
	} {
		if k := errkind.Of(storeErr("role", tt.err)); k != tt.kind {
			t.Errorf("storeErr(%v) kind %v, want %v", tt.err, k, tt.kind)
		}
	}
}
