// Package authlimit throttles failed password checks, for every place Grove
// checks a password: the Postgres proxy and, later, the HTTP data plane.
//
// Two token buckets hold every attempt: one per endpoint and client address
// (an IPv6 address by its /64, as Neon's proxy masks it), one per endpoint
// for all addresses together. Begin takes a token from both before the
// password is checked, or refuses when either is empty; a login that
// succeeds, or a check that never took place, gives its tokens back
// (Attempt.Refund), so only failures are counted. A login with the right
// password is refused only while its address's or endpoint's bucket is
// empty, and costs nothing; Neon's proxy charges every attempt, successful
// or not, to a bucket per endpoint and address.
//
// Buckets refill one token each Rule.Every and are forgotten once full again;
// at most Config.MaxKeys are kept, the fullest going first when more are
// needed. The package is pure: the clock is Config.Now, and nothing is logged.
package authlimit

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Defaults of Config.
var (
	// DefaultPerAddress lets one address fail 10 times in a row on an
	// endpoint, then once every 6 s.
	DefaultPerAddress = Rule{Burst: 10, Every: 6 * time.Second}
	// DefaultPerEndpoint lets an endpoint see 300 failures in a row from
	// all addresses, then 10 a second: enough to slow a guess spread over
	// many addresses without locking an endpoint's users out lightly.
	DefaultPerEndpoint = Rule{Burst: 300, Every: 100 * time.Millisecond}
)

// DefaultMaxKeys bounds the buckets kept (about 150 bytes each).
const DefaultMaxKeys = 1 << 16

// ipv6Prefix is the part of an IPv6 address that names a client, as Neon's
// rate_limit_ip_subnet (64); IPv4 addresses count whole.
const ipv6Prefix = 64

// Rule is one token bucket: Burst failed attempts back to back, then one
// each Every.
type Rule struct {
	// Burst is the bucket's size; 0 takes the default, < 0 turns the rule off.
	Burst int
	// Every is how long one token takes to come back; 0 takes the default.
	Every time.Duration
}

func (r Rule) off() bool { return r.Burst < 0 }

// Config configures a Limiter. The zero value is the defaults.
type Config struct {
	// PerAddress bounds the failures of one client address on one endpoint
	// (default DefaultPerAddress).
	PerAddress Rule
	// PerEndpoint bounds the failures on one endpoint from all addresses
	// (default DefaultPerEndpoint).
	PerEndpoint Rule
	// MaxKeys bounds the buckets kept (default DefaultMaxKeys).
	MaxKeys int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (r *Rule) fill(def Rule) {
	if r.Burst == 0 {
		r.Burst = def.Burst
	}
	if r.Every <= 0 {
		r.Every = def.Every
	}
}

// Validate fills in defaults.
func (cfg *Config) Validate() error {
	cfg.PerAddress.fill(DefaultPerAddress)
	cfg.PerEndpoint.fill(DefaultPerEndpoint)
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	if cfg.MaxKeys < 2 {
		return fmt.Errorf("authlimit: MaxKeys %d: an attempt needs 2 buckets", cfg.MaxKeys)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return nil
}

// Scope names the rule that refused an attempt.
type Scope string

// Scopes of ThrottledError.
const (
	ScopeAddress  Scope = "address"
	ScopeEndpoint Scope = "endpoint"
)

// ErrThrottled is what every ThrottledError matches with errors.Is.
var ErrThrottled = errors.New("too many failed authentication attempts")

// ThrottledError refuses an attempt whose bucket is empty.
type ThrottledError struct {
	Scope Scope
	// RetryAfter is how long until the bucket holds a token again.
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v per %s; retry in %v", ErrThrottled, e.Scope, e.RetryAfter)
}

func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// key names a bucket: the endpoint's alone (scope endpoint, addr zero) or
// the endpoint's for one masked address.
type key struct {
	scope    Scope
	endpoint string
	addr     netip.Addr
}

// bucket holds tokens as they were at time at.
type bucket struct {
	tokens float64
	at     time.Time
}

// level is b's tokens at now under r, at most r.Burst.
func (b *bucket) level(r Rule, now time.Time) float64 {
	elapsed := now.Sub(b.at)
	if elapsed < 0 {
		elapsed = 0
	}
	return min(float64(r.Burst), b.tokens+float64(elapsed)/float64(r.Every))
}

// sweepEvery is how many Begin calls pass between removals of full buckets.
const sweepEvery = 1024

// Limiter counts failed password checks. It is safe for concurrent use.
type Limiter struct {
	cfg Config

	mu      sync.Mutex
	buckets map[key]*bucket
	calls   int
}

// New returns a Limiter; it fails only on an invalid cfg.
func New(cfg Config) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Limiter{cfg: cfg, buckets: map[key]*bucket{}}, nil
}

// Mask is the part of addr that names a client: an IPv4 address (also
// when IPv4-mapped) whole, an IPv6 address by its /64.
func Mask(addr netip.Addr) netip.Addr {
	addr = addr.Unmap()
	if !addr.Is6() {
		return addr
	}
	p, err := addr.Prefix(ipv6Prefix)
	if err != nil {
		return addr
	}
	return p.Addr()
}

func (l *Limiter) rule(k key) Rule {
	if k.scope == ScopeAddress {
		return l.cfg.PerAddress
	}
	return l.cfg.PerEndpoint
}

// keys are the buckets an attempt on endpoint from addr draws on, of the
// rules that are on.
func (l *Limiter) keys(endpoint string, addr netip.Addr) []key {
	ks := make([]key, 0, 2)
	if !l.cfg.PerAddress.off() {
		ks = append(ks, key{scope: ScopeAddress, endpoint: endpoint, addr: Mask(addr)})
	}
	if !l.cfg.PerEndpoint.off() {
		ks = append(ks, key{scope: ScopeEndpoint, endpoint: endpoint})
	}
	return ks
}

// Begin reserves one password check on endpoint for a client at addr. When
// a bucket is empty it reserves nothing and returns a *ThrottledError
// (errors.Is ErrThrottled). The reserved attempt counts as a failure unless
// it is refunded.
func (l *Limiter) Begin(endpoint string, addr netip.Addr) (*Attempt, error) {
	now := l.cfg.Now()
	ks := l.keys(endpoint, addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.calls%sweepEvery == 0 {
		l.sweep(now, -1)
	}
	for _, k := range ks {
		b := l.buckets[k]
		if b == nil {
			continue
		}
		r := l.rule(k)
		if lv := b.level(r, now); lv < 1 {
			wait := time.Duration((1 - lv) * float64(r.Every))
			return nil, &ThrottledError{Scope: k.scope, RetryAfter: wait}
		}
	}
	missing := 0
	for _, k := range ks {
		if l.buckets[k] == nil {
			missing++
		}
	}
	if len(l.buckets)+missing > l.cfg.MaxKeys {
		// Room for an eighth more, so that sweeps stay rare.
		l.sweep(now, l.cfg.MaxKeys-l.cfg.MaxKeys/8-missing)
	}
	for _, k := range ks {
		r := l.rule(k)
		b := l.buckets[k]
		if b == nil {
			b = &bucket{tokens: float64(r.Burst), at: now}
			l.buckets[k] = b
		}
		b.tokens, b.at = b.level(r, now)-1, now
	}
	return &Attempt{l: l, keys: ks}, nil
}

// sweep removes the buckets that are full again, then, when keep >= 0 and
// more than keep are left, the fullest ones: forgetting a bucket forgives
// its failures, so the emptiest are kept longest.
func (l *Limiter) sweep(now time.Time, keep int) {
	type entry struct {
		k     key
		spare float64 // tokens short of full
	}
	var left []entry
	for k, b := range l.buckets {
		r := l.rule(k)
		lv := b.level(r, now)
		if lv >= float64(r.Burst) {
			delete(l.buckets, k)
			continue
		}
		if keep >= 0 {
			left = append(left, entry{k, float64(r.Burst) - lv})
		}
	}
	if keep < 0 || len(left) <= keep {
		return
	}
	slices.SortFunc(left, func(a, b entry) int { return cmp.Compare(a.spare, b.spare) })
	for _, e := range left[:len(left)-keep] {
		delete(l.buckets, e.k)
	}
}

// Len is the number of buckets kept, for tests and metrics.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// Attempt is one reserved password check.
type Attempt struct {
	l        *Limiter
	keys     []key
	refunded bool
}

// Refund gives the attempt's tokens back: call it when the password check
// succeeded or did not take place (the role lookup failed). An attempt that
// is not refunded counts as a failure. Refund is idempotent.
func (a *Attempt) Refund() {
	l := a.l
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if a.refunded {
		return
	}
	a.refunded = true
	for _, k := range a.keys {
		b := l.buckets[k]
		if b == nil {
			continue // forgotten: full as far as anyone can tell
		}
		r := l.rule(k)
		b.tokens, b.at = min(float64(r.Burst), b.level(r, now)+1), now
	}
}
