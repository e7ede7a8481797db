package proxymetrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/grovedb/grove/internal/proxy"
)

type events func() proxy.Events

func (f events) Events() proxy.Events { return f() }

func TestCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(New(events(func() proxy.Events {
		return proxy.Events{HandshakeTimeouts: 900, PlaintextRefused: 3, AuthFailures: 12, ThrottledAddress: 288, ThrottledEndpoint: 1}
	})))
	want := `
# HELP grove_proxy_auth_failures_total Password checks that failed at the Postgres proxy: a wrong password, an unknown role or a failed channel binding.
# TYPE grove_proxy_auth_failures_total counter
grove_proxy_auth_failures_total 12
# HELP grove_proxy_auth_throttled_total Logins refused before the password check after too many failures, by the limit hit (address: one client address on one endpoint; endpoint: all addresses).
# TYPE grove_proxy_auth_throttled_total counter
grove_proxy_auth_throttled_total{limit="address"} 288
grove_proxy_auth_throttled_total{limit="endpoint"} 1
# HELP grove_proxy_handshake_timeouts_total Client connections closed because the client stalled: it did not finish TLS, startup and authentication within the authentication timeout.
# TYPE grove_proxy_handshake_timeouts_total counter
grove_proxy_handshake_timeouts_total 900
# HELP grove_proxy_plaintext_refused_total Logins the Postgres proxy refused because the client did not use TLS.
# TYPE grove_proxy_plaintext_refused_total counter
grove_proxy_plaintext_refused_total 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}
