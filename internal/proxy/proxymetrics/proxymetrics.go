// Package proxymetrics exports the Postgres proxy's event counters
// (proxy.Events) to Prometheus. It stands apart from package proxy, which
// must not depend on net/http, as the Prometheus client does.
package proxymetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grovedb/grove/internal/proxy"
)

var (
	descHandshakeTimeouts = prometheus.NewDesc("grove_proxy_handshake_timeouts_total",
		"Client connections closed because the client stalled: it did not finish TLS, startup and authentication within the authentication timeout.",
		nil, nil)
	descPlaintextRefused = prometheus.NewDesc("grove_proxy_plaintext_refused_total",
		"Logins the Postgres proxy refused because the client did not use TLS.", nil, nil)
	descAuthFailures = prometheus.NewDesc("grove_proxy_auth_failures_total",
		"Password checks that failed at the Postgres proxy: a wrong password, an unknown role or a failed channel binding.",
		nil, nil)
	descThrottled = prometheus.NewDesc("grove_proxy_auth_throttled_total",
		"Logins refused before the password check after too many failures, by the limit hit (address: one client address on one endpoint; endpoint: all addresses).",
		[]string{"limit"}, nil)
)

// Source is what a Collector reads; *proxy.Proxy is one.
type Source interface{ Events() proxy.Events }

// Collector reads a Source's counters at scrape time.
type Collector struct{ src Source }

var _ prometheus.Collector = (*Collector)(nil)

// New returns a Collector of src's counters.
func New(src Source) *Collector { return &Collector{src: src} }

func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHandshakeTimeouts, descPlaintextRefused, descAuthFailures, descThrottled} {
		ch <- d
	}
}

func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	e := c.src.Events()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descHandshakeTimeouts, e.HandshakeTimeouts)
	counter(descPlaintextRefused, e.PlaintextRefused)
	counter(descAuthFailures, e.AuthFailures)
	counter(descThrottled, e.ThrottledAddress, "address")
	counter(descThrottled, e.ThrottledEndpoint, "endpoint")
}
