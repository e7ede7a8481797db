package autoscale

import (
	"testing"
	"time"
)

func TestRoundUp(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{
		{0, 0.25}, {0.1, 0.25}, {0.25, 0.25}, {0.26, 0.5}, {0.5, 0.5}, {0.51, 1},
		{1, 1}, {1.2, 2}, {2.0000000001, 2}, {7.5, 8}, {16, 16}, {40, 16},
	} {
		if got := RoundUp(tt.in); got != tt.want {
			t.Errorf("RoundUp(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

const gib = int64(1) << 30

// step is one sample at second at, and the decision expected from it
// (to == 0: none).
type step struct {
	at       float64
	cpu      float64
	runnable int
	mem, wss int64
	hit      float64
	to       float64
	reason   string
}

func TestDecide(t *testing.T) {
	p := Policy{LoadSmoothing: 3 * time.Second, DownAfter: 30 * time.Second, CUMemoryBytes: 4 * gib}
	r := Range{0.25, 2}
	tests := []struct {
		name  string
		r     Range
		cu    float64
		steps []step
	}{
		{"idle stays at the minimum", r, 0.25, []step{
			{at: 0, hit: -1}, {at: 1, cpu: 0.01, hit: -1}, {at: 60, cpu: 0.02, hit: -1},
		}},
		{"busy at once goes up in one step", r, 0.25, []step{
			{at: 0, cpu: 0.25, runnable: 8, hit: -1, to: 2, reason: ReasonCPU}, // load 8·0.28 = 2.3
		}},
		{"load rises through the steps, capped at max", r, 0.25, []step{
			{at: 0, hit: -1},
			{at: 1, cpu: 0.25, runnable: 2, hit: -1, to: 1, reason: ReasonCPU}, // load 0.57 → 0.63 CU
			{at: 2, cpu: 1, runnable: 4, hit: -1, to: 2, reason: ReasonCPU},    // load 1.6 → 1.8 CU
			{at: 3, cpu: 2, runnable: 8, hit: -1},                              // would be 8 CU: capped
		}},
		{"a single short blip of one query", Range{0.25, 2}, 1, []step{
			{at: 0, hit: -1}, {at: 1, runnable: 1, hit: -1}, {at: 2, hit: -1},
		}},
		{"down only after DownAfter of low goals, to the window's largest", r, 0.25, []step{
			{at: 0, cpu: 2, runnable: 4, hit: -1, to: 2, reason: ReasonCPU},
			{at: 10, cpu: 2, runnable: 4, hit: -1},
			{at: 15, hit: -1},                            // load 4·e^(-5/3) = 0.76: goal 1 CU
			{at: 20, hit: -1},                            // load 0.14: goal 0.25 CU
			{at: 30, hit: -1},                            // the window still holds the 2 CU goal of t=10
			{at: 41, hit: -1, to: 1, reason: ReasonIdle}, // window 11..41: t=15's 1 CU is the largest
			{at: 60, hit: -1},                            // kept DownAfter since the last change
			{at: 72, hit: -1, to: 0.25, reason: ReasonIdle},
		}},
		{"memory above 75 % of RAM", r, 0.25, []step{
			{at: 0, mem: gib, hit: -1, to: 0.5, reason: ReasonMemory}, // 1 GiB / 0.75 / 4 GiB = 0.33 CU
		}},
		{"working set counts with a poor cache hit ratio", r, 0.25, []step{
			{at: 0, wss: 2 * gib, hit: 0.5, to: 1, reason: ReasonWorkingSet},
		}},
		{"working set ignored with a good cache hit ratio", r, 0.25, []step{
			{at: 0, wss: 2 * gib, hit: 0.999},
		}},
		{"working set counts when the ratio is unknown", r, 0.25, []step{
			{at: 0, wss: 2 * gib, hit: -1, to: 1, reason: ReasonWorkingSet},
		}},
		{"size outside a new range is brought in at once", Range{1, 4}, 0.25, []step{
			{at: 0, hit: -1, to: 1, reason: ReasonRange},
		}},
		{"above a lowered maximum", Range{0.25, 1}, 2, []step{
			{at: 0, hit: -1, to: 1, reason: ReasonRange},
		}},
		{"fixed size never changes", Range{1, 1}, 1, []step{
			{at: 0, cpu: 1, runnable: 10, hit: -1}, {at: 100, hit: -1},
		}},
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := NewState(tt.cu)
			for i, s := range tt.steps {
				in := Sample{
					Time: base.Add(time.Duration(s.at * float64(time.Second))), CPU: s.cpu, Runnable: s.runnable,
					Memory: s.mem, WorkingSet: s.wss, CacheHitRatio: s.hit,
				}
				var d Decision
				var ok bool
				from := st.CU
				st, d, ok = p.Decide(st, tt.r, in)
				switch {
				case s.to == 0 && ok:
					t.Fatalf("step %d (t=%vs): decided %v → %v (%s, goal %.2f, load %.2f), want no change", i, s.at, d.From, d.To, d.Reason, d.Goal, d.Load)
				case s.to != 0 && !ok:
					t.Fatalf("step %d (t=%vs): no decision (load %.2f), want %v → %v", i, s.at, st.Load, from, s.to)
				case ok && (d.To != s.to || d.Reason != s.reason || d.From != from):
					t.Fatalf("step %d (t=%vs): decided %v → %v (%s), want %v → %v (%s)", i, s.at, d.From, d.To, d.Reason, from, s.to, s.reason)
				}
				if ok && st.CU != d.To {
					t.Fatalf("step %d: state CU %v after a decision to %v", i, st.CU, d.To)
				}
			}
		})
	}
}

// TestDecideDefaults: with the default smoothing (5 s), one process caught
// running in one sample leaves a 0.25 CU compute alone; two in a row scale it.
func TestDecideDefaults(t *testing.T) {
	base := time.Now()
	st := NewState(0.25)
	st, d, ok := Policy{}.Decide(st, Range{0.25, 2}, Sample{Time: base, Runnable: 1, CacheHitRatio: -1})
	if ok {
		t.Fatalf("one runnable process in the first sample: %+v", d)
	}
	_, d, ok = Policy{}.Decide(st, Range{0.25, 2}, Sample{Time: base.Add(time.Second), Runnable: 1, CacheHitRatio: -1})
	if !ok || d.To != 0.5 {
		t.Fatalf("two busy samples: %+v %v, want a scale-up to 0.5 CU", d, ok)
	}
}

// TestDecidePure checks that Decide leaves the state it is given alone.
func TestDecidePure(t *testing.T) {
	p := Policy{}
	base := time.Now()
	st := NewState(0.25)
	st, _, _ = p.Decide(st, Range{0.25, 2}, Sample{Time: base, CacheHitRatio: -1})
	before := len(st.recent)
	_, _, _ = p.Decide(st, Range{0.25, 2}, Sample{Time: base.Add(time.Second), Runnable: 4, CacheHitRatio: -1})
	if len(st.recent) != before || st.CU != 0.25 {
		t.Fatalf("Decide changed its input: %+v", st)
	}
}
