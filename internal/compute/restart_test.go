package compute

import (
	"testing"
	"time"
)

func TestRestartPolicyNext(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d ...time.Duration) []time.Time {
		var ts []time.Time
		for _, x := range d {
			ts = append(ts, t0.Add(x))
		}
		return ts
	}
	def := DefaultRestartPolicy()
	tests := []struct {
		name      string
		policy    RestartPolicy
		crashes   []time.Time
		now       time.Time
		wantDelay time.Duration
		wantGive  bool
		wantKeep  int
	}{
		{"first crash", def, nil, t0, 100 * time.Millisecond, false, 1},
		{"second crash doubles", def, at(0), t0.Add(time.Second), 200 * time.Millisecond, false, 2},
		{"fourth crash", def, at(0, 1, 2), t0.Add(3 * time.Second), 800 * time.Millisecond, false, 4},
		{"fifth crash within a minute gives up", def, at(0, 1, 2, 3), t0.Add(4 * time.Second), 0, true, 5},
		{"old crashes forgotten", def, at(0, 1, 2, 3), t0.Add(2 * time.Minute), 100 * time.Millisecond, false, 1},
		{"partly forgotten", def, at(0, 50*time.Second), t0.Add(70 * time.Second), 200 * time.Millisecond, false, 2},
		{"capped", RestartPolicy{Initial: time.Second, Max: 3 * time.Second, Window: time.Hour, MaxCrashes: 100},
			at(0, 1, 2, 3, 4, 5), t0.Add(6 * time.Second), 3 * time.Second, false, 7},
		{"zero policy uses defaults", RestartPolicy{}, nil, t0, 100 * time.Millisecond, false, 1},
		{"max crashes 1 gives up at once", RestartPolicy{MaxCrashes: 1}, nil, t0, 0, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keep, delay, give := tt.policy.Next(tt.crashes, tt.now)
			if delay != tt.wantDelay || give != tt.wantGive || len(keep) != tt.wantKeep {
				t.Fatalf("Next = (%d crashes, %v, %v), want (%d, %v, %v)", len(keep), delay, give, tt.wantKeep, tt.wantDelay, tt.wantGive)
			}
		})
	}
}
