// Package computepool keeps logged-in connections to computes between
// requests of the data plane's HTTP front doors (SQL over HTTP, the Data
// API), within each endpoint's connection budget.
package computepool

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// Key names the connections a request may reuse on one endpoint:
// logged in as the same role to the same database with the same options.
type Key struct {
	Database, Role, Options string
	// User names the front door the connection serves: each keeps its own
	// session state (SQL over HTTP resets sessions, the Data API keeps
	// prepared statements), so they never share a connection.
	User string
}

// Conn is a connection to a compute, logged in.
type Conn struct {
	PC       *pgconn.PgConn
	endpoint string
	key      Key
	gen      uint64 // the endpoint pool's generation when dialled
	idleAt   time.Time
	// Dirty is set once a request used the connection, for a user of the
	// pool that resets connections before reuse; Broken is set when that
	// reset failed.
	Dirty, Broken bool
	// Prepared maps statements' SQL to the names they are prepared under
	// on this connection, for a user of the pool that prepares them.
	Prepared map[string]string
}

// Pool keeps connections to computes between requests. Every connection,
// idle or busy, counts against its endpoint's limit; a request over the
// limit waits for one to come back. Idle connections
// never count as client connections, so they do not keep a compute awake;
// when the compute stops, drop closes them.
type Pool struct {
	idleTimeout time.Duration

	mu        sync.Mutex
	endpoints map[string]*endpointPool
}

type endpointPool struct {
	limit int
	total int // connections that exist or are being dialled
	gen   uint64
	idle  map[Key][]*Conn // most recently used last
	// dialing counts the logins under way per key, at most maxDials.
	dialing map[Key]int
	// changed is closed (and replaced) whenever a connection comes back
	// or goes away, to wake the requests waiting for one.
	changed chan struct{}
}

// maxDials bounds the logins under way at once for one key of an endpoint.
// Each is a fork and a SCRAM exchange on the compute, tens of milliseconds
// of its CPU at 0.25 CU: a burst of requests after a wake that dialled one
// connection each would queue them all behind the forks, where waiting for
// the first connections to come back serves them sooner.
const maxDials = 2

func New(idleTimeout time.Duration) *Pool {
	return &Pool{idleTimeout: idleTimeout, endpoints: map[string]*endpointPool{}}
}

func (p *Pool) endpoint(id string) *endpointPool {
	ep := p.endpoints[id]
	if ep == nil {
		ep = &endpointPool{idle: map[Key][]*Conn{}, dialing: map[Key]int{}, changed: make(chan struct{})}
		p.endpoints[id] = ep
	}
	return ep
}

func (ep *endpointPool) signal() {
	close(ep.changed)
	ep.changed = make(chan struct{})
}

// takeIdle pops the most recently used idle connection of key.
func (ep *endpointPool) takeIdle(key Key) *Conn {
	list := ep.idle[key]
	if len(list) == 0 {
		return nil
	}
	sc := list[len(list)-1]
	list[len(list)-1] = nil
	if len(list) == 1 {
		delete(ep.idle, key)
	} else {
		ep.idle[key] = list[:len(list)-1]
	}
	return sc
}

// oldestIdle pops the idle connection unused the longest, of any key.
func (ep *endpointPool) oldestIdle() *Conn {
	var oldest *Conn
	for _, list := range ep.idle {
		if sc := list[0]; oldest == nil || sc.idleAt.Before(oldest.idleAt) {
			oldest = sc
		}
	}
	if oldest == nil {
		return nil
	}
	list := ep.idle[oldest.key]
	if len(list) == 1 {
		delete(ep.idle, oldest.key)
	} else {
		ep.idle[oldest.key] = append(list[:0:0], list[1:]...)
	}
	return oldest
}

// Acquire returns a connection for key on the endpoint: an idle one, else
// a new one from dial while the endpoint is under limit (closing another
// key's idle connection to make room) and fewer than maxDials are being
// dialled, else the next one to come back.
func (p *Pool) Acquire(ctx context.Context, endpoint string, key Key, limit int,
	dial func(context.Context) (*pgconn.PgConn, error)) (*Conn, error) {
	for {
		p.mu.Lock()
		ep := p.endpoint(endpoint)
		ep.limit = max(limit, 1)
		if sc := ep.takeIdle(key); sc != nil {
			p.mu.Unlock()
			if sc.PC.IsClosed() {
				p.Discard(sc)
				continue
			}
			return sc, nil
		}
		if ep.dialing[key] < maxDials {
			var evict *Conn
			if ep.total >= ep.limit {
				evict = ep.oldestIdle() // its slot passes to the new connection
			}
			if ep.total < ep.limit || evict != nil {
				if evict == nil {
					ep.total++
				}
				ep.dialing[key]++
				gen := ep.gen
				p.mu.Unlock()
				if evict != nil {
					closeConn(evict.PC)
				}
				return p.dial(ctx, endpoint, key, gen, dial)
			}
		}
		wait := ep.changed
		p.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (p *Pool) dial(ctx context.Context, endpoint string, key Key, gen uint64,
	dial func(context.Context) (*pgconn.PgConn, error)) (*Conn, error) {
	pc, err := dial(ctx)
	p.mu.Lock()
	ep := p.endpoint(endpoint)
	if ep.dialing[key]--; ep.dialing[key] <= 0 {
		delete(ep.dialing, key)
	}
	if err != nil {
		ep.total--
	}
	ep.signal()
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &Conn{PC: pc, endpoint: endpoint, key: key, gen: gen}, nil
}

// Release gives a connection back after a request. One that may be reused
// becomes idle, to be reset by the next request that takes it.
func (p *Pool) Release(sc *Conn, reusable bool) {
	if !reusable || sc.Broken || sc.PC.IsClosed() || sc.PC.TxStatus() != 'I' {
		p.Discard(sc)
		return
	}
	p.mu.Lock()
	ep := p.endpoint(sc.endpoint)
	if sc.gen != ep.gen {
		p.mu.Unlock()
		p.Discard(sc)
		return
	}
	sc.Dirty = true
	sc.idleAt = time.Now()
	ep.idle[sc.key] = append(ep.idle[sc.key], sc)
	ep.signal()
	p.mu.Unlock()
}

// Discard closes a connection and frees its slot.
func (p *Pool) Discard(sc *Conn) {
	closeConn(sc.PC)
	p.mu.Lock()
	ep := p.endpoint(sc.endpoint)
	ep.total--
	ep.signal()
	p.mu.Unlock()
}

// Drop closes an endpoint's idle connections and marks the busy ones to be
// closed when they come back: its compute stopped.
func (p *Pool) Drop(endpoint string) {
	p.mu.Lock()
	ep, ok := p.endpoints[endpoint]
	if !ok {
		p.mu.Unlock()
		return
	}
	ep.gen++
	var closing []*Conn
	for _, list := range ep.idle {
		closing = append(closing, list...)
	}
	clear(ep.idle)
	ep.total -= len(closing)
	ep.signal()
	if ep.total == 0 {
		delete(p.endpoints, endpoint)
	}
	p.mu.Unlock()
	for _, sc := range closing {
		closeConn(sc.PC)
	}
}

// Sweep closes connections idle longer than the idle timeout.
func (p *Pool) Sweep(now time.Time) {
	var closing []*Conn
	p.mu.Lock()
	for id, ep := range p.endpoints {
		for key, list := range ep.idle {
			n := 0
			for n < len(list) && now.Sub(list[n].idleAt) >= p.idleTimeout {
				n++
			}
			if n == 0 {
				continue
			}
			closing = append(closing, list[:n]...)
			if n == len(list) {
				delete(ep.idle, key)
			} else {
				ep.idle[key] = append(list[:0:0], list[n:]...)
			}
			ep.total -= n
		}
		if ep.total == 0 {
			delete(p.endpoints, id)
		}
	}
	p.mu.Unlock()
	for _, sc := range closing {
		closeConn(sc.PC)
	}
}

// CloseAll closes every idle connection; busy ones close when released.
func (p *Pool) CloseAll() {
	p.mu.Lock()
	ids := make([]string, 0, len(p.endpoints))
	for id := range p.endpoints {
		ids = append(ids, id)
	}
	p.mu.Unlock()
	for _, id := range ids {
		p.Drop(id)
	}
}

// Open reports the connections that exist per endpoint, for tests and
// metrics.
func (p *Pool) Open() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.endpoints))
	for id, ep := range p.endpoints {
		out[id] = ep.total
	}
	return out
}

func closeConn(pc *pgconn.PgConn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = pc.Close(ctx)
}

// Dial logs in as key's role to a compute's Postgres at its Unix socket
// (".../.s.PGSQL.5432"). A request whose client goes away cancels the
// query at once rather than leaving it to run on a connection nobody reads.
func Dial(ctx context.Context, socket string, key Key, password, appName string) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig("")
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(strings.TrimPrefix(filepath.Ext(socket), "."))
	if err != nil {
		return nil, fmt.Errorf("socket %q: %w", socket, err)
	}
	cfg.Host, cfg.Port = filepath.Dir(socket), uint16(port)
	cfg.User, cfg.Password, cfg.Database = key.Role, password, key.Database
	cfg.TLSConfig, cfg.Fallbacks = nil, nil
	cfg.RuntimeParams = map[string]string{"application_name": appName}
	if key.Options != "" {
		cfg.RuntimeParams["options"] = key.Options
	}
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: time.Second}
	}
	return pgconn.ConnectConfig(ctx, cfg)
}
