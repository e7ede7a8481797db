package dataapi

import (
	"context"
	"net/http"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/grovedb/grove/internal/computepool"
	"github.com/grovedb/grove/internal/dataapi/apierr"
	"github.com/grovedb/grove/internal/dataapi/schemacache"
	"github.com/grovedb/grove/internal/dataapispec"
)

// caches holds a schema cache per endpoint and database. An entry is
// reloaded when the configuration's generation moves (the management
// PATCH), when the database announces DDL (NOTIFY pgrst, sent by the event
// trigger the Data API installs, or by users as with PostgREST), and after
// the compute stops.
type caches struct {
	h  *Handler
	mu sync.Mutex
	m  map[cacheKey]*cacheEntry
}

type cacheKey struct{ endpoint, database string }

type cacheEntry struct {
	mu     sync.Mutex // held while loading
	gen    uint64
	schema *schemacache.Schema
	stale  bool
	stop   context.CancelFunc // ends the LISTEN connection
}

func newCaches(h *Handler) *caches { return &caches{h: h, m: map[cacheKey]*cacheEntry{}} }

func (c *caches) entry(k cacheKey) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[k]
	if e == nil {
		e = &cacheEntry{}
		c.m[k] = e
	}
	return e
}

// get returns the database's schema cache, loading it over sc (idle,
// logged in as authenticator) when absent or stale.
func (c *caches) get(ctx context.Context, endpoint, database string, s dataapispec.Served, sc *computepool.Conn) (*schemacache.Schema, error) {
	k := cacheKey{endpoint, database}
	e := c.entry(k)
	e.mu.Lock()
	defer e.mu.Unlock()
	c.mu.Lock()
	fresh := e.schema != nil && !e.stale && e.gen == s.Generation
	c.mu.Unlock()
	if fresh {
		return e.schema, nil
	}
	// A notification during the load marks the new cache stale again.
	c.mu.Lock()
	if e.stop == nil {
		e.stop = c.listen(k, e, s)
	}
	e.stale = false
	c.mu.Unlock()
	schema, err := schemacache.Load(ctx, sc.PC, s.Schemas)
	if err != nil {
		return nil, &apierr.Error{Status: http.StatusServiceUnavailable, Code: "PGRST002",
			Message: "Could not query the database for the schema cache. Retrying.", Err: err}
	}
	c.mu.Lock()
	e.schema, e.gen = schema, s.Generation
	c.mu.Unlock()
	return schema, nil
}

// listen keeps a connection LISTENing on channel pgrst for the entry; any
// notification, or the connection's end, makes the entry stale.
func (c *caches) listen(k cacheKey, e *cacheEntry, s dataapispec.Served) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	markStale := func() {
		c.mu.Lock()
		e.stale = true
		c.mu.Unlock()
	}
	go func() {
		defer func() {
			markStale()
			c.mu.Lock()
			if c.m[k] == e {
				e.stop = nil
			}
			c.mu.Unlock()
		}()
		socket, err := c.h.cfg.Backend.Connect(ctx, k.endpoint, false)
		if err != nil {
			return
		}
		var pc *pgconn.PgConn
		key := computepool.Key{Database: k.database, Role: authenticator}
		pc, err = computepool.Dial(ctx, socket, key, s.AuthenticatorPassword, "data api schema listener")
		if err != nil {
			return
		}
		defer func() { _ = pc.Close(context.Background()) }()
		if err := pc.Exec(ctx, "LISTEN pgrst").Close(); err != nil {
			return
		}
		for {
			if err := pc.WaitForNotification(ctx); err != nil {
				return
			}
			markStale()
		}
	}()
	return cancel
}

// drop forgets the endpoint's caches and closes their listeners.
func (c *caches) drop(endpoint string) {
	c.mu.Lock()
	var stops []context.CancelFunc
	for k, e := range c.m {
		if k.endpoint == endpoint {
			if e.stop != nil {
				stops = append(stops, e.stop)
			}
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
	for _, s := range stops {
		s()
	}
}

func (c *caches) closeAll() {
	c.mu.Lock()
	var stops []context.CancelFunc
	for k, e := range c.m {
		if e.stop != nil {
			stops = append(stops, e.stop)
		}
		delete(c.m, k)
	}
	c.mu.Unlock()
	for _, s := range stops {
		s()
	}
}
