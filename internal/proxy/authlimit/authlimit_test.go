package authlimit

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newLimiter(t *testing.T, cfg Config) (*Limiter, *clock) {
	t.Helper()
	c := newClock()
	cfg.Now = c.Now
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l, c
}

// step is one action of a scenario: an attempt (fail or refunded), or time
// passing.
type step struct {
	ep, addr string
	refund   bool          // the check succeeds
	advance  time.Duration // only move the clock
	want     Scope         // "" = allowed, else refused by that rule
	retry    time.Duration // with want: the RetryAfter expected (0 = not checked)
}

func try(ep, addr string, want Scope) step { return step{ep: ep, addr: addr, want: want} }
func succeed(ep, addr string) step         { return step{ep: ep, addr: addr, refund: true} }
func wait(d time.Duration) step            { return step{advance: d} }
func tryRetry(ep, addr string, want Scope, retry time.Duration) step {
	return step{ep: ep, addr: addr, want: want, retry: retry}
}

func TestLimiter(t *testing.T) {
	const (
		A, B, C = "192.0.2.1", "192.0.2.2", "192.0.2.3"
		e1, e2  = "ep-one", "ep-two"
		addr    = ScopeAddress
		endp    = ScopeEndpoint
	)
	small := Config{PerAddress: Rule{Burst: 3, Every: time.Minute}, PerEndpoint: Rule{Burst: 100, Every: time.Minute}}
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"burst per address, then refused; others unaffected", small, []step{
			try(e1, A, ""), try(e1, A, ""), try(e1, A, ""),
			try(e1, A, addr), try(e1, A, addr),
			try(e1, B, ""), // another address
			try(e2, A, ""), // another endpoint
		}},
		{"one token back each Every", small, []step{
			try(e1, A, ""), try(e1, A, ""), try(e1, A, ""),
			tryRetry(e1, A, addr, time.Minute),
			wait(20 * time.Second), tryRetry(e1, A, addr, 40*time.Second),
			wait(40 * time.Second), try(e1, A, ""), try(e1, A, addr),
			wait(3 * time.Minute), try(e1, A, ""), try(e1, A, ""), try(e1, A, ""), try(e1, A, addr),
		}},
		{"successes cost nothing", small, []step{
			succeed(e1, A), succeed(e1, A), succeed(e1, A), succeed(e1, A), succeed(e1, A),
			try(e1, A, ""), try(e1, A, ""), try(e1, A, ""), try(e1, A, addr),
		}},
		{"a success after failures is not held against the address", small, []step{
			try(e1, A, ""), try(e1, A, ""),
			succeed(e1, A),
			try(e1, A, ""), try(e1, A, addr),
		}},
		{"a success is refused while the bucket is empty", small, []step{
			try(e1, A, ""), try(e1, A, ""), try(e1, A, ""),
			{ep: e1, addr: A, refund: true, want: addr},
			wait(time.Minute), succeed(e1, A), try(e1, A, ""), try(e1, A, addr),
		}},
		{"per endpoint across addresses", Config{PerAddress: Rule{Burst: 2, Every: time.Hour}, PerEndpoint: Rule{Burst: 3, Every: time.Hour}}, []step{
			try(e1, A, ""), try(e1, A, ""), try(e1, B, ""),
			try(e1, C, endp), try(e1, B, endp),
			try(e2, C, ""),   // another endpoint
			try(e1, A, addr), // the address rule is checked first
		}},
		{"a refused attempt reserves nothing", Config{PerAddress: Rule{Burst: 1, Every: time.Hour}, PerEndpoint: Rule{Burst: 2, Every: time.Hour}}, []step{
			try(e1, A, ""), try(e1, A, addr), try(e1, A, addr), try(e1, A, addr),
			try(e1, B, ""), // the endpoint's second token was not spent by A's refusals
			try(e1, C, endp),
		}},
		{"IPv6 addresses count by /64", small, []step{
			try(e1, "2001:db8::1", ""), try(e1, "2001:db8::2", ""), try(e1, "2001:db8::ffff:1", ""),
			try(e1, "2001:db8::3", addr),
			try(e1, "2001:db8:0:1::1", ""),
		}},
		{"IPv4-mapped IPv6 is the IPv4 address", small, []step{
			try(e1, A, ""), try(e1, "::ffff:"+A, ""), try(e1, A, ""),
			try(e1, "::ffff:"+A, addr),
		}},
		{"address rule off", Config{PerAddress: Rule{Burst: -1}, PerEndpoint: Rule{Burst: 2, Every: time.Hour}}, []step{
			try(e1, A, ""), try(e1, A, ""), try(e1, A, endp), try(e1, B, endp),
		}},
		{"both rules off", Config{PerAddress: Rule{Burst: -1}, PerEndpoint: Rule{Burst: -1}}, []step{
			try(e1, A, ""), try(e1, A, ""), try(e1, A, ""), try(e1, A, ""), try(e1, A, ""),
		}},
		{"defaults: ten failures, then one each 6 s", Config{}, []step{
			try(e1, A, ""), try(e1, A, ""), try(e1, A, ""), try(e1, A, ""), try(e1, A, ""),
			try(e1, A, ""), try(e1, A, ""), try(e1, A, ""), try(e1, A, ""), try(e1, A, ""),
			tryRetry(e1, A, addr, 6*time.Second),
			wait(6 * time.Second), try(e1, A, ""), try(e1, A, addr),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, c := newLimiter(t, tc.cfg)
			for i, s := range tc.steps {
				if s.advance > 0 {
					c.Advance(s.advance)
					continue
				}
				at, err := l.Begin(s.ep, netip.MustParseAddr(s.addr))
				var te *ThrottledError
				switch {
				case s.want == "" && err != nil:
					t.Fatalf("step %d (%s from %s): %v, want allowed", i, s.ep, s.addr, err)
				case s.want != "" && (!errors.As(err, &te) || te.Scope != s.want || !errors.Is(err, ErrThrottled)):
					t.Fatalf("step %d (%s from %s): %v, want refused per %s", i, s.ep, s.addr, err, s.want)
				case s.want != "" && s.retry != 0 && te.RetryAfter != s.retry:
					t.Fatalf("step %d: RetryAfter %v, want %v", i, te.RetryAfter, s.retry)
				}
				if err == nil && s.refund {
					at.Refund()
				}
			}
		})
	}
}

func TestRefundIsIdempotent(t *testing.T) {
	l, _ := newLimiter(t, Config{PerAddress: Rule{Burst: 2, Every: time.Hour}, PerEndpoint: Rule{Burst: -1}})
	a := netip.MustParseAddr("192.0.2.1")
	first, err := l.Begin("ep", a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Begin("ep", a); err != nil {
		t.Fatal(err)
	}
	first.Refund()
	first.Refund() // must not give back a second token
	if _, err := l.Begin("ep", a); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Begin("ep", a); !errors.Is(err, ErrThrottled) {
		t.Fatalf("after a double refund: %v, want throttled", err)
	}
}

// TestForgetsFullBuckets: buckets that are full again are dropped, and the
// number kept never passes MaxKeys.
func TestForgetsFullBuckets(t *testing.T) {
	const max = 16
	l, c := newLimiter(t, Config{PerAddress: Rule{Burst: 2, Every: time.Second}, PerEndpoint: Rule{Burst: 1000, Every: time.Millisecond}, MaxKeys: max})
	for i := range 200 {
		addr := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		if _, err := l.Begin("ep", addr); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		if n := l.Len(); n > max {
			t.Fatalf("after %d attempts %d buckets, max %d", i+1, n, max)
		}
		c.Advance(100 * time.Millisecond)
	}
	// Long after the last failure every bucket is full: a sweep drops all.
	c.Advance(time.Hour)
	for range sweepEvery {
		if _, err := l.Begin("other", netip.MustParseAddr("192.0.2.9")); err != nil {
			// The address rule refuses after two; refusals count as calls too.
			continue
		}
	}
	if n := l.Len(); n != 2 {
		t.Fatalf("%d buckets after the sweep, want the 2 in use", n)
	}
}

// TestKeepsTheEmptiest: when the buckets are at MaxKeys, the fullest are
// forgotten first, so an attacker's nearly empty bucket survives a flood of
// new addresses.
func TestKeepsTheEmptiest(t *testing.T) {
	l, _ := newLimiter(t, Config{PerAddress: Rule{Burst: 5, Every: time.Hour}, PerEndpoint: Rule{Burst: -1}, MaxKeys: 8})
	attacker := netip.MustParseAddr("192.0.2.66")
	for range 4 {
		if _, err := l.Begin("ep", attacker); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		if _, err := l.Begin("ep", netip.AddrFrom4([4]byte{10, 1, 0, byte(i)})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Begin("ep", attacker); err != nil {
		t.Fatalf("fifth failure: %v", err)
	}
	if _, err := l.Begin("ep", attacker); !errors.Is(err, ErrThrottled) {
		t.Fatalf("sixth attempt: %v, want throttled (the attacker's bucket was forgotten)", err)
	}
}

// TestConcurrent: of many simultaneous attempts on one bucket, exactly
// Burst get through.
func TestConcurrent(t *testing.T) {
	const burst = 50
	l, _ := newLimiter(t, Config{PerAddress: Rule{Burst: burst, Every: time.Hour}, PerEndpoint: Rule{Burst: 1000, Every: time.Hour}})
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for range 400 {
		wg.Go(func() {
			_, err := l.Begin("ep", netip.MustParseAddr("192.0.2.1"))
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrThrottled):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != burst || refused.Load() != 400-burst {
		t.Fatalf("%d allowed, %d refused; want %d allowed", ok.Load(), refused.Load(), burst)
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::",
		"2001:db8:1:2::":       "2001:db8:1:2::",
		"fe80::1%eth0":         "fe80::",
		"::1":                  "::",
	} {
		if got := Mask(netip.MustParseAddr(in)); got.String() != want {
			t.Errorf("Mask(%s) = %s, want %s", in, got, want)
		}
	}
	if got := Mask(netip.Addr{}); got.IsValid() {
		t.Errorf("Mask(zero) = %s", got)
	}
}

func TestValidate(t *testing.T) {
	var cfg Config
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.PerAddress != DefaultPerAddress || cfg.PerEndpoint != DefaultPerEndpoint || cfg.MaxKeys != DefaultMaxKeys || cfg.Now == nil {
		t.Fatalf("defaults: %+v", cfg)
	}
	if _, err := New(Config{MaxKeys: 1}); err == nil {
		t.Fatal("MaxKeys 1 accepted")
	}
	e := &ThrottledError{Scope: ScopeEndpoint, RetryAfter: time.Second}
	if got := fmt.Sprint(e); got != "too many failed authentication attempts per endpoint; retry in 1s" {
		t.Fatalf("Error() = %q", got)
	}
}
