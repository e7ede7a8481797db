package compute

import (
	"math"
	"testing"
	"time"
)

// TestPoolTarget: the warm servers a major's pool is filled to, and the
// most it keeps before stopping one.
func TestPoolTarget(t *testing.T) {
	tests := []struct {
		name           string
		floor, ceiling int
		level          float64
		target, keep   int
	}{
		{"idle keeps the floor", 1, 32, 0, 1, 1},
		{"a decayed burst goes back to the floor", 1, 32, 0.3, 1, 1},
		{"half a take rounds to the floor", 1, 32, 0.49, 1, 2},
		{"one take", 1, 32, 1, 1, 2},
		{"a few takes", 1, 32, 3.4, 3, 5},
		{"rounded up from half", 1, 32, 3.5, 4, 5},
		{"steady creates keep a margin", 1, 32, 16, 16, 21},
		{"bounded by the ceiling", 1, 32, 100, 32, 32},
		{"a larger floor", 4, 32, 2, 4, 4},
		{"no pool", 0, 0, 50, 0, 0},
		{"floor above ceiling wins", 5, 3, 10, 5, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := poolTarget(tc.floor, tc.ceiling, tc.level); got != tc.target {
				t.Errorf("poolTarget(%d, %d, %v) = %d, want %d", tc.floor, tc.ceiling, tc.level, got, tc.target)
			}
			if got := poolKeep(tc.floor, tc.ceiling, tc.level); got != tc.keep {
				t.Errorf("poolKeep(%d, %d, %v) = %d, want %d", tc.floor, tc.ceiling, tc.level, got, tc.keep)
			}
		})
	}
}

func TestDemandDecay(t *testing.T) {
	life := time.Minute
	t0 := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name  string
		takes []time.Duration // offsets from t0
		at    time.Duration
		want  float64
	}{
		{"none", nil, 0, 0},
		{"one, now", []time.Duration{0}, 0, 1},
		{"one, a life ago", []time.Duration{0}, life, math.Exp(-1)},
		{"a burst of ten, now", burst(10, 100*time.Millisecond), time.Second, 10 * math.Exp(-0.5/60)},
		{"a burst of ten, five lives ago", burst(10, 0), 5 * life, 10 * math.Exp(-5)},
		{"a clock going back counts as now", []time.Duration{time.Second}, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d demand
			for _, off := range tc.takes {
				d.add(t0.Add(off), life)
			}
			got := d.levelAt(t0.Add(tc.at), life)
			if math.Abs(got-tc.want) > 0.02 {
				t.Errorf("level %v, want %v", got, tc.want)
			}
		})
	}
}

// burst is n takes spaced by gap.
func burst(n int, gap time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i) * gap
	}
	return out
}

func TestDefaultPoolMax(t *testing.T) {
	tests := []struct {
		memory int64
		floor  int
		want   int
	}{
		{24 << 30, 1, 32},
		{4 << 30, 1, 5},
		{512 << 20, 1, 1},
		{0, 2, 2},
		{24 << 30, 40, 40},
	}
	for _, tc := range tests {
		if got := defaultPoolMax(tc.memory, tc.floor); got != tc.want {
			t.Errorf("defaultPoolMax(%d MiB, %d) = %d, want %d", tc.memory>>20, tc.floor, got, tc.want)
		}
	}
}
