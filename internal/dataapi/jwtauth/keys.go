package jwtauth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// minSecret is PostgREST's shortest jwt-secret (Config.hs: "The JWT secret
// must be at least 32 characters long").
const minSecret = 32

// keyKind is the family of algorithms a key verifies.
type keyKind int

const (
	kindHMAC keyKind = iota
	kindRSA
	kindEC
	kindEd25519
)

// algKinds maps the algorithms Grove verifies to the keys that fit them.
var algKinds = map[string]keyKind{
	"HS256": kindHMAC, "HS384": kindHMAC, "HS512": kindHMAC,
	"RS256": kindRSA, "RS384": kindRSA, "RS512": kindRSA,
	"PS256": kindRSA, "PS384": kindRSA, "PS512": kindRSA,
	"ES256": kindEC, "ES384": kindEC, "ES512": kindEC,
	"EdDSA": kindEd25519,
}

// key is one verification key.
type key struct {
	kid  string
	alg  string // "" fits any algorithm of its kind
	kind keyKind
	pub  any // []byte, *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// keySet is the keys of one Keys value. id names its content: equal ids
// verify the same tokens.
type keySet struct {
	id   [sha256.Size]byte
	keys []key
}

func (s *keySet) hasKid(kid string) bool {
	for i := range s.keys {
		if s.keys[i].kid == kid {
			return true
		}
	}
	return false
}

// fits reports whether k may verify tok, as jose-jwt's canDecodeJws decides
// for PostgREST: a token's kid must equal the key's, a key's alg must equal
// the token's, and the key's type must suit the algorithm. A token without
// kid tries every key that fits.
func (k *key) fits(tok *token) bool {
	if tok.kid != "" && tok.kid != k.kid {
		return false
	}
	if k.alg != "" && k.alg != tok.alg {
		return false
	}
	return algKinds[tok.alg] == k.kind
}

// verify checks tok's signature with the keys that fit it, in order, until
// one verifies it.
func (s *keySet) verify(tok *token) error {
	for i := range s.keys {
		k := &s.keys[i]
		if k.fits(tok) && k.verify(tok) {
			return nil
		}
	}
	return decodeError(msgKeyError, detailsNoKey)
}

func (k *key) verify(tok *token) bool {
	if k.kind == kindHMAC {
		return verifyHMAC(k.pub.([]byte), tok)
	}
	if ok, done := verifyDirect(k.pub, tok); done {
		return ok
	}
	jws, err := jose.ParseSignedCompact(tok.raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tok.alg)})
	if err != nil {
		return false
	}
	_, err = jws.Verify(k.pub)
	return err == nil
}

// verifyDirect checks the common algorithms with the standard library on
// the token already taken apart: go-jose would parse the token again, a
// third of a verification's cost. done is false for what it leaves to
// go-jose.
func verifyDirect(pub any, tok *token) (ok, done bool) {
	msg := []byte(tok.signingInput)
	switch pk := pub.(type) {
	case ed25519.PublicKey:
		return tok.alg == "EdDSA" && len(tok.sig) == ed25519.SignatureSize && ed25519.Verify(pk, msg, tok.sig), true
	case *ecdsa.PublicKey:
		var h []byte
		switch {
		case tok.alg == "ES256" && pk.Curve.Params().BitSize == 256:
			d := sha256.Sum256(msg)
			h = d[:]
		case tok.alg == "ES384" && pk.Curve.Params().BitSize == 384:
			d := sha512.Sum384(msg)
			h = d[:]
		default:
			return false, false
		}
		n := len(tok.sig) / 2
		if len(tok.sig) != 2*((pk.Curve.Params().BitSize+7)/8) {
			return false, true
		}
		r, s := new(big.Int).SetBytes(tok.sig[:n]), new(big.Int).SetBytes(tok.sig[n:])
		return ecdsa.Verify(pk, h, r, s), true
	case *rsa.PublicKey:
		var h crypto.Hash
		switch tok.alg {
		case "RS256":
			h = crypto.SHA256
		case "RS384":
			h = crypto.SHA384
		case "RS512":
			h = crypto.SHA512
		default:
			return false, false
		}
		d := h.New()
		d.Write(msg)
		return rsa.VerifyPKCS1v15(pk, h, d.Sum(nil), tok.sig) == nil, true
	}
	return false, false
}

// verifyHMAC is done here rather than by go-jose, which refuses a key
// shorter than the hash (a 32-byte jwt-secret with HS512); PostgREST's
// library does not.
func verifyHMAC(secret []byte, tok *token) bool {
	var h func() hash.Hash
	switch tok.alg {
	case "HS256":
		h = sha256.New
	case "HS384":
		h = sha512.New384
	case "HS512":
		h = sha512.New
	default:
		return false
	}
	mac := hmac.New(h, secret)
	mac.Write([]byte(tok.signingInput))
	return subtle.ConstantTimeCompare(mac.Sum(nil), tok.sig) == 1
}

// token is a compact JWS taken apart.
type token struct {
	raw          string
	signingInput string // header.payload, what the signature covers
	alg, kid     string
	payload      []byte
	sig          []byte
}

// parseToken decodes a compact JWS. Its errors are PostgREST's: a token of
// other than three parts says how many it has, alg "none" is a bad
// algorithm, and any other token that does not decode is a failed
// cryptographic operation.
func parseToken(s string) (*token, error) {
	if n := strings.Count(s, ".") + 1; n != 3 {
		return nil, decodeError(fmt.Sprintf("Expected 3 parts in JWT; got %d", n), "")
	}
	h, rest, _ := strings.Cut(s, ".")
	p, sg, _ := strings.Cut(rest, ".")
	badCrypto := decodeError(msgBadCrypto, "")
	header, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return nil, badCrypto
	}
	var hdr struct {
		Alg *string `json:"alg"`
		Kid string  `json:"kid"`
	}
	if err := json.Unmarshal(header, &hdr); err != nil || hdr.Alg == nil {
		return nil, badCrypto
	}
	if *hdr.Alg == "none" {
		return nil, decodeError(msgBadAlgorithm, detailsNone)
	}
	if _, ok := algKinds[*hdr.Alg]; !ok {
		return nil, badCrypto
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return nil, badCrypto
	}
	sig, err := base64.RawURLEncoding.DecodeString(sg)
	if err != nil {
		return nil, badCrypto
	}
	return &token{raw: s, signingInput: s[:len(h)+1+len(p)], alg: *hdr.Alg, kid: hdr.Kid,
		payload: payload, sig: sig}, nil
}

// secretKeySet is PostgREST's text jwt-secret as a key set.
func secretKeySet(secret []byte) (*keySet, error) {
	if len(secret) < minSecret {
		return nil, fmt.Errorf("the JWT secret must be at least %d characters long", minSecret)
	}
	return &keySet{keys: []key{{kind: kindHMAC, pub: bytes.Clone(secret)}}}, nil
}

// parseJWKS reads a JWK Set, or a single JWK, into a key set. Keys that are
// not for signatures, private parts and keys of unknown types are left out
// rather than failing the set, so a provider adding a new key type does not
// lock everyone out; a set with no usable key is an error.
func parseJWKS(b []byte) (*keySet, error) {
	var probe struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	raws := probe.Keys
	if probe.Keys == nil {
		raws = []json.RawMessage{b}
	}
	set := &keySet{}
	var errs []error
	for i, raw := range raws {
		k, err := parseJWK(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		if k != nil {
			set.keys = append(set.keys, *k)
		}
	}
	if len(set.keys) == 0 {
		errs = append(errs, errors.New("no usable signature key"))
		return nil, fmt.Errorf("parse JWKS: %w", errors.Join(errs...))
	}
	return set, nil
}

// parseJWK returns nil, nil for a key that is not for signatures.
func parseJWK(raw json.RawMessage) (*key, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	if jwk.Use == "enc" {
		return nil, nil
	}
	k := &key{kid: jwk.KeyID, alg: jwk.Algorithm}
	switch pub := jwk.Key.(type) {
	case []byte:
		k.kind, k.pub = kindHMAC, pub
	case *rsa.PublicKey:
		k.kind, k.pub = kindRSA, pub
	case *rsa.PrivateKey:
		k.kind, k.pub = kindRSA, &pub.PublicKey
	case *ecdsa.PublicKey:
		k.kind, k.pub = kindEC, pub
	case *ecdsa.PrivateKey:
		k.kind, k.pub = kindEC, &pub.PublicKey
	case ed25519.PublicKey:
		k.kind, k.pub = kindEd25519, pub
	case ed25519.PrivateKey:
		k.kind, k.pub = kindEd25519, pub.Public()
	default:
		return nil, fmt.Errorf("unsupported key type %T", jwk.Key)
	}
	if k.alg != "" {
		if kind, ok := algKinds[k.alg]; !ok || kind != k.kind {
			return nil, fmt.Errorf("key alg %q does not fit a %T key", k.alg, jwk.Key)
		}
	}
	return k, nil
}
