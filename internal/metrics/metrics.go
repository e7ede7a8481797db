// Package metrics is Grove's Prometheus registry. Events (API requests,
// compute lifecycle events, rate-limited requests) are counted as they
// happen; states (computes by state, proxy traffic, storage, autoscaler
// counters) are read from their components at scrape time through the
// functions of Config, so that nothing is kept twice.
//
// Labels stay few: the API's by route pattern (not path), and the proxy's
// and autoscaler's are totals over every endpoint, never per endpoint,
// since a host serves tens of thousands of them.
package metrics

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grovedb/grove/internal/compute"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Traffic is the proxy's traffic since it started, over every endpoint.
type Traffic struct {
	Open, Total       int64 // client connections open now, ever
	BytesIn, BytesOut int64 // client → compute, compute → client
}

// Scaling is the autoscaler's counters since it started.
type Scaling struct {
	Ups, Downs, Failures uint64
	Computes             int     // computes it sizes
	CU                   float64 // their current sizes, summed
}

// Storage is the volumes' storage: its driver and the file system of its
// root.
type Storage struct {
	Driver string // btrfs, reflink or copy
	Root   string // statfs'd for the file system's size and use
	// Volumes counts the volumes (nil: not reported).
	Volumes func(ctx context.Context) (int, error)
}

// Config lists the components read at scrape time; a nil one is not
// reported.
type Config struct {
	// ComputeStates counts the computes the compute manager holds, by
	// state (starting, active, restarting, suspending, failed).
	ComputeStates func() map[string]int
	// Endpoints counts the endpoints in the metadata store; those the
	// compute manager does not hold are suspended.
	Endpoints func(ctx context.Context) (int, error)
	Proxy     func() Traffic
	Autoscale func() Scaling
	Storage   Storage
	// ScrapeTimeout bounds the metadata and storage reads of a scrape
	// (0 → 5 s).
	ScrapeTimeout time.Duration
	Logger        *slog.Logger // nil → discard
}

// Metrics is Grove's registry and the collectors that count events.
type Metrics struct {
	cfg Config
	log *slog.Logger
	reg *prometheus.Registry

	apiDuration   *prometheus.HistogramVec
	rateLimited   *prometheus.CounterVec
	computeEvents *prometheus.CounterVec
	coldStarts    prometheus.Counter
	coldStartDur  prometheus.Histogram
}

// New returns the registry with Go's runtime and process collectors, the
// event counters and a collector reading cfg's components.
func New(cfg Config) *Metrics {
	if cfg.ScrapeTimeout <= 0 {
		cfg.ScrapeTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m := &Metrics{cfg: cfg, log: cfg.Logger, reg: prometheus.NewRegistry()}
	m.apiDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "grove_api_request_duration_seconds",
		Help:    "Time to answer an api/v2 request, by route pattern, method and status class.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route", "method", "status"})
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "grove_api_rate_limited_total",
		Help: "api/v2 requests answered 429, by the limit they hit (key, route, address).",
	}, []string{"limit"})
	m.computeEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "grove_compute_events_total",
		Help: "Lifecycle events of endpoints' computes (started, suspended, crashed, restarted, failed).",
	}, []string{"event"})
	m.coldStarts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "grove_compute_cold_starts_total",
		Help: "Computes started for an endpoint (a wake-up, or a create without a warm instance).",
	})
	m.coldStartDur = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "grove_compute_cold_start_duration_seconds",
		Help:    "Time from the start of a compute to Postgres accepting connections.",
		Buckets: []float64{.05, .1, .25, .5, .75, 1, 1.5, 2, 3, 5, 10, 30},
	})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.apiDuration, m.rateLimited, m.computeEvents, m.coldStarts, m.coldStartDur,
		&state{m: m},
	)
	return m
}

// Handler serves the registry in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slogErrors{m.log}})
}

// Registry is the underlying registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveAPI records one api/v2 request. route is the registered pattern
// ("" for requests that matched none).
func (m *Metrics) ObserveAPI(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.apiDuration.WithLabelValues(route, method, statusClass(status)).Observe(d.Seconds())
}

// RateLimited counts a request refused by the limit named.
func (m *Metrics) RateLimited(limit string) { m.rateLimited.WithLabelValues(limit).Inc() }

// ComputeEvent counts a compute lifecycle event; subscribe it to the
// compute manager's events (compute.Manager.Subscribe). Events of warm instances, which
// serve no endpoint yet, are not counted.
func (m *Metrics) ComputeEvent(e compute.Event) {
	if !strings.HasPrefix(e.ID, "ep-") {
		return
	}
	m.computeEvents.WithLabelValues(string(e.Kind)).Inc()
	if e.Kind == compute.EventStarted {
		m.coldStarts.Inc()
		m.coldStartDur.Observe(e.Duration.Seconds())
	}
}

func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// slogErrors logs promhttp's errors.
type slogErrors struct{ log *slog.Logger }

func (s slogErrors) Println(v ...any) {
	s.log.Warn("metrics: scrape", "err", strings.TrimSpace(fmt.Sprintln(v...)))
}
