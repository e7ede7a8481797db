package metrics

import (
	"github.com/grovedb/grove/internal/autoscale"
	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/proxy"
)

// Adapters from Grove's components to Config's functions.

// ComputeLister is what ComputeStatesOf reads; *compute.Manager has it.
type ComputeLister interface{ List() []*compute.Instance }

// ComputeStatesOf counts a compute manager's computes by state.
func ComputeStatesOf(c ComputeLister) func() map[string]int {
	return func() map[string]int {
		out := map[string]int{string(compute.StateActive): 0}
		for _, in := range c.List() {
			out[string(in.State())]++
		}
		return out
	}
}

// ProxyStats is what TrafficOf reads; *proxy.Proxy has it.
type ProxyStats interface {
	Stats() map[string]proxy.EndpointStats
}

// TrafficOf sums a proxy's per-endpoint counters.
func TrafficOf(p ProxyStats) func() Traffic {
	return func() Traffic { return SumTraffic(p.Stats()) }
}

// SumTraffic adds up per-endpoint counters.
func SumTraffic(stats map[string]proxy.EndpointStats) Traffic {
	var t Traffic
	for _, s := range stats {
		t.Open += s.Open
		t.Total += s.Total
		t.BytesIn += s.BytesIn
		t.BytesOut += s.BytesOut
	}
	return t
}

// ScalerStats is what ScalingOf reads; *autoscale.Scaler has it.
type ScalerStats interface{ Stats() autoscale.Stats }

// ScalingOf reads an autoscaler's counters and sums its computes' sizes.
func ScalingOf(s ScalerStats) func() Scaling {
	return func() Scaling { return SumScaling(s.Stats()) }
}

// SumScaling turns the autoscaler's Stats into Scaling.
func SumScaling(st autoscale.Stats) Scaling {
	out := Scaling{Ups: st.Ups, Downs: st.Downs, Failures: st.Failures, Computes: len(st.CU)}
	for _, cu := range st.CU {
		out.CU += cu
	}
	return out
}
