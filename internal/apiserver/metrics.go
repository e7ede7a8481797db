package apiserver

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/grovedb/grove/internal/metrics"
)

// MetricsPath is where the API listener serves Prometheus metrics, to the
// admin API key only: they count every tenant's computes and traffic.
// grove serve --metrics-addr serves them without a key on a listener of
// their own, for a scraper on a private network.
const MetricsPath = "/metrics"

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observed is a request being timed for the latency histogram.
type observed struct {
	*statusWriter
	s       *Server
	r       *http.Request
	start   time.Time
	pattern string // the route's, set once matched
}

// observe starts timing a request; done records it (without metrics it
// does nothing).
func (s *Server) observe(w http.ResponseWriter, r *http.Request) *observed {
	return &observed{statusWriter: &statusWriter{ResponseWriter: w}, s: s, r: r, start: time.Now()}
}

func (o *observed) done() {
	if o.s.metrics == nil || o.r.URL.Path == MetricsPath {
		return
	}
	_, path, _ := strings.Cut(o.pattern, " ")
	route := strings.TrimPrefix(path, "/api/v2")
	status := o.status
	if status == 0 {
		status = http.StatusOK
	}
	o.s.metrics.ObserveAPI(route, o.r.Method, status, time.Since(o.start))
}

// serveMetrics serves the registry to the admin API key: the bearer must
// be the key grove serve wrote at its first start, and still valid.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.metrics == nil {
		s.writeError(w, r, http.StatusNotFound, "not found")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.writeError(w, r, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	secret, ok := bearer(r)
	if !ok {
		s.writeError(w, r, http.StatusUnauthorized, "authentication required")
		return
	}
	if s.metricsKey == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(s.metricsKey)) != 1 {
		s.writeError(w, r, http.StatusForbidden, "metrics are served to the admin API key only")
		return
	}
	if _, err := s.p.Accounts().Authenticate(r.Context(), secret); err != nil {
		s.fail(w, r, err) // revoked since
		return
	}
	s.metricsHandler.ServeHTTP(w, r)
}

// bearer returns the request's bearer token.
func bearer(r *http.Request) (string, bool) {
	auth := r.Header.Get("Authorization")
	secret, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		secret, ok = strings.CutPrefix(auth, "bearer ")
	}
	secret = strings.TrimSpace(secret)
	return secret, ok && secret != ""
}

// limitsAndMetrics are the Server's rate limiter and metrics.
type limitsAndMetrics struct {
	limits         *limiter // nil: no limits
	metrics        *metrics.Metrics
	metricsKey     string
	metricsHandler http.Handler
}

func newLimitsAndMetrics(cfg Config) limitsAndMetrics {
	lm := limitsAndMetrics{metrics: cfg.Metrics, metricsKey: cfg.MetricsKey}
	if cfg.RateLimit.PerMinute > 0 || cfg.RateLimit.PerRouteBySecond > 0 {
		lm.limits = newLimiter(cfg.RateLimit)
	}
	if cfg.Metrics != nil {
		lm.metricsHandler = cfg.Metrics.Handler()
	}
	return lm
}
