package compute

import "sync"

// Subscribe calls fn for every lifecycle event from now on, until the
// returned function is called. Handlers are called in order of
// subscription, from the manager's goroutines and without its locks held;
// they must not block. Subscribe and the function it returns are safe for
// concurrent use, also from a handler.
func (m *Manager) Subscribe(fn func(Event)) (unsubscribe func()) {
	return m.events.add(fn)
}

// handlers are the subscribers to a manager's events. The slice is
// replaced, never changed in place, so that an emit can call the handlers
// it read without holding the lock.
type handlers struct {
	mu   sync.Mutex
	next int
	subs []handler
}

type handler struct {
	id int
	fn func(Event)
}

func (h *handlers) add(fn func(Event)) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	id := h.next
	h.subs = append(h.subs[:len(h.subs):len(h.subs)], handler{id: id, fn: fn})
	var once sync.Once
	return func() { once.Do(func() { h.remove(id) }) }
}

func (h *handlers) remove(id int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := make([]handler, 0, len(h.subs))
	for _, s := range h.subs {
		if s.id != id {
			subs = append(subs, s)
		}
	}
	h.subs = subs
}

func (h *handlers) call(e Event) {
	h.mu.Lock()
	subs := h.subs
	h.mu.Unlock()
	for _, s := range subs {
		s.fn(e)
	}
}
