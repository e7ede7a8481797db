package platform

import (
	"sync"

	"github.com/grovedb/grove/internal/scram"
)

// verifierCache keeps the verifiers of the roles the platform stores, so
// that SQL over HTTP, which authenticates every request, does not ask the
// metadata store each time. An entry is stamped with the store's roles
// generation read before its lookup and is used only while the generation
// is the same: any write that may change a verifier (a reset password, a
// deleted role or endpoint, a restore) makes every entry stale at once.
// Roles made in SQL are not kept: their verifier is the compute's.
type verifierCache struct {
	mu sync.Mutex
	m  map[verifierKey]cachedVerifier
}

type verifierKey struct{ endpoint, role string }

type cachedVerifier struct {
	v   scram.Verifier
	gen uint64
}

// maxCachedVerifiers bounds the cache; past it, it starts afresh.
const maxCachedVerifiers = 100_000

func (c *verifierCache) get(endpoint, role string, gen uint64) (scram.Verifier, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[verifierKey{endpoint, role}]
	return e.v, ok && e.gen == gen
}

func (c *verifierCache) put(endpoint, role string, gen uint64, v scram.Verifier) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedVerifiers {
		c.m = map[verifierKey]cachedVerifier{}
	}
	c.m[verifierKey{endpoint, role}] = cachedVerifier{v: v, gen: gen}
}
