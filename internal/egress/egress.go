// Package egress counts the bytes a front door sends to clients per
// endpoint, for the meter.
package egress

import (
	"sync"
	"sync/atomic"
)

// Counter is safe for concurrent use; its zero value is ready.
type Counter struct {
	mu sync.Mutex
	m  map[string]*atomic.Int64
}

// Add counts n bytes sent for an endpoint.
func (c *Counter) Add(endpointID string, n int) {
	c.mu.Lock()
	v := c.m[endpointID]
	if v == nil {
		if c.m == nil {
			c.m = map[string]*atomic.Int64{}
		}
		v = &atomic.Int64{}
		c.m[endpointID] = v
	}
	c.mu.Unlock()
	v.Add(int64(n))
}

// Totals returns the bytes sent per endpoint since start.
func (c *Counter) Totals() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.m))
	for id, v := range c.m {
		out[id] = v.Load()
	}
	return out
}
