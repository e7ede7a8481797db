package sqlhttp

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// poolKey names the connections a request may reuse on one endpoint:
// logged in as the same role to the same database with the same options.
type poolKey struct {
	database, role, options string
}

// serverConn is a connection to a compute, logged in.
type serverConn struct {
	pc       *pgconn.PgConn
	endpoint string
	key      poolKey
	gen      uint64 // the endpoint pool's generation when dialled
	idleAt   time.Time
	// dirty is set once a request used the connection: the next one resets
	// it first (see execute). broken is set when that reset failed.
	dirty, broken bool
}

// pool keeps connections to computes between requests. Every connection,
// idle or busy, counts against its endpoint's limit; a request over the
// limit waits for one to come back. Idle connections
// never count as client connections, so they do not keep a compute awake;
// when the compute stops, drop closes them.
type pool struct {
	idleTimeout time.Duration

	mu        sync.Mutex
	endpoints map[string]*endpointPool
}

type endpointPool struct {
	limit int
	total int // connections that exist or are being dialled
	gen   uint64
	idle  map[poolKey][]*serverConn // most recently used last
	// dialing counts the logins under way per key, at most maxDials.
	dialing map[poolKey]int
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

func newPool(idleTimeout time.Duration) *pool {
	return &pool{idleTimeout: idleTimeout, endpoints: map[string]*endpointPool{}}
}

func (p *pool) endpoint(id string) *endpointPool {
	ep := p.endpoints[id]
	if ep == nil {
		ep = &endpointPool{idle: map[poolKey][]*serverConn{}, dialing: map[poolKey]int{}, changed: make(chan struct{})}
		p.endpoints[id] = ep
	}
	return ep
}

func (ep *endpointPool) signal() {
	close(ep.changed)
	ep.changed = make(chan struct{})
}

// takeIdle pops the most recently used idle connection of key.
func (ep *endpointPool) takeIdle(key poolKey) *serverConn {
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
func (ep *endpointPool) oldestIdle() *serverConn {
	var oldest *serverConn
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

// acquire returns a connection for key on the endpoint: an idle one, else
// a new one from dial while the endpoint is under limit (closing another
// key's idle connection to make room) and fewer than maxDials are being
// dialled, else the next one to come back.
func (p *pool) acquire(ctx context.Context, endpoint string, key poolKey, limit int,
	dial func(context.Context) (*pgconn.PgConn, error)) (*serverConn, error) {
	for {
		p.mu.Lock()
		ep := p.endpoint(endpoint)
		ep.limit = max(limit, 1)
		if sc := ep.takeIdle(key); sc != nil {
			p.mu.Unlock()
			if sc.pc.IsClosed() {
				p.discard(sc)
				continue
			}
			return sc, nil
		}
		if ep.dialing[key] < maxDials {
			var evict *serverConn
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
					closeConn(evict.pc)
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

func (p *pool) dial(ctx context.Context, endpoint string, key poolKey, gen uint64,
	dial func(context.Context) (*pgconn.PgConn, error)) (*serverConn, error) {
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
	return &serverConn{pc: pc, endpoint: endpoint, key: key, gen: gen}, nil
}

// release gives a connection back after a request. One that may be reused
// becomes idle, to be reset by the next request that takes it.
func (p *pool) release(sc *serverConn, reusable bool) {
	if !reusable || sc.broken || sc.pc.IsClosed() || sc.pc.TxStatus() != 'I' {
		p.discard(sc)
		return
	}
	p.mu.Lock()
	ep := p.endpoint(sc.endpoint)
	if sc.gen != ep.gen {
		p.mu.Unlock()
		p.discard(sc)
		return
	}
	sc.dirty = true
	sc.idleAt = time.Now()
	ep.idle[sc.key] = append(ep.idle[sc.key], sc)
	ep.signal()
	p.mu.Unlock()
}

// discard closes a connection and frees its slot.
func (p *pool) discard(sc *serverConn) {
	closeConn(sc.pc)
	p.mu.Lock()
	ep := p.endpoint(sc.endpoint)
	ep.total--
	ep.signal()
	p.mu.Unlock()
}

// drop closes an endpoint's idle connections and marks the busy ones to be
// closed when they come back: its compute stopped.
func (p *pool) drop(endpoint string) {
	p.mu.Lock()
	ep, ok := p.endpoints[endpoint]
	if !ok {
		p.mu.Unlock()
		return
	}
	ep.gen++
	var closing []*serverConn
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
		closeConn(sc.pc)
	}
}

// sweep closes connections idle longer than the idle timeout.
func (p *pool) sweep(now time.Time) {
	var closing []*serverConn
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
		closeConn(sc.pc)
	}
}

// closeAll closes every idle connection; busy ones close when released.
func (p *pool) closeAll() {
	p.mu.Lock()
	ids := make([]string, 0, len(p.endpoints))
	for id := range p.endpoints {
		ids = append(ids, id)
	}
	p.mu.Unlock()
	for _, id := range ids {
		p.drop(id)
	}
}

// open reports the connections that exist per endpoint, for tests and
// metrics.
func (p *pool) open() map[string]int {
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
