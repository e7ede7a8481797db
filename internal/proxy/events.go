package proxy

import (
	"sync/atomic"

	"github.com/grovedb/grove/internal/proxy/authlimit"
)

// Events count what the proxy refused or gave up on since it started: what
// clients cause by the thousand, too many to log one by one at info level.
// Package proxymetrics exports them to Prometheus.
type Events struct {
	// HandshakeTimeouts are client connections closed because the client
	// stalled: it did not finish TLS, startup and authentication within
	// Config.AuthTimeout.
	HandshakeTimeouts int64
	// PlaintextRefused are logins refused for want of TLS.
	PlaintextRefused int64
	// AuthFailures are password checks that failed: a wrong password, an
	// unknown role or a failed channel binding.
	AuthFailures int64
	// Throttled are logins refused before the password check by
	// Config.AuthLimiter, by the rule that refused them.
	ThrottledAddress, ThrottledEndpoint int64
}

type events struct {
	handshakeTimeouts, plaintextRefused, authFailures atomic.Int64
	throttledAddress, throttledEndpoint               atomic.Int64
}

func (e *events) throttled(s authlimit.Scope) {
	if s == authlimit.ScopeAddress {
		e.throttledAddress.Add(1)
	} else {
		e.throttledEndpoint.Add(1)
	}
}

// Events returns the event counters.
func (p *Proxy) Events() Events {
	e := &p.events
	return Events{
		HandshakeTimeouts: e.handshakeTimeouts.Load(),
		PlaintextRefused:  e.plaintextRefused.Load(),
		AuthFailures:      e.authFailures.Load(),
		ThrottledAddress:  e.throttledAddress.Load(),
		ThrottledEndpoint: e.throttledEndpoint.Load(),
	}
}
