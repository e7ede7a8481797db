package jwtauth

import (
	"container/list"
	"crypto/sha256"
	"sync"
)

// entry is a verified token: its result, and its time claims to check on
// every hit.
type entry struct {
	result Result
	times  times
	until  int64 // unix seconds it may be used until; 0 = its expiry
}

// lru is a bounded least-recently-used map of verified tokens.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recent; values are *lruItem
	items map[[sha256.Size]byte]*list.Element
}

type lruItem struct {
	key [sha256.Size]byte
	e   *entry
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: make(map[[sha256.Size]byte]*list.Element, max)}
}

func (c *lru) get(k [sha256.Size]byte) (*entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruItem).e, true
}

func (c *lru) put(k [sha256.Size]byte, e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		el.Value.(*lruItem).e = e
		c.order.MoveToFront(el)
		return
	}
	c.items[k] = c.order.PushFront(&lruItem{key: k, e: e})
	if c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(*lruItem).key)
	}
}

func (c *lru) remove(k [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.order.Remove(el)
		delete(c.items, k)
	}
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
