// Package apiserver serves Neon's api/v2 over HTTP: it decodes apitypes,
// calls the platform and encodes the answer. It is the one place where
// domain errors become an HTTP status and Neon's error body.
package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metrics"
	"github.com/grovedb/grove/internal/platform"
)

// Config wires the API server.
type Config struct {
	Platform *platform.Platform
	Logger   *slog.Logger
	// --- rate limits and metrics (ratelimit.go, metrics.go) ---
	RateLimit  RateLimit        // zero: no limits
	Metrics    *metrics.Metrics // nil: no /metrics, no latency histogram
	MetricsKey string           // the admin API key, which alone reads /metrics
	// --- end rate limits and metrics ---
}

// Server is the api/v2 HTTP handler.
type Server struct {
	p   *platform.Platform
	log *slog.Logger
	mux *http.ServeMux
	// patterns lists the routes registered with handle, in order, for the
	// API description (openapi.go).
	patterns []string

	limitsAndMetrics // rate limiter and metrics: ratelimit.go, metrics.go
}

// maxBody bounds request bodies; Neon's largest legitimate ones are far smaller.
const maxBody = 1 << 20

// New returns the handler serving /api/v2.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{p: cfg.Platform, log: cfg.Logger, mux: http.NewServeMux()}
	s.limitsAndMetrics = newLimitsAndMetrics(cfg)
	s.routes()
	return s
}

type handler func(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error

func (s *Server) handle(pattern string, h handler) {
	method, path, _ := strings.Cut(pattern, " ")
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(method+" /api/v2"+path, s.limitAddr(s.authed(s.limitKey(pattern, refuseBadText(pattern, h)))))
}

// routes registers every operation; each area keeps its handlers and its
// registrations in its own file.
func (s *Server) routes() {
	s.projectRoutes()
	s.endpointRoutes()
	s.branchRoutes()
	s.snapshotRoutes()
	s.roleRoutes()
	s.dataAPIRoutes() // the Data API's management (dataapi.go)
	s.accountRoutes()
	s.transferRoutes()    // project transfer, plans (transfer.go)
	s.consumptionRoutes() // consumption history (consumption.go)
	s.specRoutes()
}

type ctxKey struct{}

// ServeHTTP adds Neon's request id header to every response.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o := s.observe(w, r) // latency by route (metrics.go)
	defer o.done()
	w = o
	id := r.Header.Get("X-Request-ID")
	if id == "" || len(id) > 128 {
		id = uuid.NewString()
	}
	w.Header().Set("X-Neon-Ret-Request-Id", id)
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, id))
	if r.URL.Path == MetricsPath {
		s.serveMetrics(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/api/v2/") {
		s.writeError(w, r, http.StatusNotFound, "not found")
		return
	}
	_, pattern := s.mux.Handler(r)
	o.pattern = pattern
	if pattern == "" {
		s.writeError(w, r, http.StatusNotFound, "not found")
		return
	}
	s.mux.ServeHTTP(w, r)
}

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(ctxKey{}).(string)
	return id
}

func (s *Server) authed(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		auth := r.Header.Get("Authorization")
		secret, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			secret, ok = strings.CutPrefix(auth, "bearer ")
		}
		if !ok || strings.TrimSpace(secret) == "" {
			s.writeError(w, r, http.StatusUnauthorized, "authentication required")
			return
		}
		pr, err := s.p.Accounts().Authenticate(r.Context(), strings.TrimSpace(secret))
		if err == nil {
			err = h(w, r, pr)
		}
		if err != nil {
			s.fail(w, r, err)
		}
		s.log.Debug("api", "method", r.Method, "path", r.URL.Path, "dur", time.Since(start))
	})
}

// fail maps an error to Neon's status and body, logging causes of 5xx.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var de *decodeError
	if errors.As(err, &de) {
		s.writeError(w, r, http.StatusBadRequest, de.msg)
		return
	}
	status := map[errkind.Kind]int{
		errkind.Invalid:       http.StatusBadRequest,
		errkind.Unauthorized:  http.StatusUnauthorized,
		errkind.Forbidden:     http.StatusForbidden,
		errkind.NotFound:      http.StatusNotFound,
		errkind.Conflict:      http.StatusConflict,
		errkind.Unprocessable: http.StatusUnprocessableEntity,
		errkind.Locked:        http.StatusLocked,
		errkind.Unavailable:   http.StatusServiceUnavailable,
		errkind.Precondition:  http.StatusPreconditionFailed,
		errkind.NotAcceptable: http.StatusNotAcceptable,
	}[errkind.Of(err)]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		s.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "request_id", requestID(r), "err", err)
	}
	if code := errkind.Code(err); code != "" { // Neon's machine code, e.g. PROJECTS_LIMIT_EXCEEDED (plans)
		writeJSON(w, status, apitypes.GeneralError{Code: code, Message: errkind.Message(err), RequestID: requestID(r)})
		return
	}
	s.writeError(w, r, status, errkind.Message(err))
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeJSON(w, status, apitypes.GeneralError{Code: "", Message: msg, RequestID: requestID(r)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"code":"","message":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decodeError is a request the API cannot read; its text follows Neon's
// (ogen's) "invalid request: decode application/json: …" form.
type decodeError struct{ msg string }

func (e *decodeError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &decodeError{msg: fmt.Sprintf(format, args...)}
}

// decode reads a JSON body into v. An empty body is allowed only when
// optional is true.
func decode(r *http.Request, v any, optional bool) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return badRequest("invalid request: read body: %v", err)
	}
	if len(body) > maxBody {
		return badRequest("invalid request: body larger than %d bytes", maxBody)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		if optional {
			return nil
		}
		return badRequest("invalid request: decode application/json: body required")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return badRequest("invalid request: decode application/json: %s: expected %s, got %s", te.Field, te.Type, te.Value)
		case errors.As(err, &se):
			return badRequest("invalid request: decode application/json: invalid JSON at offset %d: %v", se.Offset, se)
		default:
			return badRequest("invalid request: decode application/json: %v", err)
		}
	}
	if dec.More() {
		return badRequest("invalid request: decode application/json: unexpected data after the JSON value")
	}
	return nil
}

// queryBool parses Neon's tolerant booleans: true/True/1, false/False/0.
func queryBool(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("invalid request: query parameter %s: %q is not a boolean", name, v)
	}
	return b, nil
}

func queryInt(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badRequest("invalid request: query parameter %s: %q is not an integer", name, v)
	}
	return n, nil
}
