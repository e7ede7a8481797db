package egress

import (
	"maps"
	"sync"
	"testing"
)

func TestCounter(t *testing.T) {
	var c Counter
	if got := c.Totals(); len(got) != 0 {
		t.Fatalf("zero counter: %v", got)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				c.Add("ep-a", 3)
				c.Add("ep-b", 1)
			}
		})
	}
	wg.Wait()
	if got, want := c.Totals(), map[string]int64{"ep-a": 24000, "ep-b": 8000}; !maps.Equal(got, want) {
		t.Errorf("totals %v, want %v", got, want)
	}
}
