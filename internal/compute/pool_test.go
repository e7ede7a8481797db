package compute_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/compute"
)

// TestPoolFollowsDemand: a burst of Takes grows the warm pool to what the
// burst took, up to PoolMax, so that the next burst takes warm instances;
// once the demand has decayed the pool shrinks back to PoolSize.
func TestPoolFollowsDemand(t *testing.T) {
	const burst, ceiling = 4, 3
	e := newEnv(t, func(c *compute.Config) { c.PoolSize, c.PoolMax = 1, ceiling })
	e.run(t)
	waitFor(t, "warm pool", func() bool { return e.m.PoolLen(e.major) == 1 })
	take := func(id string) {
		t.Helper()
		if _, err := e.m.Take(t.Context(), compute.Spec{ID: id, Major: e.major, MinCU: 0.25, MaxCU: 0.25, SuspendTimeout: -1}); err != nil {
			t.Fatal(err)
		}
	}
	begin := time.Now()
	for i := range burst {
		take(fmt.Sprintf("ep-first-%d", i))
	}
	t.Logf("a burst of %d Takes: %v", burst, time.Since(begin))
	waitFor(t, "the pool to grow to its ceiling", func() bool { return e.m.PoolLen(e.major) == ceiling })
	t.Logf("grown after %v", time.Since(begin))
	st := e.m.WarmPool()
	if st.Ready != ceiling || st.Target != ceiling {
		t.Errorf("warm pool %+v, want %d ready and as target", st, ceiling)
	}
	mem := e.m.WarmPoolMemory()
	t.Logf("%d warm instances: %.1f MiB PSS", ceiling, float64(mem)/(1<<20))
	if mem < ceiling<<20 || mem > ceiling*100<<20 {
		t.Errorf("warm pool memory %d bytes for %d instances", mem, ceiling)
	}
	// The next burst's first Takes are warm: no start of their own.
	for i := range ceiling {
		id := fmt.Sprintf("ep-second-%d", i)
		take(id)
		if n := e.events.count(id, compute.EventStarted); n != 0 {
			t.Errorf("Take %s started a server: the pool did not hold it warm", id)
		}
	}
	// Idle for five times the demand's life: the pool goes back to its floor.
	e.m.SkipDemandTime(5 * time.Minute)
	waitFor(t, "the pool to shrink back to its floor", func() bool {
		st := e.m.WarmPool()
		return st.Ready == 1 && st.Starting == 0
	})
}
