// Package scram implements SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL
// speaks it: verifiers in Postgres' stored format, the server side of the
// exchange with optional tls-server-end-point channel binding (RFC 5929), and
// a client that logs in with a recovered ClientKey instead of a password
// (pass-through, as PgBouncer does). It does no I/O.
package scram

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// DefaultIterations matches Postgres' scram_iterations default.
const DefaultIterations = 4096

// saltLen matches Postgres' SCRAM_DEFAULT_SALT_LEN.
const saltLen = 16

// maxIterations bounds the PBKDF2 work a parsed verifier can ask of us; a
// hostile or corrupt verifier must not pin a CPU.
const maxIterations = 1 << 24

// Verifier is what a server stores for a SCRAM-SHA-256 password.
type Verifier struct {
	Iterations int
	Salt       []byte
	StoredKey  []byte
	ServerKey  []byte
}

// ErrBadVerifier means a string is not a SCRAM-SHA-256 verifier.
var ErrBadVerifier = errors.New("scram: malformed verifier")

// NewVerifier derives a verifier for password with a random salt and
// DefaultIterations.
func NewVerifier(password string) (Verifier, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return Verifier{}, fmt.Errorf("scram: salt: %w", err)
	}
	return NewVerifierSalt(password, salt, DefaultIterations)
}

// NewVerifierSalt derives a verifier with a given salt and iteration count.
func NewVerifierSalt(password string, salt []byte, iterations int) (Verifier, error) {
	if iterations < 1 || iterations > maxIterations {
		return Verifier{}, fmt.Errorf("scram: iterations %d out of range", iterations)
	}
	salted, err := saltedPassword(password, salt, iterations)
	if err != nil {
		return Verifier{}, err
	}
	clientKey := hmacSHA256(salted, []byte("Client Key"))
	stored := sha256.Sum256(clientKey)
	return Verifier{
		Iterations: iterations,
		Salt:       append([]byte(nil), salt...),
		StoredKey:  stored[:],
		ServerKey:  hmacSHA256(salted, []byte("Server Key")),
	}, nil
}

// ParseVerifier reads Postgres' format
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (base64 fields).
func ParseVerifier(s string) (Verifier, error) {
	rest, ok := strings.CutPrefix(s, "SCRAM-SHA-256$")
	if !ok {
		return Verifier{}, fmt.Errorf("%w: missing SCRAM-SHA-256$ prefix", ErrBadVerifier)
	}
	params, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return Verifier{}, fmt.Errorf("%w: missing keys", ErrBadVerifier)
	}
	iterStr, saltStr, ok := strings.Cut(params, ":")
	if !ok {
		return Verifier{}, fmt.Errorf("%w: missing salt", ErrBadVerifier)
	}
	storedStr, serverStr, ok := strings.Cut(keys, ":")
	if !ok {
		return Verifier{}, fmt.Errorf("%w: missing server key", ErrBadVerifier)
	}
	iter, err := strconv.Atoi(iterStr)
	if err != nil || iter < 1 || iter > maxIterations {
		return Verifier{}, fmt.Errorf("%w: bad iteration count %q", ErrBadVerifier, iterStr)
	}
	var v Verifier
	v.Iterations = iter
	if v.Salt, err = base64.StdEncoding.DecodeString(saltStr); err != nil || len(v.Salt) == 0 {
		return Verifier{}, fmt.Errorf("%w: bad salt", ErrBadVerifier)
	}
	if v.StoredKey, err = base64.StdEncoding.DecodeString(storedStr); err != nil || len(v.StoredKey) != sha256.Size {
		return Verifier{}, fmt.Errorf("%w: bad stored key", ErrBadVerifier)
	}
	if v.ServerKey, err = base64.StdEncoding.DecodeString(serverStr); err != nil || len(v.ServerKey) != sha256.Size {
		return Verifier{}, fmt.Errorf("%w: bad server key", ErrBadVerifier)
	}
	return v, nil
}

// String renders the verifier the way Postgres stores it in pg_authid, so
// CREATE ROLE … PASSWORD '<String()>' stores it verbatim.
func (v Verifier) String() string {
	b := base64.StdEncoding
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", v.Iterations,
		b.EncodeToString(v.Salt), b.EncodeToString(v.StoredKey), b.EncodeToString(v.ServerKey))
}

// Valid reports whether v has the shape of a usable verifier.
func (v Verifier) Valid() bool {
	return v.Iterations >= 1 && v.Iterations <= maxIterations && len(v.Salt) > 0 &&
		len(v.StoredKey) == sha256.Size && len(v.ServerKey) == sha256.Size
}

// CheckPassword checks a cleartext password against v and returns the
// ClientKey it yields, which a Client can use to log in to a server holding
// the same verifier.
func (v Verifier) CheckPassword(password string) (clientKey []byte, ok bool) {
	if !v.Valid() {
		return nil, false
	}
	salted, err := saltedPassword(password, v.Salt, v.Iterations)
	if err != nil {
		return nil, false
	}
	clientKey = hmacSHA256(salted, []byte("Client Key"))
	stored := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(stored[:], v.StoredKey) != 1 {
		return nil, false
	}
	return clientKey, true
}

func saltedPassword(password string, salt []byte, iterations int) ([]byte, error) {
	k, err := pbkdf2.Key(sha256.New, saslPrep(password), salt, iterations, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("scram: pbkdf2: %w", err)
	}
	return k, nil
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// saslPrep approximates RFC 4013 the way Postgres' pg_saslprep behaves where
// it matters: ASCII passwords are used as they are; other valid UTF-8 has
// non-ASCII spaces mapped to space, "mapped to nothing" characters removed
// and NFKC applied; when the result contains prohibited characters (controls,
// private use, non-characters…) Postgres falls back to the raw bytes, and so
// do we. The full bidirectional-text check of RFC 3454 is not done: such
// passwords still work between Grove and Postgres only when both agree, which
// they do for the common cases.
func saslPrep(password string) string {
	ascii := true
	for i := 0; i < len(password); i++ {
		if password[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii || !utf8.ValidString(password) {
		return password
	}
	var b strings.Builder
	for _, r := range password {
		switch {
		case isNonASCIISpace(r):
			b.WriteRune(' ')
		case isMappedToNothing(r):
		default:
			b.WriteRune(r)
		}
	}
	out := norm.NFKC.String(b.String())
	if out == "" {
		return password
	}
	for _, r := range out {
		if isProhibited(r) {
			return password
		}
	}
	return out
}

func isNonASCIISpace(r rune) bool {
	switch r {
	case 0x00A0, 0x1680, 0x202F, 0x205F, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200B
}

func isMappedToNothing(r rune) bool {
	switch r {
	case 0x00AD, 0x034F, 0x1806, 0x180B, 0x180C, 0x180D, 0x200C, 0x200D, 0x2060, 0xFEFF:
		return true
	}
	return (r >= 0xFE00 && r <= 0xFE0F) || r == 0x200B
}

func isProhibited(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7F || (r >= 0x80 && r <= 0x9F): // controls
		return true
	case r >= 0xE000 && r <= 0xF8FF, r >= 0xF0000 && r <= 0xFFFFD, r >= 0x100000 && r <= 0x10FFFD: // private use
		return true
	case r >= 0xFDD0 && r <= 0xFDEF, r&0xFFFE == 0xFFFE: // non-characters
		return true
	case r >= 0xD800 && r <= 0xDFFF: // surrogates
		return true
	case r >= 0xFFF9 && r <= 0xFFFD, r >= 0x2FF0 && r <= 0x2FFB: // inappropriate for plain text / canonical representation
		return true
	case r >= 0x200E && r <= 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x206A && r <= 0x206F: // change display properties
		return true
	case r == 0xE0001 || (r >= 0xE0020 && r <= 0xE007F): // tagging
		return true
	}
	return false
}
