package metrics

import (
	"context"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/prometheus/client_golang/prometheus"
)

// Descriptions of the metrics read at scrape time.
var (
	descComputes = prometheus.NewDesc("grove_computes",
		"Endpoints' computes by state; suspended ones are the endpoints without a running compute.",
		[]string{"state"}, nil)
	descProxyOpen = prometheus.NewDesc("grove_proxy_connections_open",
		"Client connections the Postgres proxy holds to computes now.", nil, nil)
	descProxyTotal = prometheus.NewDesc("grove_proxy_connections_total",
		"Client connections the Postgres proxy connected to a compute.", nil, nil)
	descProxyBytes = prometheus.NewDesc("grove_proxy_bytes_total",
		"Bytes through the Postgres proxy: in is client to compute, out compute to client (egress).",
		[]string{"direction"}, nil)
	descVolumes = prometheus.NewDesc("grove_storage_volumes",
		"Volumes of the storage driver (data of branches, snapshots, warm instances, templates).",
		[]string{"driver"}, nil)
	descFSSize = prometheus.NewDesc("grove_storage_filesystem_size_bytes",
		"Size of the file system holding the volumes.", []string{"driver"}, nil)
	descFSUsed = prometheus.NewDesc("grove_storage_filesystem_used_bytes",
		"Bytes used on the file system holding the volumes.", []string{"driver"}, nil)
	descFSAvail = prometheus.NewDesc("grove_storage_filesystem_available_bytes",
		"Bytes available to Grove on the file system holding the volumes.", []string{"driver"}, nil)
	descScale = prometheus.NewDesc("grove_autoscale_decisions_total",
		"Autoscaler resizes by direction (up, down) and those that failed to apply.",
		[]string{"direction"}, nil)
	descScaleComputes = prometheus.NewDesc("grove_autoscale_computes",
		"Computes the autoscaler sizes.", nil, nil)
	descScaleCU = prometheus.NewDesc("grove_autoscale_cu",
		"Sum of the current sizes, in Compute Units, of the computes the autoscaler sizes.", nil, nil)
	descScrapeErrors = prometheus.NewDesc("grove_metrics_source_errors",
		"1 when a source could not be read at this scrape (its metrics are missing).",
		[]string{"source"}, nil)
)

// state reads the components of Config at scrape time.
type state struct{ m *Metrics }

func (s *state) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descComputes, descProxyOpen, descProxyTotal, descProxyBytes,
		descVolumes, descFSSize, descFSUsed, descFSAvail, descScale, descScaleComputes, descScaleCU, descScrapeErrors} {
		ch <- d
	}
}

func (s *state) Collect(ch chan<- prometheus.Metric) {
	cfg := s.m.cfg
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ScrapeTimeout)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	failed := func(source string, err error) {
		s.m.log.Warn("metrics: read "+source, "err", err)
		gauge(descScrapeErrors, 1, source)
	}

	if cfg.ComputeStates != nil {
		states := cfg.ComputeStates()
		held := 0
		for _, n := range states {
			held += n
		}
		if cfg.Endpoints != nil {
			if n, err := cfg.Endpoints(ctx); err != nil {
				failed("endpoints", err)
			} else {
				states["suspended"] = max(0, n-held)
			}
		}
		names := make([]string, 0, len(states))
		for st := range states {
			names = append(names, st)
		}
		sort.Strings(names)
		for _, st := range names {
			gauge(descComputes, float64(states[st]), st)
		}
	}
	if cfg.Proxy != nil {
		t := cfg.Proxy()
		gauge(descProxyOpen, float64(t.Open))
		counter(descProxyTotal, float64(t.Total))
		counter(descProxyBytes, float64(t.BytesIn), "in")
		counter(descProxyBytes, float64(t.BytesOut), "out")
	}
	if st := cfg.Storage; st.Driver != "" {
		if st.Volumes != nil {
			if n, err := st.Volumes(ctx); err != nil {
				failed("volumes", err)
			} else {
				gauge(descVolumes, float64(n), st.Driver)
			}
		}
		if st.Root != "" {
			var fs unix.Statfs_t
			if err := unix.Statfs(st.Root, &fs); err != nil {
				failed("filesystem", err)
			} else {
				bs := float64(fs.Bsize)
				gauge(descFSSize, float64(fs.Blocks)*bs, st.Driver)
				gauge(descFSUsed, float64(fs.Blocks-fs.Bfree)*bs, st.Driver)
				gauge(descFSAvail, float64(fs.Bavail)*bs, st.Driver)
			}
		}
	}
	if cfg.Autoscale != nil {
		sc := cfg.Autoscale()
		counter(descScale, float64(sc.Ups), "up")
		counter(descScale, float64(sc.Downs), "down")
		counter(descScale, float64(sc.Failures), "failed")
		gauge(descScaleComputes, float64(sc.Computes))
		gauge(descScaleCU, sc.CU)
	}
}
