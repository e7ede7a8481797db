package jwtauth

import (
	"errors"
	"testing"

	"github.com/grovedb/grove/internal/dataapi/apierr"
)

// FuzzVerify feeds arbitrary tokens to Verify: it must not panic, and every
// refusal must be an *apierr.Error.
func FuzzVerify(f *testing.F) {
	for _, seed := range []string{
		"", "a", "a.b", "a.b.c", "a.b.c.d.e", conformanceHSToken, conformanceRSAToken,
		b64([]byte(`{"alg":"none"}`)) + "." + b64([]byte(`{}`)) + ".",
		b64([]byte(`{"alg":"HS256","kid":"x"}`)) + "." + b64([]byte(`{"exp":"1"}`)) + ".AAAA",
		b64([]byte(`{"alg":"EdDSA"}`)) + ".." + "AAAA",
		b64([]byte(`{"alg":"RS256"}`)) + "." + b64([]byte(`{"role":[1]}`)) + "." + b64(make([]byte, 256)),
	} {
		f.Add(seed)
	}
	v := New(Config{})
	f.Cleanup(v.Close)
	keySets := []Keys{{Secret: secret}, {Inline: []byte(conformanceRSAJWK)}}
	f.Fuzz(func(t *testing.T, tok string) {
		for _, keys := range keySets {
			_, err := v.Verify(t.Context(), tok, keys, Rules{Audience: "a", RoleClaimKey: "$.r[?(@ != \"x\")]"})
			var e *apierr.Error
			if err != nil && !errors.As(err, &e) {
				t.Fatalf("error %T %v", err, err)
			}
		}
	})
}

// FuzzRoleClaimKey parses arbitrary role claim keys and evaluates those
// that parse against arbitrary claims: no panic.
func FuzzRoleClaimKey(f *testing.F) {
	for _, seed := range []string{
		"", "$.role", `$["a\"b"][0].value`, `$.r[?(@ != "x")]`, `$.r[?@ == 1e3]`, "$[-1]", "$.*[*]",
		".role", `."q"[0]`, `.r[?(@ ^== "a")]`, `.r[?(@==^"a")]`,
	} {
		f.Add(seed, []byte(`{"role":"r","r":["a",1,{"x":null}],"a\"b":[{"value":"v"}]}`))
	}
	f.Fuzz(func(t *testing.T, key string, claims []byte) {
		p, err := parseRoleClaimKey(key)
		if err != nil {
			return
		}
		if m, ok := decodeObject(claims); ok {
			if v, ok := p.eval(m); ok {
				roleText(v)
			}
		}
	})
}
