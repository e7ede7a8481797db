package sqlhttp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"

	"github.com/grovedb/grove/internal/scram"
)

// authCache remembers passwords that matched a role's verifier, so that a
// request pays SCRAM's key derivation (thousands of hash rounds) once per
// password rather than per request. An entry is keyed by an HMAC, under a
// key made at start, of the endpoint, role, password and the verifier
// itself: a changed or reset password changes the verifier the request is
// checked against, so the old password's entry is never found again. Only
// successes are kept; failures are throttled instead.
type authCache struct {
	key []byte
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[[32]byte]time.Time // expiry
}

func newAuthCache(ttl time.Duration, max int) *authCache {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand.Read never fails
	return &authCache{key: k, ttl: ttl, max: max, entries: map[[32]byte]time.Time{}}
}

func (c *authCache) entry(endpoint, role, password string, v scram.Verifier) [32]byte {
	m := hmac.New(sha256.New, c.key)
	field := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		m.Write(n[:])
		m.Write(b)
	}
	field([]byte(endpoint))
	field([]byte(role))
	field([]byte(password))
	field(v.Salt)
	field(v.StoredKey)
	field(v.ServerKey)
	field(binary.BigEndian.AppendUint32(nil, uint32(v.Iterations)))
	var out [32]byte
	m.Sum(out[:0])
	return out
}

// cached reports whether password matched v recently.
func (c *authCache) cached(endpoint, role, password string, v scram.Verifier) bool {
	k := c.entry(endpoint, role, password, v)
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.entries[k]
	return ok && time.Now().Before(exp)
}

// check reports whether password matches v, and remembers it if it does.
func (c *authCache) check(endpoint, role, password string, v scram.Verifier) bool {
	k := c.entry(endpoint, role, password, v)
	now := time.Now()
	if _, ok := v.CheckPassword(password); !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		// Full: drop the expired ones, else an arbitrary tenth.
		n := 0
		for e, exp := range c.entries {
			if now.After(exp) || n < c.max/10 {
				delete(c.entries, e)
				n++
			}
		}
	}
	c.entries[k] = now.Add(c.ttl)
	return true
}
