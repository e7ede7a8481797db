// Package autoscale moves each active compute between its endpoint's
// minimum and maximum size (in Compute Units) as its load changes, with
// Neon's targets: the load stays under 90 % of the compute's vCPUs, its
// memory under 75 % of its RAM, and its working set (the memory it touched
// recently, page cache included) under 75 % of its RAM.
//
// Policy.Decide is the decision alone, pure and table-tested; Scaler is the
// loop that samples every compute, asks the policy and applies its answer
// through the compute manager (cgroup limits and a reload of the
// reloadable settings, never a restart).
//
// Hysteresis: the load is smoothed over a few seconds, a compute is scaled
// up as soon as its smoothed goal exceeds its size, and scaled down only
// when every goal of the last Policy.DownAfter is below its size, to the
// largest of them. Sizes are Neon's: 0.25, 0.5, then whole CUs up to 16.
package autoscale

import (
	"math"
	"time"

	"github.com/grovedb/grove/internal/pgconf"
)

// Steps are the sizes an autoscaled compute takes (Neon's allowed sizes up
// to its autoscaling maximum of 16 CU).
var Steps = []float64{0.25, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

// Policy holds the targets and the hysteresis. Zero fields take defaults.
type Policy struct {
	// LoadTarget is the load per vCPU to stay under (0.9). One CU is one vCPU.
	LoadTarget float64
	// MemoryTarget is the share of RAM the compute's memory may use (0.75).
	MemoryTarget float64
	// WorkingSetTarget is the share of RAM its working set may use (0.75).
	WorkingSetTarget float64
	// CacheHitTarget: with a known cache hit ratio at least this high
	// (0.99), the working set does not count — the data fits the buffers.
	CacheHitTarget float64
	// LoadSmoothing is the time constant of the load's moving average
	// (5 s): one process caught running in a single 1 s sample does not
	// scale a 0.25 CU compute up, a busy one does within two samples.
	LoadSmoothing time.Duration
	// DownAfter is how long every goal must stay below the size before a
	// scale-down (30 s), and how long a new size is kept at least.
	DownAfter time.Duration
	// CUMemoryBytes is one CU's RAM (0: pgconf.DefaultCUMemoryBytes).
	CUMemoryBytes int64
}

// WithDefaults fills the zero fields.
func (p Policy) WithDefaults() Policy {
	if p.LoadTarget <= 0 {
		p.LoadTarget = 0.9
	}
	if p.MemoryTarget <= 0 {
		p.MemoryTarget = 0.75
	}
	if p.WorkingSetTarget <= 0 {
		p.WorkingSetTarget = 0.75
	}
	if p.CacheHitTarget <= 0 {
		p.CacheHitTarget = 0.99
	}
	if p.LoadSmoothing <= 0 {
		p.LoadSmoothing = 5 * time.Second
	}
	if p.DownAfter <= 0 {
		p.DownAfter = 30 * time.Second
	}
	if p.CUMemoryBytes <= 0 {
		p.CUMemoryBytes = pgconf.DefaultCUMemoryBytes
	}
	return p
}

// Sample is one measurement of a compute.
type Sample struct {
	Time time.Time
	// CPU is the CPUs used on average since the previous sample.
	CPU float64
	// Runnable is the number of the compute's processes running or
	// waiting for a CPU (throttled ones included) at the sample: its
	// instantaneous load, as the kernel's load average counts it.
	Runnable int
	// Memory is what the compute holds that cannot be dropped (anonymous
	// and shared memory), in bytes.
	Memory int64
	// WorkingSet is the memory it touched recently, page cache included.
	WorkingSet int64
	// CacheHitRatio is the share of block reads served by shared buffers
	// since the previous measurement of it; negative when unknown.
	CacheHitRatio float64
}

// Range is the sizes a compute may take.
type Range struct{ Min, Max float64 }

// State is what the policy remembers of one compute between samples.
type State struct {
	CU   float64 // current size
	Load float64 // smoothed load, in CPUs

	last    time.Time // previous sample
	changed time.Time // when CU last changed (or the first sample)
	recent  []goal    // goals of the last DownAfter, oldest first
}

type goal struct {
	at time.Time
	cu float64
}

// NewState is the state of a compute found at size cu.
func NewState(cu float64) State { return State{CU: cu} }

// Reasons of a decision.
const (
	ReasonCPU        = "cpu"
	ReasonMemory     = "memory"
	ReasonWorkingSet = "working set"
	ReasonIdle       = "low load"
	ReasonRange      = "size range"
)

// Decision is a change of size.
type Decision struct {
	From, To float64
	// Reason names the goal that drove the change (the largest one).
	Reason string
	// Goal is the unrounded size the sample asks for.
	Goal float64
	// Load is the smoothed load the decision saw.
	Load float64
}

// Decide folds a sample into st and says whether the compute's size should
// change. It is pure: the returned state replaces st.
func (p Policy) Decide(st State, r Range, s Sample) (State, Decision, bool) {
	p = p.WithDefaults()
	if r.Max < r.Min {
		r.Max = r.Min
	}
	next := st
	// Smooth the load: an exponential moving average over LoadSmoothing.
	// The first sample counts as one second's worth from an idle start, so
	// that one process caught running at that instant is no load.
	load := max(s.CPU, float64(s.Runnable))
	dt := time.Second
	if !st.last.IsZero() {
		dt = s.Time.Sub(st.last)
	} else {
		next.changed = s.Time
	}
	if dt > 0 {
		a := 1 - math.Exp(-float64(dt)/float64(p.LoadSmoothing))
		next.Load = st.Load + a*(load-st.Load)
	}
	next.last = s.Time

	ram := float64(p.CUMemoryBytes)
	goals := []struct {
		cu     float64
		reason string
	}{
		{next.Load / p.LoadTarget, ReasonCPU},
		{float64(s.Memory) / p.MemoryTarget / ram, ReasonMemory},
	}
	if s.CacheHitRatio < 0 || s.CacheHitRatio < p.CacheHitTarget {
		goals = append(goals, struct {
			cu     float64
			reason string
		}{float64(s.WorkingSet) / p.WorkingSetTarget / ram, ReasonWorkingSet})
	}
	want, reason := 0.0, ReasonIdle
	for _, g := range goals {
		if g.cu > want {
			want, reason = g.cu, g.reason
		}
	}
	target := Clamp(RoundUp(want), r)

	// Keep the goals of the last DownAfter (a new slice: st is not shared).
	cut := s.Time.Add(-p.DownAfter)
	recent := make([]goal, 0, len(st.recent)+1)
	for _, g := range st.recent {
		if g.at.After(cut) {
			recent = append(recent, g)
		}
	}
	recent = append(recent, goal{s.Time, target})
	next.recent = recent

	d := Decision{From: st.CU, Goal: want, Load: next.Load, Reason: reason}
	switch {
	case st.CU < r.Min || st.CU > r.Max:
		d.To, d.Reason = Clamp(max(st.CU, target), r), ReasonRange
	case target > st.CU:
		d.To = target
	case target < st.CU && !s.Time.Before(next.changed.Add(p.DownAfter)):
		// Down to the largest goal of the window, if all were below.
		top := 0.0
		for _, g := range recent {
			top = max(top, g.cu)
		}
		if top >= st.CU {
			return next, Decision{}, false
		}
		d.To, d.Reason = top, ReasonIdle
	default:
		return next, Decision{}, false
	}
	if d.To == st.CU {
		return next, Decision{}, false
	}
	next.CU, next.changed = d.To, s.Time
	return next, d, true
}

// RoundUp is the smallest step at least cu (16 beyond the last).
func RoundUp(cu float64) float64 {
	for _, s := range Steps {
		if s >= cu-1e-9 {
			return s
		}
	}
	return Steps[len(Steps)-1]
}

// Clamp bounds cu to r.
func Clamp(cu float64, r Range) float64 { return min(max(cu, r.Min), r.Max) }
