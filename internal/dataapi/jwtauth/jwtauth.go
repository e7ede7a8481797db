// Package jwtauth verifies the bearer tokens of Data API requests the way
// PostgREST does (its error codes, messages and WWW-Authenticate headers,
// its claim checks and its role claim paths), with keys from a JWKS URL
// fetched under Neon's limits, an inline JWK or JWK Set, or an HMAC secret.
//
// A Verifier is shared by every request of a data plane. It caches key sets
// per JWKS URL (refreshed in the background after 5 minutes, unusable after
// an hour, refetched at most every 30 s for an unknown kid, one fetch at a
// time per URL) and tokens it verified (keyed by a hash of the token, the key
// set's content and the rules), so a token seen again costs a hash lookup and
// a check of its time claims. New content at a JWKS URL changes the key
// set's identity, so tokens verified with the old keys are verified again.
//
// Differences from PostgREST, on purpose: HS384 and HS512 tokens verify with
// a text secret (PostgREST binds a text secret to HS256), Rules.Issuer checks
// iss (PostgREST never does), and a JWKS URL is a Neon feature.
package jwtauth

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/grovedb/grove/internal/dataapi/apierr"
)

// Keys says where a token's keys come from; exactly one of the fields is set.
type Keys struct {
	URL    string // a JWKS URL, fetched and cached
	Inline []byte // a JWK or a JWK Set, JSON
	Secret []byte // an HMAC secret (PostgREST's jwt-secret; HS256/384/512)
}

// Rules are what a verified token's claims must satisfy.
type Rules struct {
	// Audience "" accepts any aud; else a token's aud (a string or an array
	// of strings) must be or contain it. A token without aud (or with null
	// or an empty array) passes, as in PostgREST and Neon.
	Audience string
	// Issuer "" accepts any iss; else iss must equal it.
	Issuer string
	// RoleClaimKey is PostgREST's jwt-role-claim-key: an RFC 9535 JSON path
	// ("$.role", `$["https://x/roles"][0].value`,
	// `$.realm_access.roles[?(@ == "x")]`) or the older dotted syntax
	// (".role", ".postgrest.a_role", `.roles[?(@ ^== "app_")]`). "" means
	// "$.role". Check it with CheckRoleClaimKey when it is configured.
	RoleClaimKey string
	// CacheSeconds bounds how long a verified token is kept: 0 until it
	// expires, more than 0 at most that many seconds, less than 0 not at
	// all (PostgREST's jwt-cache-max-lifetime = 0).
	CacheSeconds int
}

// Result is a verified token.
type Result struct {
	// Claims is the payload as signed, JSON, for request.jwt.claims; the
	// verified-token cache shares it, so it must not be modified. PostgREST
	// sets its "role" member to the role the request runs as (Role, or the
	// anonymous role), replacing any, when it builds that setting.
	Claims []byte
	// Role is what RoleClaimKey selects: a string as is, any other JSON
	// value as its JSON text (PostgREST's rule). "" when it selects nothing:
	// the caller then uses the anonymous role, or refuses with PGRST302.
	Role string
}

// Config configures a Verifier.
type Config struct {
	// Client fetches JWKS URLs; nil is a client with Neon's limits (2 s to
	// connect). Redirects are refused whatever the client.
	Client *http.Client
	Logger *slog.Logger
	// Now is the clock claims are checked against; nil is time.Now.
	Now func() time.Time
	// CacheSize bounds the verified-token cache (entries); 0 is 10,000,
	// negative disables it.
	CacheSize int
	// FetchTimeout bounds one JWKS fetch attempt; 0 is Neon's 5 s.
	FetchTimeout time.Duration
	// AllowPrivate lets the default client fetch JWKS URLs on loopback
	// and private networks (an identity provider inside the operator's
	// network, tests); off, only public addresses are dialled.
	AllowPrivate bool
}

// Neon's limits for fetching a JWKS (proxy auth/backend/jwt.rs).
const (
	maxJWKSBytes      = 64 << 10
	connectTimeout    = 2 * time.Second
	fetchTimeout      = 5 * time.Second
	fetchRetries      = 3
	refreshAfter      = 5 * time.Minute
	expireAfter       = time.Hour
	unknownKidRefetch = 30 * time.Second
	defaultCacheSize  = 10000
	// leeway is the clock skew PostgREST allows on exp, nbf and iat.
	leeway = 30
)

// Verifier verifies tokens; it is safe for concurrent use.
type Verifier struct {
	client       *http.Client
	log          *slog.Logger
	now          func() time.Time
	fetchTimeout time.Duration

	// ctx bounds background fetches; Close cancels it and waits for them.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	remotes map[string]*remote // by JWKS URL

	static sync.Map // sha256 of Inline or Secret → *keySet
	paths  sync.Map // RoleClaimKey → *rolePath or error
	cache  *lru
}

// New returns a Verifier; Close stops its background fetches.
func New(cfg Config) *Verifier {
	ctx, cancel := context.WithCancel(context.Background())
	v := &Verifier{
		client:       jwksClient(cfg.Client, cfg.AllowPrivate),
		log:          cfg.Logger,
		now:          cfg.Now,
		fetchTimeout: cfg.FetchTimeout,
		ctx:          ctx,
		cancel:       cancel,
		remotes:      map[string]*remote{},
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.fetchTimeout <= 0 {
		v.fetchTimeout = fetchTimeout
	}
	switch {
	case cfg.CacheSize == 0:
		v.cache = newLRU(defaultCacheSize)
	case cfg.CacheSize > 0:
		v.cache = newLRU(cfg.CacheSize)
	}
	return v
}

// Close stops background JWKS fetches and waits for them to end.
func (v *Verifier) Close() {
	v.mu.Lock()
	v.closed = true
	v.mu.Unlock()
	v.cancel()
	v.wg.Wait()
}

// Verify checks token (the text after "Bearer ") against keys and rules and
// returns its claims and role. Its errors are *apierr.Error as PostgREST
// reports them: 401 PGRST301 for a token that does not decode or verify,
// 401 PGRST303 for a claim that fails, 500 PGRST300 when there are no keys
// to verify with (nothing configured, a JWKS that cannot be fetched) or the
// role claim key does not parse (the message then says so).
func (v *Verifier) Verify(ctx context.Context, token string, keys Keys, rules Rules) (Result, error) {
	path, err := v.rolePath(rules.RoleClaimKey)
	if err != nil {
		return Result{}, err
	}
	src, err := v.source(keys)
	if err != nil {
		return Result{}, err
	}
	if token == "" {
		return Result{}, decodeError(msgEmpty, "")
	}
	set, err := src.current(ctx)
	if err != nil {
		return Result{}, err
	}
	now := v.now().Unix()
	var key [sha256.Size]byte
	if v.cache != nil {
		key = cacheKey(set, rules, token)
		if e, ok := v.cache.get(key); ok {
			if err := e.times.check(now); err != nil {
				v.cache.remove(key)
				return Result{}, err
			}
			if e.until == 0 || now < e.until {
				return e.result, nil
			}
			v.cache.remove(key) // kept its time: verify it again
		}
	}
	tok, err := parseToken(token)
	if err != nil {
		return Result{}, err
	}
	verified, err := v.verifySignature(ctx, src, set, tok)
	if err != nil {
		return Result{}, err
	}
	res, times, err := checkClaims(tok.payload, now, rules, path)
	if err != nil {
		return Result{}, err
	}
	if v.cache != nil && rules.CacheSeconds >= 0 {
		if verified != set {
			// A refetch for an unknown kid brought new keys.
			key = cacheKey(verified, rules, token)
		}
		e := &entry{result: res, times: times}
		if rules.CacheSeconds > 0 {
			e.until = now + int64(rules.CacheSeconds)
		}
		v.cache.put(key, e)
	}
	return res, nil
}

// verifySignature verifies tok with the keys that fit it, refetching a JWKS
// URL's keys once when tok names a kid they lack. It returns the key set
// that verified tok.
func (v *Verifier) verifySignature(ctx context.Context, src keySource, set *keySet, tok *token) (*keySet, error) {
	if tok.kid != "" && !set.hasKid(tok.kid) {
		if fresh, err := src.refetch(ctx); err == nil && fresh != nil {
			set = fresh
		}
	}
	return set, set.verify(tok)
}

// rolePath parses a role claim key once per distinct value.
func (v *Verifier) rolePath(s string) (*rolePath, error) {
	if p, ok := v.paths.Load(s); ok {
		if e, isErr := p.(error); isErr {
			return nil, e
		}
		return p.(*rolePath), nil
	}
	p, err := parseRoleClaimKey(s)
	if err != nil {
		// A configuration error: PostgREST refuses to start with it.
		e := &apierr.Error{Status: http.StatusInternalServerError, Code: codeSecretMissing,
			Message: err.Error(), Err: err}
		v.paths.Store(s, e)
		return nil, e
	}
	v.paths.Store(s, p)
	return p, nil
}

// keySource is where a key set comes from: fixed bytes or a JWKS URL.
type keySource interface {
	// current returns the key set to verify with now.
	current(ctx context.Context) (*keySet, error)
	// refetch returns new keys after a token named a kid the set lacks, or
	// nil when it is too early to ask again.
	refetch(ctx context.Context) (*keySet, error)
}

type staticSource struct{ set *keySet }

func (s staticSource) current(context.Context) (*keySet, error) { return s.set, nil }
func (s staticSource) refetch(context.Context) (*keySet, error) { return nil, nil }

// maxStatic bounds the parsed inline key sets kept; configurations are few,
// so reaching it means churn, and starting over is cheap.
const maxStatic = 4096

func (v *Verifier) source(keys Keys) (keySource, error) {
	n := 0
	for _, set := range []bool{keys.URL != "", len(keys.Inline) > 0, len(keys.Secret) > 0} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return nil, secretMissing(errors.New("no JWKS URL, JWK or secret configured"))
	case n > 1:
		return nil, secretMissing(errors.New("more than one of JWKS URL, JWK and secret configured"))
	case keys.URL != "":
		return v.remote(keys.URL), nil
	}
	kind, raw := byte('j'), keys.Inline
	if len(keys.Secret) > 0 {
		kind, raw = 's', keys.Secret
	}
	h := sha256.New()
	h.Write([]byte{kind})
	h.Write(raw)
	var id [sha256.Size]byte
	h.Sum(id[:0])
	if s, ok := v.static.Load(id); ok {
		return staticSource{s.(*keySet)}, nil
	}
	var set *keySet
	var err error
	if kind == 's' {
		set, err = secretKeySet(raw)
	} else {
		set, err = parseJWKS(raw)
	}
	if err != nil {
		return nil, secretMissing(err)
	}
	set.id = id
	if n := countMap(&v.static); n >= maxStatic {
		v.static.Clear()
	}
	v.static.Store(id, set)
	return staticSource{set}, nil
}

func countMap(m *sync.Map) int {
	n := 0
	m.Range(func(any, any) bool { n++; return n < maxStatic })
	return n
}

// cacheKey identifies a verification: the same token, key set content and
// rules always give the same result (but for the time claims, checked on
// every hit).
func cacheKey(set *keySet, rules Rules, token string) [sha256.Size]byte {
	h := sha256.New()
	var buf [4 * binary.MaxVarintLen64]byte
	b := buf[:0]
	// Lengths first, so no two rule sets write the same bytes.
	for _, s := range []string{rules.Audience, rules.Issuer, rules.RoleClaimKey} {
		b = binary.AppendUvarint(b, uint64(len(s)))
	}
	b = binary.AppendVarint(b, int64(rules.CacheSeconds))
	h.Write(set.id[:])
	h.Write(b)
	io.WriteString(h, rules.Audience)
	io.WriteString(h, rules.Issuer)
	io.WriteString(h, rules.RoleClaimKey)
	io.WriteString(h, token)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}
