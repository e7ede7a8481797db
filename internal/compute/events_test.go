package compute

import (
	"slices"
	"sync"
	"testing"
)

func TestSubscribe(t *testing.T) {
	tests := []struct {
		name        string
		unsubscribe []int // indexes of the handlers unsubscribed before the event
		want        []int // handlers called, in order
	}{
		{name: "in order of subscription", want: []int{0, 1, 2}},
		{name: "unsubscribed are not called", unsubscribe: []int{1}, want: []int{0, 2}},
		{name: "unsubscribe twice", unsubscribe: []int{0, 0}, want: []int{1, 2}},
		{name: "all unsubscribed", unsubscribe: []int{2, 0, 1}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Manager{}
			var got []int
			var unsub []func()
			for i := range 3 {
				unsub = append(unsub, m.Subscribe(func(Event) { got = append(got, i) }))
			}
			for _, i := range tt.unsubscribe {
				unsub[i]()
			}
			m.events.call(Event{ID: "ep-1"})
			if !slices.Equal(got, tt.want) {
				t.Errorf("handlers called: got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSubscribeConcurrent subscribes, unsubscribes and emits at once, also
// from a handler (for the race detector).
func TestSubscribeConcurrent(t *testing.T) {
	m := &Manager{}
	m.Subscribe(func(Event) { m.Subscribe(func(Event) {})() })
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				stop := m.Subscribe(func(Event) {})
				m.events.call(Event{})
				stop()
			}
		})
	}
	wg.Wait()
}
