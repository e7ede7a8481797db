package apiserver

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/grovedb/grove/internal/accounts"
)

// RateLimit configures the API's rate limits, Neon's by default: 700
// requests a minute per API key and 40 a second per key and route. Zero
// turns a limit off.
//
// Requests that fail authentication are counted per client address against
// PerMinute; once an address has used it up, its requests get 429 before
// their key is looked up, so a flood of bad keys is bounded too.
type RateLimit struct {
	PerMinute        int
	PerRouteBySecond int
	// Now is the clock (nil: time.Now); tests inject theirs.
	Now func() time.Time
}

// Neon's documented limits (neon-api.md §1.3).
const (
	DefaultRatePerMinute      = 700
	DefaultRatePerRouteSecond = 40
)

// routeRates caps routes Neon limits more tightly than the others, in
// requests a second.
var routeRates = map[string]float64{
	"POST /organizations/{org_id}/api_keys": 10,
}

// rateLimitMessage is the 429 body's message. Neon documents the status
// and its GeneralError body but not the text; this is ours.
const rateLimitMessage = "rate limit exceeded"

// rate is a token bucket's shape: refill per second and capacity.
type rate struct{ perSecond, burst float64 }

func (r rate) off() bool { return r.perSecond <= 0 }

// bucket is a token bucket; the zero bucket is full.
type bucket struct {
	r      rate
	tokens float64
	at     time.Time // of the last refill; zero: never used
}

// refill adds the tokens earned since the last refill.
func (b *bucket) refill(now time.Time) {
	switch {
	case b.at.IsZero():
		b.tokens = b.r.burst
	case now.After(b.at):
		b.tokens = math.Min(b.r.burst, b.tokens+now.Sub(b.at).Seconds()*b.r.perSecond)
	default:
		return // a clock step back earns nothing
	}
	b.at = now
}

// wait is how long until the bucket holds a whole token (0: it does).
func (b *bucket) wait() time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / b.r.perSecond * float64(time.Second))
}

// full reports whether a refilled bucket at now would be full, i.e. holds
// nothing a new bucket would not.
func (b *bucket) full(now time.Time) bool {
	c := *b
	c.refill(now)
	return c.tokens >= c.r.burst
}

// sweepEvery is how often idle buckets are dropped.
const sweepEvery = time.Minute

// limiter holds the token buckets of API keys, their routes and client
// addresses. Buckets that have refilled completely are dropped at the
// next sweep, so memory follows the callers of the last minute.
type limiter struct {
	now        func() time.Time
	key, route rate

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

func newLimiter(cfg RateLimit) *limiter {
	l := &limiter{now: cfg.Now, buckets: map[string]*bucket{}}
	if l.now == nil {
		l.now = time.Now
	}
	if cfg.PerMinute > 0 {
		l.key = rate{perSecond: float64(cfg.PerMinute) / 60, burst: float64(cfg.PerMinute)}
	}
	if cfg.PerRouteBySecond > 0 {
		l.route = rate{perSecond: float64(cfg.PerRouteBySecond), burst: float64(cfg.PerRouteBySecond)}
	}
	return l
}

// get returns the bucket of name, refilled, creating it; l.mu is held.
func (l *limiter) get(name string, r rate, now time.Time) *bucket {
	b := l.buckets[name]
	if b == nil {
		b = &bucket{r: r}
		l.buckets[name] = b
	}
	b.refill(now)
	return b
}

// sweep drops the buckets that have refilled; l.mu is held.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < sweepEvery {
		return
	}
	l.swept = now
	for name, b := range l.buckets {
		if b.full(now) {
			delete(l.buckets, name)
		}
	}
}

// limited names the bucket that refused a request.
type limited string

const (
	limitedKey   limited = "key"
	limitedRoute limited = "route"
	limitedAddr  limited = "address"
)

// allow takes a token from key's bucket and one from the bucket of key and
// route, or none when either is empty; then it returns how long to wait
// and which bucket refused.
func (l *limiter) allow(key, route string) (time.Duration, limited) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	var kb, rb *bucket
	if !l.key.off() {
		kb = l.get("k "+key, l.key, now)
	}
	rr := l.route
	if limit, ok := routeRates[route]; ok && !rr.off() && limit < rr.perSecond {
		rr = rate{perSecond: limit, burst: limit}
	}
	if !rr.off() {
		rb = l.get("r "+key+" "+route, rr, now)
	}
	if kb != nil {
		if w := kb.wait(); w > 0 {
			return w, limitedKey
		}
	}
	if rb != nil {
		if w := rb.wait(); w > 0 {
			return w, limitedRoute
		}
		rb.tokens--
	}
	if kb != nil {
		kb.tokens--
	}
	return 0, ""
}

// blocked returns how long addr must wait before its requests are looked
// at again (0: not blocked). It takes nothing.
func (l *limiter) blocked(addr string) time.Duration {
	if l.key.off() {
		return 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets["a "+addr]
	if !ok {
		return 0
	}
	b.refill(now)
	return b.wait()
}

// failed counts a request from addr that failed authentication.
func (l *limiter) failed(addr string) {
	if l.key.off() {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	if b := l.get("a "+addr, l.key, now); b.tokens >= 1 {
		b.tokens--
	}
}

// size is the number of buckets held, for tests.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// limitAddr refuses requests from an address that sent too many requests
// failing authentication, and counts those that fail.
func (s *Server) limitAddr(next http.Handler) http.Handler {
	if s.limits == nil || s.limits.key.off() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddr(r)
		if wait := s.limits.blocked(addr); wait > 0 {
			s.tooMany(w, r, wait, limitedAddr)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == http.StatusUnauthorized {
			s.limits.failed(addr)
		}
	})
}

// limitKey refuses requests of a key over its limits; pattern is the
// route as registered ("GET /projects/{project_id}").
func (s *Server) limitKey(pattern string, h handler) handler {
	if s.limits == nil || (s.limits.key.off() && s.limits.route.off()) {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
		if wait, which := s.limits.allow(strconv.FormatInt(pr.KeyID, 10), pattern); wait > 0 {
			s.tooMany(w, r, wait, which)
			return nil
		}
		return h(w, r, pr)
	}
}

// tooMany answers 429 with Retry-After in whole seconds, rounded up.
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration, which limited) {
	secs := max(1, int64(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	if s.metrics != nil {
		s.metrics.RateLimited(string(which))
	}
	s.writeError(w, r, http.StatusTooManyRequests, rateLimitMessage)
}

// clientAddr is the request's peer address without its port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
