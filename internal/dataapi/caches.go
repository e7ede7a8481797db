package dataapi

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/grovedb/grove/internal/computepool"
	"github.com/grovedb/grove/internal/dataapi/apierr"
	"github.com/grovedb/grove/internal/dataapi/schemacache"
	"github.com/grovedb/grove/internal/dataapispec"
)

// caches holds a schema cache per endpoint and database. An entry is
// reloaded when the configuration's generation moves (the management
// PATCH, a restore), and when the database announces DDL: NOTIFY pgrst,
// sent by the event trigger the Data API installs (or by users, as with
// PostgREST), heard on a LISTEN connection. An entry outlives its
// compute's sleep, since nothing changes a sleeping database: the first
// request after a wake is served from it rather than paying for a load on
// a cold backend, and the listener, once back, compares the database's
// DDL count with the one the cache was loaded at, which catches DDL run
// while nobody listened.
type caches struct {
	h  *Handler
	mu sync.Mutex
	m  map[cacheKey]*cacheEntry
	// swept is when entries unused for cacheIdle were last dropped.
	swept time.Time
}

// cacheIdle is how long an unused entry stays in memory.
const cacheIdle = 15 * time.Minute

type cacheKey struct{ endpoint, database string }

type cacheEntry struct {
	mu     sync.Mutex // held while loading
	gen    uint64
	schema *schemacache.Schema
	// ddl is the database's DDL count read before the load; -1 when the
	// database has no counter (provisioned before it existed).
	ddl   int64
	stale bool
	used  time.Time
	stop  context.CancelFunc // ends the LISTEN connection
}

func newCaches(h *Handler) *caches { return &caches{h: h, m: map[cacheKey]*cacheEntry{}} }

func (c *caches) entry(k cacheKey) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if now.Sub(c.swept) > time.Minute {
		c.sweepLocked(now)
	}
	e := c.m[k]
	if e == nil {
		e = &cacheEntry{}
		c.m[k] = e
	}
	e.used = now
	return e
}

// sweepLocked drops entries unused for cacheIdle, with their listeners.
func (c *caches) sweepLocked(now time.Time) {
	c.swept = now
	for k, e := range c.m {
		if now.Sub(e.used) > cacheIdle {
			if e.stop != nil {
				e.stop()
			}
			delete(c.m, k)
		}
	}
}

// get returns the database's schema cache, loading it over sc (idle,
// logged in as authenticator) when absent or stale, and makes sure a
// listener watches the database.
func (c *caches) get(ctx context.Context, endpoint, database string, s dataapispec.Served, sc *computepool.Conn) (*schemacache.Schema, error) {
	k := cacheKey{endpoint, database}
	e := c.entry(k)
	e.mu.Lock()
	defer e.mu.Unlock()
	c.mu.Lock()
	fresh := e.schema != nil && !e.stale && e.gen == s.Generation
	if fresh && e.stop == nil {
		e.stop = c.listen(k, e, s)
	}
	c.mu.Unlock()
	if fresh {
		return e.schema, nil
	}
	ddl := ddlCount(ctx, sc.PC)
	// A notification during the load marks the new cache stale again.
	c.mu.Lock()
	e.stale = false
	c.mu.Unlock()
	schema, err := schemacache.Load(ctx, sc.PC, s.Schemas)
	if err != nil {
		return nil, &apierr.Error{Status: http.StatusServiceUnavailable, Code: "PGRST002",
			Message: "Could not query the database for the schema cache. Retrying.", Err: err}
	}
	c.mu.Lock()
	e.schema, e.gen, e.ddl = schema, s.Generation, ddl
	if e.stop == nil {
		e.stop = c.listen(k, e, s)
	}
	c.mu.Unlock()
	return schema, nil
}

// ddlCount reads the database's DDL count, -1 when it has none.
func ddlCount(ctx context.Context, pc *pgconn.PgConn) int64 {
	res := pc.ExecParams(ctx, dataapispec.DDLCountQuery, nil, nil, nil, nil).Read()
	if res.Err != nil || len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return -1
	}
	n, err := strconv.ParseInt(string(res.Rows[0][0]), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// listen keeps a connection LISTENing on channel pgrst for the entry. Once
// listening it checks the DDL count against the cache's; afterwards any
// notification makes the entry stale. When the connection ends (the
// compute stopped), the entry stays: the next request starts another.
func (c *caches) listen(k cacheKey, e *cacheEntry, s dataapispec.Served) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	markStale := func() {
		c.mu.Lock()
		e.stale = true
		c.mu.Unlock()
	}
	go func() {
		defer func() {
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
		key := computepool.Key{Database: k.database, Role: authenticator}
		pc, err := computepool.Dial(ctx, socket, key, s.AuthenticatorPassword, "data api schema listener")
		if err != nil {
			return
		}
		defer func() { _ = pc.Close(context.Background()) }()
		if err := pc.Exec(ctx, "LISTEN "+dataapispec.ReloadChannel).Close(); err != nil {
			return
		}
		// Without a counter (-1) it cannot tell what it missed: reload.
		ddl := ddlCount(ctx, pc)
		c.mu.Lock()
		if ddl < 0 || ddl != e.ddl {
			e.stale = true
		}
		c.mu.Unlock()
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
