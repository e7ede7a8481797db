package proxy

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grovedb/grove/internal/proxy/authlimit"
	"github.com/grovedb/grove/internal/reserved"
	"github.com/grovedb/grove/internal/scram"
)

// Defaults of Config.
const (
	// DefaultMaxStartupPacket is Postgres' MAX_STARTUP_PACKET_LENGTH.
	DefaultMaxStartupPacket = 10000
	DefaultAuthTimeout      = 30 * time.Second
	DefaultConnectTimeout   = 2 * time.Minute
)

// DefaultReservedRoles cannot log in through the proxy: the platform's own
// superuser and helper roles, and the roles Neon keeps for itself.
var DefaultReservedRoles = reserved.PlatformRoles

// Config configures a Proxy.
type Config struct {
	// Addr is the listen address of ListenAndServe, e.g. "127.0.0.1:5432".
	Addr string
	// TLS is required; Certificates[0] is the certificate clients see and
	// the one SCRAM-SHA-256-PLUS binds to.
	TLS *tls.Config
	// Domain, when set, routes by SNI names under it (see package route).
	Domain  string
	Backend Backend
	Logger  *slog.Logger
	// MaxStartupPacket bounds the first packet (default DefaultMaxStartupPacket).
	MaxStartupPacket int
	// AuthTimeout bounds everything from accept to authenticated client
	// (default DefaultAuthTimeout), as Postgres' authentication_timeout.
	AuthTimeout time.Duration
	// ConnectTimeout bounds waking the compute and logging in to it
	// (default DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// ReservedRoles are refused (default DefaultReservedRoles); roles
	// starting with "pg_" are always refused.
	ReservedRoles []string
	// AllowPlaintext accepts logins without TLS, for local development.
	// By default they are refused, as Neon refuses them.
	AllowPlaintext bool
	// AuthLimiter throttles failed password checks per client address and
	// per endpoint (default: authlimit's defaults). Share one with the
	// other services that check the same passwords.
	AuthLimiter *authlimit.Limiter
}

// Validate checks cfg and fills in defaults.
func (cfg *Config) Validate() error {
	if cfg.TLS == nil || len(cfg.TLS.Certificates) == 0 {
		return errors.New("proxy: TLS config with a certificate is required")
	}
	if cfg.Backend == nil {
		return errors.New("proxy: Backend is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxStartupPacket <= 0 {
		cfg.MaxStartupPacket = DefaultMaxStartupPacket
	}
	if cfg.MaxStartupPacket < 64 || cfg.MaxStartupPacket > 1<<20 {
		return fmt.Errorf("proxy: MaxStartupPacket %d out of range [64, 1MiB]", cfg.MaxStartupPacket)
	}
	if cfg.AuthTimeout <= 0 {
		cfg.AuthTimeout = DefaultAuthTimeout
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.ReservedRoles == nil {
		cfg.ReservedRoles = DefaultReservedRoles
	}
	if cfg.AuthLimiter == nil {
		l, err := authlimit.New(authlimit.Config{})
		if err != nil {
			return fmt.Errorf("proxy: %w", err)
		}
		cfg.AuthLimiter = l
	}
	return nil
}

// EndpointStats are per-endpoint counters since the proxy started.
type EndpointStats struct {
	Open     int64 // client connections open now
	Total    int64 // client connections ever connected to the compute
	BytesIn  int64 // client → compute
	BytesOut int64 // compute → client (egress)
}

type endpointCounters struct {
	open, total, in, out atomic.Int64
}

// cancelKey is the BackendKeyData the proxy gave a client.
type cancelKey struct {
	pid    uint32
	secret string
}

// cancelTarget is where a cancel request for a key goes.
type cancelTarget struct {
	socket string
	pid    uint32
	secret []byte
}

// Proxy is a Postgres wire proxy. Create it with New, run it with Serve or
// ListenAndServe, stop it with Shutdown or Close.
type Proxy struct {
	cfg       Config
	log       *slog.Logger
	tls       *tls.Config
	cbData    []byte // tls-server-end-point hash of Certificates[0]
	mockSalt  []byte // secret for mock verifiers of unknown roles
	reserved  map[string]bool
	events    events
	baseCtx   context.Context
	cancelAll context.CancelFunc

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     sync.WaitGroup
	stats     map[string]*endpointCounters
	cancels   map[cancelKey]cancelTarget
	closed    bool
}

// New checks cfg and returns a proxy.
func New(cfg Config) (*Proxy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cert := cfg.TLS.Certificates[0]
	leaf := cert.Leaf
	if leaf == nil {
		if len(cert.Certificate) == 0 {
			return nil, errors.New("proxy: TLS certificate is empty")
		}
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("proxy: parse TLS certificate: %w", err)
		}
	}
	cb, err := scram.TLSServerEndPoint(leaf)
	if err != nil {
		return nil, fmt.Errorf("proxy: channel binding: %w", err)
	}
	tc := cfg.TLS.Clone()
	// Direct TLS (sslnegotiation=direct, libpq 17+) requires ALPN "postgresql".
	if !slices.Contains(tc.NextProtos, "postgresql") {
		tc.NextProtos = append(tc.NextProtos, "postgresql")
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	mock := make([]byte, 32)
	if _, err := rand.Read(mock); err != nil {
		return nil, fmt.Errorf("proxy: random: %w", err)
	}
	reserved := map[string]bool{}
	for _, r := range cfg.ReservedRoles {
		reserved[r] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Proxy{
		cfg: cfg, log: cfg.Logger, tls: tc, cbData: cb, mockSalt: mock, reserved: reserved,
		baseCtx: ctx, cancelAll: cancel,
		listeners: map[net.Listener]struct{}{},
		stats:     map[string]*endpointCounters{},
		cancels:   map[cancelKey]cancelTarget{},
	}, nil
}

// ListenAndServe listens on cfg.Addr and serves until ctx ends or the proxy
// is shut down.
func (p *Proxy) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", p.cfg.Addr)
	if err != nil {
		return fmt.Errorf("proxy: listen %s: %w", p.cfg.Addr, err)
	}
	return p.Serve(ctx, ln)
}

// Serve accepts connections on ln until ctx ends or the proxy is shut down,
// then closes ln. When ctx ends, the connections it accepted are closed too
// and Serve waits for them; after Shutdown it returns at once and leaves
// them to Shutdown. It returns nil in both cases.
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		ln.Close()
		return nil
	}
	p.listeners[ln] = struct{}{}
	p.mu.Unlock()
	connCtx, connCancel := context.WithCancel(p.baseCtx)
	var mine sync.WaitGroup
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		connCancel()
	})
	defer func() {
		if !stop() {
			// ctx ended: its connections are being closed; wait for them.
			mine.Wait()
		}
	}()
	defer func() {
		p.mu.Lock()
		delete(p.listeners, ln)
		p.mu.Unlock()
		ln.Close()
	}()
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || p.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Temporary failures (EMFILE…) must not end the listener.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			p.log.Warn("proxy accept", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		backoff = 0
		p.conns.Add(1)
		mine.Add(1)
		go func() {
			defer p.conns.Done()
			defer mine.Done()
			p.serveConn(connCtx, c, nil)
		}()
	}
}

func (p *Proxy) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Shutdown stops accepting (on listeners and WebSocket upgrades), waits for
// open connections, tunnelled ones too, to end until ctx ends, then closes
// the rest and waits for them.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	for ln := range p.listeners {
		ln.Close()
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.conns.Wait(); close(done) }()
	select {
	case <-done:
		p.cancelAll()
		return nil
	case <-ctx.Done():
		p.cancelAll()
		<-done
		return ctx.Err()
	}
}

// Close stops the proxy at once, closing every connection.
func (p *Proxy) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// Stats returns a snapshot of the per-endpoint counters.
func (p *Proxy) Stats() map[string]EndpointStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]EndpointStats, len(p.stats))
	for id, c := range p.stats {
		out[id] = EndpointStats{Open: c.open.Load(), Total: c.total.Load(), BytesIn: c.in.Load(), BytesOut: c.out.Load()}
	}
	return out
}

func (p *Proxy) counters(endpointID string) *endpointCounters {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.stats[endpointID]
	if c == nil {
		c = &endpointCounters{}
		p.stats[endpointID] = c
	}
	return c
}

// issueCancelKey gives a client its own random BackendKeyData for a
// compute's real one; the secret has the compute's length (protocol 3.2
// allows longer keys) but at least 4 bytes.
func (p *Proxy) issueCancelKey(t cancelTarget) (cancelKey, error) {
	n := max(len(t.secret), 4)
	buf := make([]byte, 4+n)
	for {
		if _, err := rand.Read(buf); err != nil {
			return cancelKey{}, fmt.Errorf("cancel key: %w", err)
		}
		k := cancelKey{pid: binary.BigEndian.Uint32(buf[:4]), secret: string(buf[4:])}
		p.mu.Lock()
		if _, taken := p.cancels[k]; !taken {
			p.cancels[k] = t
			p.mu.Unlock()
			return k, nil
		}
		p.mu.Unlock()
	}
}

func (p *Proxy) dropCancelKey(k cancelKey) {
	p.mu.Lock()
	delete(p.cancels, k)
	p.mu.Unlock()
}

// forwardCancel sends a client's cancel request to the compute its key maps
// to. Unknown keys are ignored silently, as Postgres does.
func (p *Proxy) forwardCancel(ctx context.Context, pid uint32, secret []byte) error {
	p.mu.Lock()
	t, ok := p.cancels[cancelKey{pid: pid, secret: string(secret)}]
	p.mu.Unlock()
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", t.socket)
	if err != nil {
		return fmt.Errorf("cancel: dial compute: %w", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := c.Write(encodeCancel(t.pid, t.secret)); err != nil {
		return fmt.Errorf("cancel: write: %w", err)
	}
	// Postgres closes the connection after reading the request; waiting for
	// that keeps the cancel ordered before our close.
	var b [1]byte
	_, _ = c.Read(b[:])
	return nil
}
