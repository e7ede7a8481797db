package plans

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/grovedb/grove/internal/metastore"
)

// CacheTTL bounds how long a plan read from the store is used. Edits
// through this process drop the cache at once (Invalidate); the TTL covers
// edits by another process sharing the store.
const CacheTTL = 5 * time.Second

// Cache keeps the plans table in memory, so that checks cost no query.
type Cache struct {
	mu     sync.Mutex
	plans  map[string]Plan
	loaded time.Time
}

// Get returns a plan by name, reading every plan with load when the cache
// is empty or older than CacheTTL. An unknown plan wraps
// metastore.ErrNotFound.
func (c *Cache) Get(ctx context.Context, name string, load func(context.Context) ([]Plan, error)) (Plan, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.plans == nil || time.Since(c.loaded) > CacheTTL {
		all, err := load(ctx)
		if err != nil {
			return Plan{}, err
		}
		c.plans = make(map[string]Plan, len(all))
		for _, pl := range all {
			c.plans[pl.Name] = pl
		}
		c.loaded = time.Now()
	}
	pl, ok := c.plans[name]
	if !ok {
		return Plan{}, fmt.Errorf("plan %q: %w", name, metastore.ErrNotFound)
	}
	return pl, nil
}

// Invalidate drops the cache: the next Get loads every plan again.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.plans = nil
	c.mu.Unlock()
}
