package sqlhttp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/grovedb/grove/internal/computepool"
	"github.com/grovedb/grove/internal/egress"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/grovedb/grove/internal/proxy"
	"github.com/grovedb/grove/internal/proxy/authlimit"
	"github.com/grovedb/grove/internal/scram"
)

// Defaults of Config.
const (
	DefaultMaxRequestBytes  = 10 << 20
	DefaultMaxResponseBytes = 10 << 20
	DefaultIdleTimeout      = 2 * time.Minute
	DefaultConnectTimeout   = 2 * time.Minute
	// DefaultMaxConns bounds an endpoint's pooled connections when
	// Config.MaxConns does not know the endpoint's max_connections.
	DefaultMaxConns = 90
)

// A password that matched stays known this long (it is dropped at once when
// the role's verifier changes), for at most this many passwords.
const (
	authCacheTTL = 10 * time.Minute
	authCacheMax = 10_000
)

// Config configures a Handler.
type Config struct {
	// Backend finds roles' verifiers and wakes computes, as for the proxy.
	Backend proxy.Backend
	// Domain is the proxy's domain ("" = none), for endpoint host names.
	Domain      string
	AuthLimiter *authlimit.Limiter // shared with the proxy
	Logger      *slog.Logger
	// MaxConns returns how many connections the pool may hold to an
	// endpoint (its compute's max_connections less headroom); 0 or a nil
	// func means DefaultMaxConns.
	MaxConns func(endpointID string) int
	// Pool keeps connections between requests; nil makes one of its own.
	// The data plane shares one with the Data API, so that both stay within
	// one budget of connections per endpoint.
	Pool *computepool.Pool
	// PoolOptIn keeps connections for reuse only when a request sends
	// Neon-Pool-Opt-In: true. Off by default: every request may reuse.
	PoolOptIn bool

	MaxRequestBytes  int
	MaxResponseBytes int           // bytes of rows one query may return (507 past it)
	IdleTimeout      time.Duration // idle pooled connections are closed after it
	ConnectTimeout   time.Duration // waking the compute and logging in
}

// Handler serves POST /sql. Create it with New; Close it to close its
// pooled connections.
type Handler struct {
	cfg      Config
	log      *slog.Logger
	pool     *computepool.Pool
	auth     *authCache
	mockSalt []byte
	stop     context.CancelFunc
	done     chan struct{}

	egress egress.Counter
}

// New checks cfg and returns a handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Backend == nil {
		return nil, errors.New("sqlhttp: Backend is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AuthLimiter == nil {
		l, err := authlimit.New(authlimit.Config{})
		if err != nil {
			return nil, fmt.Errorf("sqlhttp: %w", err)
		}
		cfg.AuthLimiter = l
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.Pool == nil {
		cfg.Pool = computepool.New(cfg.IdleTimeout)
	}
	mock := make([]byte, 32)
	_, _ = rand.Read(mock)
	ctx, cancel := context.WithCancel(context.Background())
	h := &Handler{
		cfg: cfg, log: cfg.Logger, pool: cfg.Pool,
		auth:     newAuthCache(authCacheTTL, authCacheMax),
		mockSalt: mock, stop: cancel, done: make(chan struct{}),
	}
	go h.sweep(ctx)
	return h, nil
}

func (h *Handler) sweep(ctx context.Context) {
	defer close(h.done)
	t := time.NewTicker(h.cfg.IdleTimeout / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			h.pool.Sweep(now)
		}
	}
}

// Close closes the pooled connections; requests still running close
// theirs when they end.
func (h *Handler) Close() error {
	h.stop()
	<-h.done
	h.pool.CloseAll()
	return nil
}

// Drop closes the pooled connections to an endpoint: its compute stopped.
func (h *Handler) Drop(endpointID string) { h.pool.Drop(endpointID) }

// Open returns the pooled connections per endpoint (idle and in use).
func (h *Handler) Open() map[string]int { return h.pool.Open() }

// Egress returns the response bytes sent per endpoint since start.
func (h *Handler) Egress() map[string]int64 { return h.egress.Totals() }

// Request and response headers of Neon's protocol.
const (
	hdrConnString     = "Neon-Connection-String"
	hdrRawText        = "Neon-Raw-Text-Output"
	hdrArrayMode      = "Neon-Array-Mode"
	hdrPoolOptIn      = "Neon-Pool-Opt-In"
	hdrIsolationLevel = "Neon-Batch-Isolation-Level"
	hdrReadOnly       = "Neon-Batch-Read-Only"
	hdrDeferrable     = "Neon-Batch-Deferrable"
	hdrRequestID      = "Neon-Request-Id"
)

var corsAllowHeaders = strings.Join([]string{"Authorization", hdrConnString, hdrRawText, hdrArrayMode,
	hdrPoolOptIn, hdrReadOnly, hdrIsolationLevel}, ", ")

// options are the request's header options; only the exact value "true"
// turns one on, as in Neon's proxy.
type options struct {
	rawText, arrayMode, poolOptIn bool
	isolation                     string // SQL words, "" = the default
	isolationHeader               string
	readOnly, deferrable          bool
}

var isolationLevels = map[string]string{
	"Serializable":    "SERIALIZABLE",
	"ReadUncommitted": "READ UNCOMMITTED",
	"ReadCommitted":   "READ COMMITTED",
	"RepeatableRead":  "REPEATABLE READ",
}

func parseOptions(hdr http.Header) (options, error) {
	on := func(name string) bool { return hdr.Get(name) == "true" }
	o := options{rawText: on(hdrRawText), arrayMode: on(hdrArrayMode), poolOptIn: on(hdrPoolOptIn),
		readOnly: on(hdrReadOnly), deferrable: on(hdrDeferrable)}
	if vs, ok := hdr[http.CanonicalHeaderKey(hdrIsolationLevel)]; ok {
		lvl, ok := isolationLevels[vs[0]]
		if !ok {
			return o, userErrorf("invalid isolation level")
		}
		o.isolation, o.isolationHeader = lvl, vs[0]
	}
	return o, nil
}

// ServeHTTP serves POST /sql and its CORS preflight.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(hdrRequestID, newRequestID())
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodOptions:
		w.Header().Set("Allow", "OPTIONS, POST")
		w.Header().Set("Access-Control-Allow-Headers", corsAllowHeaders)
		w.Header().Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusOK)
		return
	case http.MethodPost:
	default:
		h.writeError(w, r, "", userErrorf(textNotSupported))
		return
	}
	body, endpoint, err := h.serve(w, r)
	if err != nil {
		h.writeError(w, r, endpoint, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, endpoint string, err error) {
	status, body, internal := errorBody(err)
	if internal {
		h.log.Error("sql over http: request failed", "endpoint", endpoint, "err", err)
	} else {
		h.log.Debug("sql over http: request refused", "endpoint", endpoint, "status", status, "err", err)
	}
	if endpoint != "" {
		h.egress.Add(endpoint, len(body))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// serve runs one request and returns the response body.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (body []byte, endpoint string, err error) {
	opts, err := parseOptions(r.Header)
	if err != nil {
		return nil, "", err
	}
	if r.Header.Get("Authorization") != "" {
		// Tokens are accepted only where an endpoint trusts a JWT issuer.
		return nil, "", userErrorf("missing authentication credentials: required password")
	}
	ci, err := parseConnString(r.Header.Get(hdrConnString), h.cfg.Domain)
	if err != nil {
		return nil, "", err
	}
	pl, reqLen, err := readPayload(w, r, h.cfg.MaxRequestBytes)
	if err != nil {
		return nil, "", err
	}
	if err := h.authenticate(r, ci); err != nil {
		return nil, ci.endpoint, err
	}

	h.cfg.Backend.ConnOpened(ci.endpoint)
	var sent int
	defer func() {
		h.egress.Add(ci.endpoint, sent)
		h.cfg.Backend.ConnClosed(ci.endpoint, int64(reqLen), int64(sent))
	}()
	ctx := r.Context()
	var sc *computepool.Conn
	for attempt := 0; ; attempt++ {
		if sc, err = h.connect(ctx, ci); err != nil {
			return nil, ci.endpoint, err
		}
		body, err = h.run(ctx, sc, pl, opts)
		if !errors.Is(err, errStale) || attempt == 2 {
			break
		}
		// The pooled connection had died (its compute restarted, or
		// Postgres ended the session) before it ran anything: another.
		h.pool.Release(sc, false)
	}
	if err == nil && pl.batch {
		if opts.readOnly {
			w.Header().Set(hdrReadOnly, "true")
		}
		if opts.deferrable {
			w.Header().Set(hdrDeferrable, "true")
		}
		if opts.isolationHeader != "" {
			w.Header().Set(hdrIsolationLevel, opts.isolationHeader)
		}
	}
	var pe *pgconn.PgError
	reusable := (err == nil || errors.As(err, &pe)) && (!h.cfg.PoolOptIn || opts.poolOptIn)
	h.pool.Release(sc, reusable)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ci.endpoint, &httpError{Status: http.StatusBadRequest, Message: textQueryCancelled, Code: "08P01", Err: err}
		}
		return nil, ci.endpoint, err
	}
	sent = len(body)
	return body, ci.endpoint, nil
}

// authenticate checks the password against the role's verifier. A password
// that matched this verifier before passes at once; any other check is
// throttled per address and endpoint like the proxy's logins.
func (h *Handler) authenticate(r *http.Request, ci connInfo) error {
	v, err := h.cfg.Backend.Verifier(r.Context(), ci.endpoint, ci.role)
	known := err == nil
	switch {
	case errors.Is(err, proxy.ErrUnknownRole):
		// Check against a mock verifier, so that an unknown role costs
		// what a wrong password does.
		v = scram.MockVerifier(ci.role, h.mockSalt)
	case err != nil:
		return backendError(ci.endpoint, err)
	}
	if known && h.auth.cached(ci.endpoint, ci.role, ci.password, v) {
		return nil
	}
	attempt, err := h.cfg.AuthLimiter.Begin(ci.endpoint, remoteAddr(r))
	if err != nil {
		return &httpError{Status: http.StatusTooManyRequests, Message: proxy.TextTooManyConnections, Code: "XX000", Err: err}
	}
	if ok := h.auth.check(ci.endpoint, ci.role, ci.password, v); !known || !ok {
		return &httpError{Status: http.StatusBadRequest, Code: "28P01",
			Message: fmt.Sprintf("password authentication failed for user \"%s\"", ci.role)}
	}
	attempt.Refund()
	return nil
}

// backendError translates the backend's errors for the client.
func backendError(endpoint string, err error) error {
	var ue *proxy.UserError
	switch {
	case errors.Is(err, proxy.ErrUnknownEndpoint):
		return &httpError{Status: http.StatusBadRequest, Code: "08004", Message: proxy.TextUnknownEndpoint, Err: err}
	case errors.As(err, &ue):
		code := ue.Code
		if code == "" {
			code = "XX000"
		}
		return &httpError{Status: http.StatusBadRequest, Code: code, Message: ue.Message, Err: err}
	default:
		return &httpError{Status: http.StatusInternalServerError, Code: "57P03", Message: proxy.TextWakeFailed,
			Err: fmt.Errorf("endpoint %s: %w", endpoint, err)}
	}
}

func remoteAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// connect returns a pooled connection for the request, waking the compute
// when a new one is needed. A pooled connection found dead (its compute
// stopped before the pool heard) is replaced once.
func (h *Handler) connect(ctx context.Context, ci connInfo) (*computepool.Conn, error) {
	limit := DefaultMaxConns
	if h.cfg.MaxConns != nil {
		if n := h.cfg.MaxConns(ci.endpoint); n > 0 {
			limit = n
		}
	}
	key := computepool.Key{Database: ci.database, Role: ci.role, Options: ci.options}
	dial := func(ctx context.Context) (*pgconn.PgConn, error) { return h.dial(ctx, ci) }
	cctx, cancel := context.WithTimeout(ctx, h.cfg.ConnectTimeout)
	defer cancel()
	return h.pool.Acquire(cctx, ci.endpoint, key, limit, dial)
}

// dial logs in to the endpoint's compute as the request's role, over its
// Unix socket, with the password the request carried.
func (h *Handler) dial(ctx context.Context, ci connInfo) (*pgconn.PgConn, error) {
	socket, err := h.cfg.Backend.Connect(ctx, ci.endpoint, false)
	if err != nil {
		return nil, backendError(ci.endpoint, err)
	}
	key := computepool.Key{Database: ci.database, Role: ci.role, Options: ci.options}
	pc, err := computepool.Dial(ctx, socket, key, ci.password, "sql over http")
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return nil, pe // the compute's own refusal (too many connections, no such database)
		}
		return nil, &httpError{Status: http.StatusInternalServerError, Code: "57P03", Message: proxy.TextWakeFailed,
			Err: fmt.Errorf("connect %s: %w", ci.endpoint, err)}
	}
	return pc, nil
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
