package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/grovedb/grove/internal/dataapi/jwtauth"
)

// BenchmarkJWTVerify measures the Data API's token check per algorithm:
// cold, every token distinct (a signature verified and a cache entry made
// per request), and warm, the same token again with the JWKS cached (what a
// client reusing its session token costs; the target is 50 µs). Keys come
// from a JWKS URL served by a local HTTP server, HS256 from a secret.
func BenchmarkJWTVerify(b *testing.B) {
	secret := []byte("reallyreallyreallyreallyverysafe")
	for _, alg := range []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.RS256, jose.HS256} {
		var signKey any
		var keys jwtauth.Keys
		if alg == jose.HS256 {
			signKey, keys = secret, jwtauth.Keys{Secret: secret}
		} else {
			priv := benchKey(b, alg)
			signKey = priv
			keys = jwtauth.Keys{URL: serveJWKS(b, jose.JSONWebKey{Key: priv.Public(), KeyID: "k1", Algorithm: string(alg), Use: "sig"})}
		}
		opts := &jose.SignerOptions{}
		if alg != jose.HS256 {
			// A secret has no kid; PostgREST refuses a token naming one.
			opts = opts.WithHeader("kid", "k1")
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: signKey}, opts)
		if err != nil {
			b.Fatal(err)
		}
		mint := func(i int) string {
			claims, _ := json.Marshal(map[string]any{
				"sub": fmt.Sprintf("user-%d", i), "role": "authenticated", "aud": "https://ep.example",
				"iss": "https://ep.example", "iat": time.Now().Unix(), "exp": time.Now().Add(15 * time.Minute).Unix(),
			})
			jws, err := signer.Sign(claims)
			if err != nil {
				b.Fatal(err)
			}
			tok, err := jws.CompactSerialize()
			if err != nil {
				b.Fatal(err)
			}
			return tok
		}
		rules := jwtauth.Rules{Audience: "https://ep.example", Issuer: "https://ep.example", RoleClaimKey: "$.role"}

		b.Run(string(alg)+"/cold", func(b *testing.B) {
			// More tokens than the cache holds, taken in turn: every
			// request misses.
			tokens := make([]string, 512)
			for i := range tokens {
				tokens[i] = mint(i)
			}
			v := jwtauth.New(jwtauth.Config{CacheSize: 64, AllowPrivate: true})
			b.Cleanup(v.Close)
			if _, err := v.Verify(b.Context(), tokens[0], keys, rules); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := v.Verify(b.Context(), tokens[(i+1)%len(tokens)], keys, rules); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(alg)+"/warm", func(b *testing.B) {
			tok := mint(0)
			v := jwtauth.New(jwtauth.Config{AllowPrivate: true})
			b.Cleanup(v.Close)
			if _, err := v.Verify(b.Context(), tok, keys, rules); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := v.Verify(b.Context(), tok, keys, rules); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchKey(b *testing.B, alg jose.SignatureAlgorithm) crypto.Signer {
	b.Helper()
	var k crypto.Signer
	var err error
	switch alg {
	case jose.EdDSA:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	case jose.ES256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.RS256:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		b.Fatal(err)
	}
	return k
}

// serveJWKS serves a JWK Set from a local HTTP server and returns its URL.
func serveJWKS(b *testing.B, keys ...jose.JSONWebKey) string {
	b.Helper()
	body, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}
