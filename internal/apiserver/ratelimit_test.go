package apiserver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable clock for the limiter.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestBucket(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		r      rate
		takes  int           // tokens taken at t0
		after  time.Duration // then the clock moves
		tokens float64       // tokens after the refill
		wait   time.Duration
	}{
		{"new bucket is full", rate{10, 40}, 0, 0, 40, 0},
		{"one taken", rate{10, 40}, 1, 0, 39, 0},
		{"emptied", rate{10, 40}, 40, 0, 0, 100 * time.Millisecond},
		{"emptied then half a token", rate{10, 40}, 40, 50 * time.Millisecond, 0.5, 50 * time.Millisecond},
		{"emptied then refilled one", rate{10, 40}, 40, 100 * time.Millisecond, 1, 0},
		{"refill stops at burst", rate{10, 40}, 5, time.Hour, 40, 0},
		{"per minute: one token takes 1/rate", rate{700.0 / 60, 700}, 700, 0, 0, time.Second * 60 / 700},
		{"clock going back earns nothing", rate{10, 40}, 40, -time.Second, 0, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &bucket{r: tt.r}
			b.refill(t0)
			b.tokens -= float64(tt.takes)
			b.refill(t0.Add(tt.after))
			if diff := b.tokens - tt.tokens; diff > 1e-9 || diff < -1e-9 {
				t.Errorf("tokens %v, want %v", b.tokens, tt.tokens)
			}
			if w := b.wait(); w < tt.wait-time.Microsecond || w > tt.wait+time.Microsecond {
				t.Errorf("wait %v, want %v", w, tt.wait)
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	type step struct {
		advance    time.Duration
		key, route string
		n          int     // requests sent
		allowed    int     // of which allowed
		refusedBy  limited // of the last refused one
		wait       time.Duration
	}
	tests := []struct {
		name  string
		cfg   RateLimit
		steps []step
	}{
		{"route burst then refill", RateLimit{PerMinute: 700, PerRouteBySecond: 40}, []step{
			{key: "1", route: "GET /projects", n: 50, allowed: 40, refusedBy: limitedRoute, wait: 25 * time.Millisecond},
			{advance: 25 * time.Millisecond, key: "1", route: "GET /projects", n: 2, allowed: 1, refusedBy: limitedRoute, wait: 25 * time.Millisecond},
			{key: "1", route: "GET /projects/{project_id}", n: 1, allowed: 1}, // another route has its own bucket
			{key: "2", route: "GET /projects", n: 40, allowed: 40},            // another key too
			{advance: time.Second, key: "1", route: "GET /projects", n: 40, allowed: 40},
		}},
		{"per minute across routes", RateLimit{PerMinute: 60, PerRouteBySecond: 40}, []step{
			{key: "1", route: "GET /a", n: 40, allowed: 40},
			{key: "1", route: "GET /b", n: 30, allowed: 20, refusedBy: limitedKey, wait: time.Second},
			{advance: 3 * time.Second, key: "1", route: "GET /c", n: 5, allowed: 3, refusedBy: limitedKey, wait: time.Second},
			{key: "2", route: "GET /a", n: 1, allowed: 1},
		}},
		{"a refused request takes no token", RateLimit{PerMinute: 10, PerRouteBySecond: 2}, []step{
			{key: "1", route: "GET /a", n: 100, allowed: 2, refusedBy: limitedRoute, wait: 500 * time.Millisecond},
			{key: "1", route: "GET /b", n: 100, allowed: 2, refusedBy: limitedRoute, wait: 500 * time.Millisecond},
			{advance: time.Second, key: "1", route: "GET /c", n: 100, allowed: 2, refusedBy: limitedRoute, wait: 500 * time.Millisecond},
			{key: "1", route: "GET /d", n: 100, allowed: 2, refusedBy: limitedRoute, wait: 500 * time.Millisecond},
			{key: "1", route: "GET /e", n: 100, allowed: 2, refusedBy: limitedKey, wait: 5 * time.Second},
		}},
		{"Neon's tighter org api key route", RateLimit{PerMinute: 700, PerRouteBySecond: 40}, []step{
			{key: "1", route: "POST /organizations/{org_id}/api_keys", n: 20, allowed: 10, refusedBy: limitedRoute, wait: 100 * time.Millisecond},
		}},
		{"route limit off", RateLimit{PerMinute: 5}, []step{
			{key: "1", route: "GET /a", n: 10, allowed: 5, refusedBy: limitedKey, wait: 12 * time.Second},
		}},
		{"minute limit off", RateLimit{PerRouteBySecond: 3}, []step{
			{key: "1", route: "GET /a", n: 10, allowed: 3, refusedBy: limitedRoute, wait: time.Second / 3},
			{advance: time.Second, key: "1", route: "GET /a", n: 10, allowed: 3, refusedBy: limitedRoute, wait: time.Second / 3},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			cfg := tt.cfg
			cfg.Now = c.now
			l := newLimiter(cfg)
			for i, s := range tt.steps {
				c.advance(s.advance)
				allowed := 0
				var by limited
				var wait time.Duration
				for range s.n {
					w, which := l.allow(s.key, s.route)
					if w == 0 {
						allowed++
					} else {
						by, wait = which, w
					}
				}
				if allowed != s.allowed || by != s.refusedBy {
					t.Fatalf("step %d: %d of %d allowed (refused by %q), want %d (refused by %q)", i, allowed, s.n, by, s.allowed, s.refusedBy)
				}
				if d := wait - s.wait; d > time.Millisecond || d < -time.Millisecond {
					t.Fatalf("step %d: wait %v, want %v", i, wait, s.wait)
				}
			}
		})
	}
}

func TestLimiterEvictsIdleBuckets(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newLimiter(RateLimit{PerMinute: 60, PerRouteBySecond: 10, Now: c.now})
	l.allow("first", "GET /a") // sweeps (nothing yet) and starts the sweep period
	for i := range 1000 {
		l.allow(fmt.Sprint("key", i), "GET /a")
	}
	l.failed("192.0.2.1")
	if n := l.size(); n != 2+2000+1 {
		t.Fatalf("%d buckets, want %d", n, 2+2000+1)
	}
	// A key busy late in the period: 50 of its 60 a minute, on 5 routes.
	c.advance(50 * time.Second)
	for i := range 50 {
		if w, _ := l.allow("heavy", fmt.Sprint("GET /", i%5)); w != 0 {
			t.Fatalf("heavy request %d refused", i)
		}
	}
	if n := l.size(); n != 2003+1+5 {
		t.Fatalf("%d buckets, want %d", n, 2003+1+5)
	}
	// At the next sweep every bucket that refilled is gone: all but the
	// heavy key's own, which holds 20 tokens of 60.
	c.advance(10 * time.Second)
	l.allow("late", "GET /a")
	if n := l.size(); n != 1+2 {
		t.Fatalf("after a minute: %d buckets, want heavy's and late's (3)", n)
	}
	c.advance(sweepEvery)
	l.allow("later", "GET /a")
	if n := l.size(); n != 2 {
		t.Fatalf("after two minutes: %d buckets, want later's 2", n)
	}
}

func TestLimitAddr(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := &Server{}
	s.limits = newLimiter(RateLimit{PerMinute: 3, Now: c.now})
	status := http.StatusUnauthorized
	h := s.limitAddr(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
	}))
	do := func(addr string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/api/v2/projects", nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for i := range 3 {
		if w := do("192.0.2.1:1000"); w.Code != 401 {
			t.Fatalf("failure %d: %d, want 401", i, w.Code)
		}
	}
	w := do("192.0.2.1:2000")
	if w.Code != 429 || w.Header().Get("Retry-After") != "20" {
		t.Fatalf("after 3 failures: %d Retry-After %q, want 429 and 20", w.Code, w.Header().Get("Retry-After"))
	}
	if w := do("192.0.2.2:1000"); w.Code != 401 {
		t.Fatalf("another address: %d, want 401", w.Code)
	}
	// Successes count nothing.
	status = http.StatusOK
	c.advance(20 * time.Second)
	for i := range 10 {
		if w := do("192.0.2.1:1000"); w.Code != 200 {
			t.Fatalf("success %d after the wait: %d", i, w.Code)
		}
	}
}

// TestLimiterConcurrent: callers at once share the bucket exactly.
func TestLimiterConcurrent(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newLimiter(RateLimit{PerMinute: 100, PerRouteBySecond: 1000, Now: c.now})
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if w, _ := l.allow("k", fmt.Sprint("GET /", (g+i)%3)); w == 0 {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 100 {
		t.Fatalf("%d of 400 allowed, want the minute's 100", n)
	}
}
