package plans

import (
	"context"
	"errors"
	"testing"

	"github.com/grovedb/grove/internal/metastore"
)

// TestCache: plans are loaded once, until invalidated; an unknown plan is
// the store's not found; a failed load is not cached.
func TestCache(t *testing.T) {
	var c Cache
	loads := 0
	var fail error
	load := func(context.Context) ([]Plan, error) {
		loads++
		return []Plan{{Name: "free", ProjectsPerOrg: 100}, {Name: "paid"}}, fail
	}
	ctx := t.Context()
	for range 3 {
		if pl, err := c.Get(ctx, "free", load); err != nil || pl.ProjectsPerOrg != 100 {
			t.Fatalf("Get(free) = %+v, %v", pl, err)
		}
	}
	if _, err := c.Get(ctx, "gold", load); !errors.Is(err, metastore.ErrNotFound) {
		t.Errorf("Get(gold) = %v, want not found", err)
	}
	if loads != 1 {
		t.Errorf("%d loads, want 1", loads)
	}
	c.Invalidate()
	fail = errors.New("store down")
	if _, err := c.Get(ctx, "free", load); !errors.Is(err, fail) {
		t.Errorf("Get after a failed load = %v", err)
	}
	fail = nil
	if _, err := c.Get(ctx, "paid", load); err != nil || loads != 3 {
		t.Errorf("Get after the store came back = %v, %d loads", err, loads)
	}
}
