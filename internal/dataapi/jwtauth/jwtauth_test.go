package jwtauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/grovedb/grove/internal/dataapi/apierr"
)

// testKey is a signing key and its public JWK.
type testKey struct {
	alg  jose.SignatureAlgorithm
	kid  string
	priv crypto.Signer
}

func (k testKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

var (
	rsaOnce sync.Once
	rsaKeys [2]*rsa.PrivateKey
)

// rsaKey returns one of two RSA-2048 keys, made once: generating them is
// the slowest part of these tests.
func rsaKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		for j := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[j] = k
		}
	})
	return rsaKeys[i]
}

// newKey makes a key for alg; i picks one of two RSA keys.
func newKey(t testing.TB, alg jose.SignatureAlgorithm, kid string, i int) testKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256:
		priv = rsaKey(t, i)
	default:
		t.Fatalf("no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return testKey{alg: alg, kid: kid, priv: priv}
}

// mint signs claims with k; a kid of "" leaves the header without one.
func mint(t testing.TB, k testKey, claims any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if k.kid != "" {
		opts = opts.WithHeader("kid", k.kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload(t, claims))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func payload(t testing.TB, claims any) []byte {
	t.Helper()
	if b, ok := claims.([]byte); ok {
		return b
	}
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// mintHMAC signs by hand, so secrets shorter than the hash and any header
// can be used.
func mintHMAC(t testing.TB, alg string, secret []byte, header string, claims any) string {
	t.Helper()
	hashes := map[string]func() hash.Hash{"HS256": sha256.New, "HS384": sha512.New384, "HS512": sha512.New}
	if header == "" {
		header = `{"alg":"` + alg + `","typ":"JWT"}`
	}
	input := b64([]byte(header)) + "." + b64(payload(t, claims))
	mac := hmac.New(hashes[alg], secret)
	mac.Write([]byte(input))
	return input + "." + b64(mac.Sum(nil))
}

// jwksServer serves a JWK Set that a test can change, counting fetches.
type jwksServer struct {
	*httptest.Server
	body    atomic.Pointer[[]byte]
	fetches atomic.Int32
	fail    atomic.Bool // answer 500
}

func newJWKSServer(t testing.TB, keys ...testKey) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.set(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		if s.fail.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(t testing.TB, keys ...testKey) {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, k.jwk())
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	s.body.Store(&b)
}

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_800_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *clock) unix() int64 { return c.Now().Unix() }

// newVerifier returns a verifier that may fetch from the test's local
// JWKS servers.
func newVerifier(t testing.TB, c *clock, cfg Config) *Verifier {
	t.Helper()
	if c != nil {
		cfg.Now = c.Now
	}
	cfg.AllowPrivate = true
	v := New(cfg)
	t.Cleanup(v.Close)
	return v
}

// wantErr checks a refusal: status, code, message, details and, for a 401,
// PostgREST's WWW-Authenticate header.
func wantErr(t *testing.T, err error, status int, code, msg, details string) {
	t.Helper()
	var e *apierr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want *apierr.Error %s %q", err, code, msg)
	}
	if e.Status != status || e.Code != code || e.Message != msg || e.Details != details {
		t.Fatalf("error %d %s %q details %q, want %d %s %q details %q",
			e.Status, e.Code, e.Message, e.Details, status, code, msg, details)
	}
	wantHeader := ""
	if status == http.StatusUnauthorized {
		wantHeader = `Bearer error="invalid_token", error_description="` + msg + `"`
	}
	if got := e.Headers["WWW-Authenticate"]; got != wantHeader {
		t.Fatalf("WWW-Authenticate %q, want %q", got, wantHeader)
	}
}

// wantOutcome checks an accepted token (msg "") or a 401 refusal.
func wantOutcome(t *testing.T, err error, code, msg, details string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	wantErr(t, err, http.StatusUnauthorized, code, msg, details)
}

func verifyOK(t *testing.T, v *Verifier, tok string, keys Keys, rules Rules) Result {
	t.Helper()
	res, err := v.Verify(t.Context(), tok, keys, rules)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

var secret = []byte("reallyreallyreallyreallyverysafe") // PostgREST's test secret, 32 bytes

func TestVerifyAlgorithms(t *testing.T) {
	c := newClock()
	claims := map[string]any{"role": "authenticated", "sub": "u1", "exp": c.unix() + 900}
	for _, alg := range []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.ES384, jose.RS256, jose.RS384, jose.RS512, jose.PS256} {
		t.Run(string(alg), func(t *testing.T) {
			k := newKey(t, alg, "k-"+string(alg), 0)
			srv := newJWKSServer(t, k)
			v := newVerifier(t, c, Config{})
			tok := mint(t, k, claims)
			res := verifyOK(t, v, tok, Keys{URL: srv.URL}, Rules{})
			if res.Role != "authenticated" {
				t.Fatalf("role %q", res.Role)
			}
			if string(res.Claims) != string(payload(t, claims)) {
				t.Fatalf("claims %s", res.Claims)
			}
			// The same key inline, as a JWK and as a JWK Set.
			jwk, _ := json.Marshal(k.jwk())
			verifyOK(t, v, tok, Keys{Inline: jwk}, Rules{})
			verifyOK(t, v, tok, Keys{Inline: []byte(`{"keys":[` + string(jwk) + `]}`)}, Rules{})
			// Another key of the same type, same kid: refused.
			other := newKey(t, alg, k.kid, 1)
			_, err := v.Verify(t.Context(), mint(t, other, claims), Keys{URL: srv.URL}, Rules{})
			wantErr(t, err, 401, "PGRST301", "No suitable key or wrong key type", "None of the keys was able to decode the JWT")
		})
	}
	for _, alg := range []string{"HS256", "HS384", "HS512"} {
		t.Run(alg, func(t *testing.T) {
			v := newVerifier(t, c, Config{})
			// A 32-byte secret verifies HS384 and HS512 too, as in PostgREST.
			res := verifyOK(t, v, mintHMAC(t, alg, secret, "", claims), Keys{Secret: secret}, Rules{})
			if res.Role != "authenticated" {
				t.Fatalf("role %q", res.Role)
			}
			_, err := v.Verify(t.Context(), mintHMAC(t, alg, []byte("wrong secret"), "", claims), Keys{Secret: secret}, Rules{})
			wantErr(t, err, 401, "PGRST301", "No suitable key or wrong key type", "None of the keys was able to decode the JWT")
		})
	}
}

// The literal tokens of the conformance suite's HARNESS.md.
const (
	// §2.6: the RS256 public JWK of PostgREST's testCfgAsymJWK, and a token
	// it verifies ({"alg":"RS256"}, {"role": "postgrest_test_author"}\n).
	conformanceRSAJWK   = `{"alg":"RS256","e":"AQAB","key_ops":["verify"],"kty":"RSA","n":"0etQ2Tg187jb04MWfpuogYGV75IFrQQBxQaGH75eq_FpbkyoLcEpRUEWSbECP2eeFya2yZ9vIO5ScD-lPmovePk4Aa4SzZ8jdjhmAbNykleRPCxMg0481kz6PQhnHRUv3nF5WP479CnObJKqTVdEagVL66oxnX9VhZG9IZA7k0Th5PfKQwrKGyUeTGczpOjaPqbxlunP73j9AfnAt4XCS8epa-n3WGz1j-wfpr_ys57Aq-zBCfqP67UYzNpeI1AoXsJhD9xSDOzvJgFRvc3vm2wjAW4LEMwi48rCplamOpZToIHEPIaPzpveYQwDnB1HFTR1ove9bpKJsHmi-e2uzQ","use":"sig"}`
	conformanceRSAToken = `eyJhbGciOiJSUzI1NiJ9.eyJyb2xlIjogInBvc3RncmVzdF90ZXN0X2F1dGhvciJ9Cg.CBOYWDvqgAR0YYnZnyDGTQi6AJLc2Pds6_eV3YuBG6I36mj_h05eLhkEKNEDA5ZteMzCiY83P60rC_xtxVd7B6vo3BeF5uoanPS3rrbuHzKPwzsrgrD_CqvEuJ4n7Q9epkQiLsNkcexneENZDRqFjbwZx3DrXiCWwlK3Ytr5NAIGxmy0od-0xNpb2U1nXQyO_Q3mumWFViRt4tmFn_3goDHNKG3Ha_AzImfUNvHnWL78kAc4rbn15vLtWXD8PwtSnZaB4lY4V6RfsaW937srQsmRetvytM1i_bHBnjkjQLAqGbXPyItjtlXPs0uGNBadE8-wgkLtfmSCC4v2DjUthw`
	// §3.1, case 1452: HS256 with the harness secret.
	conformanceHSToken = `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoicG9zdGdyZXN0X3Rlc3RfYXV0aG9yIiwiaWQiOiJqZG9lIn0.B-lReuGNDwAlU1GOC476MlO0vAt9JNoHIlxg2vwMaO0`
)

func TestConformanceTokens(t *testing.T) {
	v := newVerifier(t, newClock(), Config{})
	for _, tc := range []struct {
		name string
		keys Keys
		tok  string
	}{
		{"1467 RS256 JWK", Keys{Inline: []byte(conformanceRSAJWK)}, conformanceRSAToken},
		{"1495 RS256 JWK Set", Keys{Inline: []byte(`{"keys":[` + conformanceRSAJWK + `]}`)}, conformanceRSAToken},
		{"1452 HS256 secret", Keys{Secret: secret}, conformanceHSToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := verifyOK(t, v, tc.tok, tc.keys, Rules{}); res.Role != "postgrest_test_author" {
				t.Fatalf("role %q", res.Role)
			}
		})
	}
}

func TestMalformedTokens(t *testing.T) {
	v := newVerifier(t, newClock(), Config{})
	keys := Keys{Secret: secret}
	good := mintHMAC(t, "HS256", secret, "", map[string]any{"role": "r"})
	h, rest, _ := strings.Cut(good, ".")
	p, _, _ := strings.Cut(rest, ".")
	const (
		keyMsg = "No suitable key or wrong key type"
		noKey  = "None of the keys was able to decode the JWT"
		crypto = "JWT cryptographic operation failed"
	)
	for _, tc := range []struct {
		name, tok, msg, details, code string
	}{
		// AuthSpec.hs#L99 (conformance auth empty_token).
		{"empty", "", "Empty JWT is sent in Authorization header", "", "PGRST301"},
		{"one part", "garbage", "Expected 3 parts in JWT; got 1", "", "PGRST301"},
		// AuthSpec.hs#L123, ErrorSpec.hs#L206 (conformance wrong_parts).
		{"two parts", h + "." + p, "Expected 3 parts in JWT; got 2", "", "PGRST301"},
		{"five parts (JWE)", "a.b.c.d.e", "Expected 3 parts in JWT; got 5", "", "PGRST301"},
		// ErrorSpec.hs#L218 (conformance bad_crypto): three parts of garbage.
		{"garbage", "ab$.c%d.e!f", crypto, "", "PGRST301"},
		{"header not base64", "!!!." + p + ".AAAA", crypto, "", "PGRST301"},
		{"header not JSON", b64([]byte("{nope")) + "." + p + ".AAAA", crypto, "", "PGRST301"},
		{"header without alg", b64([]byte(`{"typ":"JWT"}`)) + "." + p + ".AAAA", crypto, "", "PGRST301"},
		{"unknown alg", b64([]byte(`{"alg":"HS999"}`)) + "." + p + ".AAAA", crypto, "", "PGRST301"},
		{"signature not base64", h + "." + p + ".FAKESIGNATURE", crypto, "", "PGRST301"},
		// ErrorSpec.hs#L230 (conformance algorithm_none): an unsigned token.
		{"alg none", b64([]byte(`{"alg":"none"}`)) + "." + p + ".", "Wrong or unsupported encoding algorithm",
			"JWT is unsecured but expected 'alg' was not 'none'", "PGRST301"},
		// Conformance 11809 (ErrorSpec.hs#L116): {} signed with "wrong secret".
		{"wrong secret", mintHMAC(t, "HS256", []byte("wrong secret"), `{"alg":"HS256"}`, map[string]any{}), keyMsg, noKey, "PGRST301"},
		{"signature of another token", h + "." + b64([]byte(`{"role":"postgres"}`)) + "." + strings.Split(good, ".")[2], keyMsg, noKey, "PGRST301"},
		// jose-jwt's canDecodeJws: a token's kid must be the key's, and a
		// secret has none.
		{"kid with a secret", mintHMAC(t, "HS256", secret, `{"alg":"HS256","kid":"k1"}`, map[string]any{}), keyMsg, noKey, "PGRST301"},
		{"RS256 header on an HMAC secret", b64([]byte(`{"alg":"RS256"}`)) + "." + p + ".AAAA", keyMsg, noKey, "PGRST301"},
		// Verified, but the payload is not a JSON object.
		{"payload not JSON", mintHMAC(t, "HS256", secret, "", []byte("not json")), "Parsing claims failed", "", "PGRST303"},
		{"payload an array", mintHMAC(t, "HS256", secret, "", []byte(`[1]`)), "Parsing claims failed", "", "PGRST303"},
		{"payload with trailing data", mintHMAC(t, "HS256", secret, "", []byte(`{} {}`)), "Parsing claims failed", "", "PGRST303"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(t.Context(), tc.tok, keys, Rules{})
			wantErr(t, err, 401, tc.code, tc.msg, tc.details)
		})
	}
}

func TestKeySelection(t *testing.T) {
	v := newVerifier(t, newClock(), Config{})
	k := newKey(t, jose.RS256, "k", 0)
	claims := map[string]any{"role": "r"}
	jwk := func(mod func(*jose.JSONWebKey)) []byte {
		j := k.jwk()
		mod(&j)
		b, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		key  []byte
		tok  string
		ok   bool
	}{
		{"kid and alg match", jwk(func(*jose.JSONWebKey) {}), mint(t, k, claims), true},
		{"key without alg fits RS384", jwk(func(j *jose.JSONWebKey) { j.Algorithm = "" }), mint(t, testKey{jose.RS384, "k", k.priv}, claims), true},
		{"key alg RS256, token RS384", jwk(func(*jose.JSONWebKey) {}), mint(t, testKey{jose.RS384, "k", k.priv}, claims), false},
		{"token without kid", jwk(func(*jose.JSONWebKey) {}), mint(t, testKey{jose.RS256, "", k.priv}, claims), true},
		{"key without kid, token with one", jwk(func(j *jose.JSONWebKey) { j.KeyID = "" }), mint(t, k, claims), false},
		{"encryption key", jwk(func(j *jose.JSONWebKey) { j.Use = "enc"; j.KeyID = "k" }), mint(t, k, claims), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := []byte(`{"keys":[` + string(tc.key) + `,` + string(jwk(func(j *jose.JSONWebKey) { j.KeyID = "other" })) + `]}`)
			_, err := v.Verify(t.Context(), tc.tok, Keys{Inline: set}, Rules{})
			if tc.ok {
				wantOutcome(t, err, "", "", "")
				return
			}
			wantErr(t, err, 401, "PGRST301", "No suitable key or wrong key type", "None of the keys was able to decode the JWT")
		})
	}
}

func TestNoKeys(t *testing.T) {
	v := newVerifier(t, newClock(), Config{})
	tok := mintHMAC(t, "HS256", secret, "", map[string]any{"role": "r"})
	for _, tc := range []struct {
		name string
		keys Keys
	}{
		// NoJwtSecretSpec.hs#L21 (conformance 1493, 1764): no secret at all.
		{"nothing", Keys{}},
		{"two sources", Keys{Secret: secret, Inline: []byte(conformanceRSAJWK)}},
		// PostgREST refuses to start with a secret under 32 characters.
		{"short secret", Keys{Secret: []byte("short")}},
		{"JWK not JSON", Keys{Inline: []byte("{")}},
		{"JWK Set with no usable key", Keys{Inline: []byte(`{"keys":[{"kty":"XYZ"}]}`)}},
		{"JWKS URL unreachable", Keys{URL: "http://127.0.0.1:1/jwks"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(t.Context(), tok, tc.keys, Rules{})
			wantErr(t, err, 500, "PGRST300", "Server lacks JWT secret", "")
		})
	}
}

func TestTimeClaims(t *testing.T) {
	c := newClock()
	now := c.unix()
	v := newVerifier(t, c, Config{CacheSize: -1})
	for _, tc := range []struct {
		name   string
		claims map[string]any
		msg    string // "" = accepted
	}{
		{"no time claims", map[string]any{}, ""},
		// 30 s leeway (Auth/Jwt.hs checkForErrors; ErrorSpec.hs#L145 uses now-35).
		{"exp now", map[string]any{"exp": now}, ""},
		{"exp 30 s ago", map[string]any{"exp": now - 30}, ""},
		{"exp 31 s ago", map[string]any{"exp": now - 31}, "JWT expired"},
		// AuthSpec.hs#L112 (conformance 1456): long expired.
		{"exp long ago", map[string]any{"exp": 1}, "JWT expired"},
		{"exp far future", map[string]any{"exp": 9999999999}, ""},
		{"exp null", map[string]any{"exp": nil}, ""},
		// AuthSpec.hs#L151: a string exp.
		{"exp string", map[string]any{"exp": "tomorrow"}, "The JWT 'exp' claim must be a number"},
		// sciToInt turns what is not a 64-bit integer into 0: expired.
		{"exp fraction", map[string]any{"exp": json.Number("9999999999.5")}, "JWT expired"},
		{"exp huge", map[string]any{"exp": json.Number("1e30")}, "JWT expired"},
		{"exp exponent", map[string]any{"exp": json.Number("9.999999999e9")}, ""},
		// ErrorSpec.hs#L160 (conformance 11811): nbf in the future.
		{"nbf in 30 s", map[string]any{"nbf": now + 30}, ""},
		{"nbf in 31 s", map[string]any{"nbf": now + 31}, "JWT not yet valid"},
		{"nbf string", map[string]any{"nbf": "x"}, "The JWT 'nbf' claim must be a number"},
		// AuthSpec.hs#L91: an iat now verifies; ErrorSpec.hs#L175 (11812): future.
		{"iat now", map[string]any{"iat": now}, ""},
		{"iat in 31 s", map[string]any{"iat": now + 31}, "JWT issued at future"},
		{"iat bool", map[string]any{"iat": true}, "The JWT 'iat' claim must be a number"},
		// The first failing claim in PostgREST's order wins.
		{"exp before nbf", map[string]any{"exp": 1, "nbf": "x"}, "JWT expired"},
		{"nbf before iat", map[string]any{"nbf": now + 100, "iat": "x"}, "JWT not yet valid"},
		{"iat before aud", map[string]any{"iat": now + 100, "aud": 1}, "JWT issued at future"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := mintHMAC(t, "HS256", secret, "", tc.claims)
			_, err := v.Verify(t.Context(), tok, Keys{Secret: secret}, Rules{})
			wantOutcome(t, err, "PGRST303", tc.msg, "")
		})
	}
}

func TestAudienceAndIssuer(t *testing.T) {
	v := newVerifier(t, newClock(), Config{})
	const notIn = "JWT not in audience"
	for _, tc := range []struct {
		name  string
		rules Rules
		aud   any // absent when "absent"
		iss   any
		msg   string
	}{
		// AudienceJwtSecretSpec.hs, jwt-aud "youraudience".
		{"1468 string match", Rules{Audience: "youraudience"}, "youraudience", nil, ""},
		{"1469 string mismatch", Rules{Audience: "youraudience"}, "xyz", nil, notIn},
		{"1470 empty string", Rules{Audience: "youraudience"}, "", nil, notIn},
		{"11817 one-element array match", Rules{Audience: "youraudience"}, []string{"youraudience"}, nil, ""},
		{"1471 array contains", Rules{Audience: "youraudience"}, []string{"a", "youraudience", "b"}, nil, ""},
		{"11818 one-element array mismatch", Rules{Audience: "youraudience"}, []string{"xyz"}, nil, notIn},
		{"1472 array mismatch", Rules{Audience: "youraudience"}, []string{"a", "b"}, nil, notIn},
		{"1473 empty array ignored", Rules{Audience: "youraudience"}, []string{}, nil, ""},
		{"11816 null ignored", Rules{Audience: "youraudience"}, nil, nil, ""},
		{"11815 absent", Rules{Audience: "youraudience"}, "absent", nil, ""},
		{"1474 no audience configured", Rules{}, "anything", nil, ""},
		// AuthSpec.hs#L193 and #L207: checked whether or not jwt-aud is set.
		{"aud number", Rules{}, 1, nil, "The JWT 'aud' claim must be a string or an array of strings"},
		{"aud array of numbers", Rules{Audience: "youraudience"}, []any{"youraudience", 1}, nil, "The JWT 'aud' claim must be a string or an array of strings"},
		// Grove's issuer check.
		{"issuer match", Rules{Issuer: "https://auth.example"}, "absent", "https://auth.example", ""},
		{"issuer mismatch", Rules{Issuer: "https://auth.example"}, "absent", "https://other.example", "JWT issuer not accepted"},
		{"issuer absent", Rules{Issuer: "https://auth.example"}, "absent", nil, "JWT issuer not accepted"},
		{"issuer not configured", Rules{}, "absent", "https://other.example", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claims := map[string]any{"role": "postgrest_test_author", "exp": 9999999999}
			if tc.aud != "absent" {
				claims["aud"] = tc.aud
			}
			if tc.iss != nil {
				claims["iss"] = tc.iss
			}
			_, err := v.Verify(t.Context(), mintHMAC(t, "HS256", secret, "", claims), Keys{Secret: secret}, tc.rules)
			wantOutcome(t, err, "PGRST303", tc.msg, "")
		})
	}
}

func TestRoleClaimKeyThroughVerify(t *testing.T) {
	v := newVerifier(t, newClock(), Config{})
	keys := Keys{Secret: secret}
	for _, tc := range []struct {
		name, key string
		claims    map[string]any
		role      string
	}{
		{"default", "", map[string]any{"role": "authenticated"}, "authenticated"},
		{"no role: anonymous", "", map[string]any{"sub": "x"}, ""},
		// Conformance 11805/11807 (fixtures.yaml#L171, #L179): aud as the role.
		{"11805 aud as role", "$.aud", map[string]any{"aud": "postgrest_test_author"}, "postgrest_test_author"},
		{"11807 aud[0] as role", "$.aud[0]", map[string]any{"aud": []string{"postgrest_test_author", "x"}}, "postgrest_test_author"},
		// A role that is not a string is its JSON text (Auth/Jwt.hs unquoted).
		{"number role", "", map[string]any{"role": 42}, "42"},
		{"object role", "", map[string]any{"role": map[string]any{"b": 1, "a": true}}, `{"a":true,"b":1}`},
		{"null role", "", map[string]any{"role": nil}, "null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := verifyOK(t, v, mintHMAC(t, "HS256", secret, "", tc.claims), keys, Rules{RoleClaimKey: tc.key})
			if res.Role != tc.role {
				t.Fatalf("role %q, want %q", res.Role, tc.role)
			}
		})
	}
	// Conformance 11806 (fixtures.yaml#L175): aud as role, not the audience.
	_, err := v.Verify(t.Context(), mintHMAC(t, "HS256", secret, "", map[string]any{"aud": "other"}), keys,
		Rules{Audience: "postgrest_test_author", RoleClaimKey: "$.aud"})
	wantErr(t, err, 401, "PGRST303", "JWT not in audience", "")
	_, err = v.Verify(t.Context(), conformanceHSToken, keys, Rules{RoleClaimKey: ".role##"})
	wantErr(t, err, 500, "PGRST300", "failed to parse role-claim-key value (.role##)", "")
}

func TestKeyRotation(t *testing.T) {
	c := newClock()
	a := newKey(t, jose.EdDSA, "a", 0)
	b := newKey(t, jose.ES256, "b", 0)
	srv := newJWKSServer(t, a)
	v := newVerifier(t, c, Config{})
	keys := Keys{URL: srv.URL}
	claims := map[string]any{"role": "authenticated"}
	verifyOK(t, v, mint(t, a, claims), keys, Rules{})
	wantFetches := func(n int32) {
		t.Helper()
		if got := srv.fetches.Load(); got != n {
			t.Fatalf("%d fetches, want %d", got, n)
		}
	}
	wantFetches(1)
	tokB := mint(t, b, claims)
	refused := func() {
		t.Helper()
		_, err := v.Verify(t.Context(), tokB, keys, Rules{})
		wantErr(t, err, 401, "PGRST301", "No suitable key or wrong key type", "None of the keys was able to decode the JWT")
	}
	// An unknown kid within 30 s of the last fetch does not fetch again.
	c.add(10 * time.Second)
	refused()
	wantFetches(1)
	// 30 s later it does; the provider has not rotated yet.
	c.add(20 * time.Second)
	refused()
	wantFetches(2)
	// The provider rotates, but the last fetch was just now.
	srv.set(t, a, b)
	c.add(29 * time.Second)
	refused()
	wantFetches(2)
	c.add(time.Second)
	verifyOK(t, v, tokB, keys, Rules{})
	wantFetches(3)
	// Both keys keep working without more fetches.
	verifyOK(t, v, mint(t, a, claims), keys, Rules{})
	verifyOK(t, v, tokB, keys, Rules{})
	wantFetches(3)
	// A token without kid tries every key that fits its alg.
	b.kid = ""
	verifyOK(t, v, mint(t, b, claims), keys, Rules{})
	wantFetches(3)
}

// waitFor polls cond, failing after 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBackgroundRefresh(t *testing.T) {
	c := newClock()
	a := newKey(t, jose.EdDSA, "a", 0)
	b := newKey(t, jose.EdDSA, "b", 0)
	srv := newJWKSServer(t, a)
	v := newVerifier(t, c, Config{})
	keys := Keys{URL: srv.URL}
	tokA := mint(t, a, map[string]any{"role": "r"})
	verifyOK(t, v, tokA, keys, Rules{})
	if v.cache.len() != 1 {
		t.Fatalf("cache has %d entries", v.cache.len())
	}

	// The provider drops key a. Within 5 minutes the cached set is used.
	srv.set(t, b)
	c.add(4 * time.Minute)
	verifyOK(t, v, tokA, keys, Rules{})
	if srv.fetches.Load() != 1 {
		t.Fatalf("%d fetches", srv.fetches.Load())
	}
	// After 5 minutes a request starts a refresh and is served from the
	// cached set meanwhile.
	c.add(2 * time.Minute)
	verifyOK(t, v, tokA, keys, Rules{})
	waitFor(t, "the background refresh", func() bool {
		set, _ := v.remote(srv.URL).current(t.Context())
		return set.hasKid("b")
	})
	// The new key set has another identity: the cached token is verified
	// again, and refused.
	_, err := v.Verify(t.Context(), tokA, keys, Rules{})
	wantErr(t, err, 401, "PGRST301", "No suitable key or wrong key type", "None of the keys was able to decode the JWT")

	// The provider goes down: failed refreshes keep the cached set...
	srv.fail.Store(true)
	tokB := mint(t, b, map[string]any{"role": "r"})
	c.add(10 * time.Minute)
	before := srv.fetches.Load()
	verifyOK(t, v, tokB, keys, Rules{})
	waitFor(t, "the failed refresh", func() bool {
		r := v.remote(srv.URL)
		r.mu.Lock()
		defer r.mu.Unlock()
		return srv.fetches.Load() >= before+1+fetchRetries && r.call == nil
	})
	verifyOK(t, v, tokB, keys, Rules{})
	// ...until it is an hour old.
	c.add(51 * time.Minute)
	_, err = v.Verify(t.Context(), tokB, keys, Rules{})
	wantErr(t, err, 500, "PGRST300", "Server lacks JWT secret", "")
	// Back up: the next request fetches again.
	srv.fail.Store(false)
	verifyOK(t, v, tokB, keys, Rules{})
}

func TestJWKSLimits(t *testing.T) {
	k := newKey(t, jose.EdDSA, "k", 0)
	jwk, _ := json.Marshal(k.jwk())
	tok := mint(t, k, map[string]any{"role": "r"})
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		cause   string
	}{
		{"over 64 KiB", func(w http.ResponseWriter, r *http.Request) {
			// A valid set, padded past the limit.
			fmt.Fprintf(w, `{"keys":[%s],"pad":"%s"}`, jwk, strings.Repeat("x", 64<<10))
		}, "larger than 64 KiB"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/moved" {
				fmt.Fprintf(w, `{"keys":[%s]}`, jwk)
				return
			}
			http.Redirect(w, r, "/moved", http.StatusFound)
		}, "redirects are refused"},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, "deadline exceeded"},
		{"not found", func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}, "404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fetches atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fetches.Add(1)
				tc.handler(w, r)
			}))
			t.Cleanup(srv.Close)
			v := newVerifier(t, newClock(), Config{FetchTimeout: 100 * time.Millisecond})
			_, err := v.Verify(t.Context(), tok, Keys{URL: srv.URL}, Rules{})
			wantErr(t, err, 500, "PGRST300", "Server lacks JWT secret", "")
			if !strings.Contains(err.Error(), tc.cause) {
				t.Fatalf("cause %v, want %q", err, tc.cause)
			}
		})
	}
	// A set just under the limit is accepted.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := fmt.Sprintf(`{"keys":[%s],"pad":""}`, jwk)
		fmt.Fprintf(w, `{"keys":[%s],"pad":"%s"}`, jwk, strings.Repeat("x", 64<<10-len(body)))
	}))
	t.Cleanup(srv.Close)
	v := newVerifier(t, newClock(), Config{})
	verifyOK(t, v, tok, Keys{URL: srv.URL}, Rules{})
}

func TestConcurrentFetchesShareOne(t *testing.T) {
	k := newKey(t, jose.ES256, "k", 0)
	jwk, _ := json.Marshal(k.jwk())
	release := make(chan struct{})
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		<-release
		fmt.Fprintf(w, `{"keys":[%s]}`, jwk)
	}))
	t.Cleanup(srv.Close)
	v := newVerifier(t, newClock(), Config{})
	tok := mint(t, k, map[string]any{"role": "r"})
	const n = 20
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := v.Verify(context.Background(), tok, Keys{URL: srv.URL}, Rules{})
			errs <- err
		}()
	}
	waitFor(t, "the fetch", func() bool { return fetches.Load() == 1 })
	close(release)
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := fetches.Load(); got != 1 {
		t.Fatalf("%d fetches, want 1", got)
	}
}

func TestVerifiedCache(t *testing.T) {
	c := newClock()
	v := newVerifier(t, c, Config{CacheSize: 2})
	keys := Keys{Secret: secret}
	tok := mintHMAC(t, "HS256", secret, "", map[string]any{"role": "r", "exp": c.unix() + 60})
	verifyOK(t, v, tok, keys, Rules{})
	verifyOK(t, v, tok, keys, Rules{})
	if v.cache.len() != 1 {
		t.Fatalf("cache has %d entries", v.cache.len())
	}
	// Other rules are another entry, and are checked.
	_, err := v.Verify(t.Context(), tok, keys, Rules{Audience: "x", Issuer: "y"})
	wantErr(t, err, 401, "PGRST303", "JWT issuer not accepted", "")
	if res := verifyOK(t, v, tok, keys, Rules{RoleClaimKey: "$.exp"}); res.Role != fmt.Sprint(c.unix()+60) {
		t.Fatalf("role %q", res.Role)
	}
	// A cached token expires like any other.
	c.add(91 * time.Second)
	n := v.cache.len()
	_, err = v.Verify(t.Context(), tok, keys, Rules{})
	wantErr(t, err, 401, "PGRST303", "JWT expired", "")
	if v.cache.len() != n-1 {
		t.Fatalf("the expired token stays cached")
	}
	// The cache stays within its bound.
	for i := range 5 {
		verifyOK(t, v, mintHMAC(t, "HS256", secret, "", map[string]any{"n": i}), keys, Rules{})
	}
	if v.cache.len() != 2 {
		t.Fatalf("cache has %d entries, want 2", v.cache.len())
	}
}

func TestCloseStopsFetches(t *testing.T) {
	k := newKey(t, jose.EdDSA, "k", 0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	v := New(Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := v.Verify(ctx, mint(t, k, map[string]any{}), Keys{URL: srv.URL}, Rules{})
	wantErr(t, err, 500, "PGRST300", "Server lacks JWT secret", "")
	done := make(chan struct{})
	go func() { v.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop the fetch")
	}
}

// TestPrivateAddressesRefused: by default a JWKS URL on the host itself or
// a private network is not fetched, whatever its name resolves to.
func TestPrivateAddressesRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"keys":[]}`)) }))
	t.Cleanup(srv.Close)
	v := New(Config{})
	t.Cleanup(v.Close)
	port := srv.URL[strings.LastIndexByte(srv.URL, ':'):]
	for _, u := range []string{srv.URL, "http://localhost" + port} {
		_, err := v.Verify(t.Context(), "eyJhbGciOiJFZERTQSJ9.e30.c2ln", Keys{URL: u}, Rules{})
		if err == nil || !errors.Is(err, errPrivateAddress) {
			t.Errorf("%s: %v, want the private address refused", u, err)
		}
	}
	for _, a := range []string{"10.1.2.3:80", "192.168.0.1:443", "169.254.169.254:80", "[::1]:80", "[fd00::1]:80", "0.0.0.0:80", "100.64.0.1:80"} {
		if err := refusePrivate("tcp", a, nil); !errors.Is(err, errPrivateAddress) {
			t.Errorf("%s: %v", a, err)
		}
	}
	if err := refusePrivate("tcp", "93.184.215.14:443", nil); err != nil {
		t.Errorf("public address refused: %v", err)
	}
}

// TestCacheSeconds: jwt_cache_max_lifetime bounds how long a verified
// token is kept, and 0 (CacheSeconds < 0) keeps none.
func TestCacheSeconds(t *testing.T) {
	c := newClock()
	v := newVerifier(t, c, Config{})
	secret := []byte("reallyreallyreallyreallyverysafe")
	token := mintHMAC(t, "HS256", secret, "", map[string]any{"role": "authenticated", "exp": c.unix() + 3600})
	keys := Keys{Secret: secret}

	verifyOK(t, v, token, keys, Rules{CacheSeconds: -1})
	if n := v.cache.len(); n != 0 {
		t.Fatalf("%d entries cached with the cache off", n)
	}
	verifyOK(t, v, token, keys, Rules{CacheSeconds: 5})
	e, ok := v.cache.get(firstKey(v))
	if !ok || e.until != c.unix()+5 {
		t.Fatalf("entry %+v, want it kept until now+5", e)
	}
	c.add(6 * time.Second)
	verifyOK(t, v, token, keys, Rules{CacheSeconds: 5})
	if e, _ := v.cache.get(firstKey(v)); e == nil || e.until != c.unix()+5 {
		t.Errorf("after its time the entry is %+v, want it verified again and kept until now+5", e)
	}
	verifyOK(t, v, token, keys, Rules{})
	if n := v.cache.len(); n != 2 {
		t.Errorf("%d entries: a lifetime is part of the entry's key, want 2", n)
	}
}

// firstKey is the key of the cache's most recent entry.
func firstKey(v *Verifier) [sha256.Size]byte {
	v.cache.mu.Lock()
	defer v.cache.mu.Unlock()
	return v.cache.order.Front().Value.(*lruItem).key
}
