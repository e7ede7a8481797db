// Package dataapi serves the Data API: PostgREST's REST interface over a
// branch database, on the data plane. A request is routed to its endpoint
// and database, its JWT verified, its URL turned into one statement, and
// that statement run as the token's role in one transaction on a pooled
// connection logged in as "authenticator".
package dataapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/grovedb/grove/internal/computepool"
	"github.com/grovedb/grove/internal/dataapi/apierr"
	"github.com/grovedb/grove/internal/dataapi/jwtauth"
	"github.com/grovedb/grove/internal/dataapi/query"
	"github.com/grovedb/grove/internal/dataapi/sqlgen"
	"github.com/grovedb/grove/internal/dataapispec"
	"github.com/grovedb/grove/internal/egress"
	"github.com/grovedb/grove/internal/proxy"
)

// Defaults of Config.
const (
	DefaultMaxRequestBytes  = 10 << 20
	DefaultMaxResponseBytes = 10 << 20
	DefaultMaxConns         = 90
	DefaultConnectTimeout   = 2 * time.Minute
)

// The role the data plane logs in as; the request's role is set per
// transaction.
const authenticator = "authenticator"

// Config configures a Handler.
type Config struct {
	// Backend wakes computes and counts client activity, as for the proxy.
	Backend proxy.Backend
	// Lookup returns a database's Data API configuration; an error wraps
	// dataapispec.ErrNotEnabled or proxy.ErrUnknownEndpoint when absent.
	Lookup func(ctx context.Context, endpointID, database string) (dataapispec.Served, error)
	// Pool is shared with SQL over HTTP, so that both stay within one
	// connection budget per endpoint.
	Pool     *computepool.Pool
	MaxConns func(endpointID string) int
	Verifier *jwtauth.Verifier
	// Domain is the proxy's domain ("" = none): with one, requests reach
	// <endpoint>.apirest.<region>.<domain>/<database>/rest/v1/….
	Domain          string
	Logger          *slog.Logger
	MaxRequestBytes int
	// MaxResponseBytes bounds a response body, as Neon's (507 past it).
	MaxResponseBytes int
	ConnectTimeout   time.Duration
}

// Handler serves Data API requests.
type Handler struct {
	cfg    Config
	log    *slog.Logger
	caches *caches

	egress egress.Counter
}

// New returns a handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Backend == nil || cfg.Lookup == nil || cfg.Pool == nil || cfg.Verifier == nil {
		return nil, errors.New("dataapi: Backend, Lookup, Pool and Verifier are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	h := &Handler{cfg: cfg, log: cfg.Logger}
	h.caches = newCaches(h)
	return h, nil
}

// Close stops watching databases for schema changes.
func (h *Handler) Close() { h.caches.closeAll() }

// Drop forgets an endpoint's schema caches; the next request loads them
// again.
func (h *Handler) Drop(endpointID string) { h.caches.drop(endpointID) }

// Egress returns the response bytes sent per endpoint since start.
func (h *Handler) Egress() map[string]int64 { return h.egress.Totals() }

// route is where a request goes: its endpoint, database and the path
// under /rest/v1.
type route struct {
	endpoint, database, rest string
}

// Route reads a request's endpoint, database and resource path, from the
// host name when it is under the domain's apirest hosts, else from the
// first path segment. ok is false for requests that are not the Data
// API's.
func (h *Handler) Route(r *http.Request) (route, bool) {
	path := r.URL.EscapedPath()
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	var endpoint string
	if h.cfg.Domain != "" && strings.HasSuffix(host, "."+h.cfg.Domain) {
		if first, rest, ok := strings.Cut(host, "."); ok && strings.HasPrefix(rest, "apirest.") {
			endpoint = first
		}
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if endpoint == "" {
		if len(segs) < 4 {
			return route{}, false
		}
		endpoint, segs = segs[0], segs[1:]
	}
	// <database>/rest/v1[/resource…]
	if len(segs) < 3 || segs[1] != "rest" || segs[2] != "v1" {
		return route{}, false
	}
	rt := route{endpoint: endpoint, database: segs[0]}
	rest := "/" + strings.Join(segs[3:], "/")
	var err error
	if rt.rest, err = unescape(rest); err != nil {
		return route{}, false
	}
	if rt.database, err = unescape(rt.database); err != nil {
		return route{}, false
	}
	return rt, true
}

func unescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	return url.PathUnescape(s)
}

// ServeHTTP serves one request under …/rest/v1.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, ok := h.Route(r)
	if !ok {
		writeJSON(w, http.StatusNotFound, []byte(`{"message":"not found"}`))
		return
	}
	served, err := h.cfg.Lookup(r.Context(), rt.endpoint, rt.database)
	if err != nil {
		h.writeLookupError(w, rt, err)
		return
	}
	if h.cors(w, r, served) {
		return
	}
	resp, err := h.serve(r, rt, served)
	if err != nil {
		h.writeError(w, r, rt.endpoint, err)
		return
	}
	for k, v := range resp.headers {
		w.Header().Set(k, v)
	}
	if len(resp.body) > 0 || resp.contentType != "" {
		w.Header().Set("Content-Type", resp.contentType)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(resp.body)))
	w.WriteHeader(resp.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(resp.body)
		h.egress.Add(rt.endpoint, len(resp.body))
	}
}

func (h *Handler) writeLookupError(w http.ResponseWriter, rt route, err error) {
	switch {
	case errors.Is(err, dataapispec.ErrNotEnabled), errors.Is(err, proxy.ErrUnknownEndpoint):
		writeJSON(w, http.StatusNotFound, []byte(`{"message":"the Data API is not enabled on this endpoint"}`))
	default:
		h.log.Error("data api: lookup failed", "endpoint", rt.endpoint, "database", rt.database, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, (&apierr.Error{Code: "PGRST000",
			Message: "Database client error. Retrying the connection."}).Body())
	}
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError answers with PostgREST's error body and status.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, endpoint string, err error) {
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		h.log.Error("data api: request failed", "endpoint", endpoint, "err", err)
		ae = &apierr.Error{Status: http.StatusInternalServerError, Code: "PGRST000", Message: "Internal error"}
	} else if ae.Status >= 500 {
		h.log.Warn("data api: request failed", "endpoint", endpoint, "code", ae.Code, "err", ae)
	}
	// PostgREST names an error's code in Proxy-Status, unless the error
	// says otherwise (an empty header value drops it).
	if ae.Code != "" {
		w.Header().Set("Proxy-Status", "PostgREST; error="+ae.Code)
	}
	for k, v := range ae.Headers {
		if v == "" {
			w.Header().Del(k)
			continue
		}
		w.Header().Set(k, v)
	}
	body := ae.Body()
	h.egress.Add(endpoint, len(body))
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(ae.Status)
		return
	}
	writeJSON(w, ae.Status, body)
}

// cors answers a preflight and sets the allowed origin on any other
// request, as Neon's Data API does; it reports whether it answered.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request, s dataapispec.Served) bool {
	origin := r.Header.Get("Origin")
	allowed := origin != "" && (len(s.CORSOrigins) == 0 || containsString(s.CORSOrigins, origin))
	// A preflight names the method it asks for; any other OPTIONS is a
	// request for the resource's methods, served like the rest.
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if !preflight {
		if allowed {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Expose-Headers", exposeHeaders)
		}
		return false
	}
	if allowed {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PATCH, PUT, DELETE, OPTIONS")
		w.Header().Set("Access-Control-Max-Age", "86400")
		reqHeaders := r.Header.Get("Access-Control-Request-Headers")
		if reqHeaders != "" {
			reqHeaders += ", "
		}
		w.Header().Set("Access-Control-Allow-Headers", reqHeaders+"Authorization")
		w.Header().Set("Access-Control-Expose-Headers", exposeHeaders)
	}
	w.Header().Set("Allow", "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE")
	w.WriteHeader(http.StatusOK)
	return true
}

const exposeHeaders = "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, Transfer-Encoding, Range-Unit"

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// response is what a request answers.
type response struct {
	status      int
	contentType string
	headers     map[string]string
	body        []byte
}

// identity is who the request runs as.
type identity struct {
	role   string
	claims []byte
	token  bool // a JWT was presented
}

// authenticate verifies the request's bearer token, if any.
func (h *Handler) authenticate(r *http.Request, s dataapispec.Served) (identity, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if s.AnonRole == "" {
			return identity{}, &apierr.Error{Status: http.StatusUnauthorized, Code: "PGRST302",
				Message: "Anonymous access is disabled", Headers: map[string]string{"WWW-Authenticate": "Bearer"}}
		}
		claims, _ := json.Marshal(map[string]string{"role": s.AnonRole})
		return identity{role: s.AnonRole, claims: claims}, nil
	}
	scheme, token, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(token) == "" {
		return identity{}, &apierr.Error{Status: http.StatusUnauthorized, Code: "PGRST301",
			Message: "required authorization bearer token in JWT format",
			Headers: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token", error_description="required authorization bearer token in JWT format"`}}
	}
	keys := jwtauth.Keys{URL: s.JWKSURL, Inline: s.JWKS}
	if s.JWKSURL != "" {
		keys.Inline = nil
	}
	res, err := h.cfg.Verifier.Verify(r.Context(), strings.TrimSpace(token), keys,
		jwtauth.Rules{Audience: s.Audience, Issuer: s.Issuer, RoleClaimKey: s.RoleClaimKey, CacheSeconds: s.JWTCacheSeconds})
	if err != nil {
		return identity{}, err
	}
	role := res.Role
	if role == "" {
		if s.AnonRole == "" {
			return identity{}, &apierr.Error{Status: http.StatusUnauthorized, Code: "PGRST302",
				Message: "Anonymous access is disabled", Headers: map[string]string{"WWW-Authenticate": "Bearer"}}
		}
		role = s.AnonRole
	}
	claims := res.Claims
	if res.Role == "" || (s.RoleClaimKey != "" && s.RoleClaimKey != ".role" && s.RoleClaimKey != "$.role") {
		// Only then may the top-level role differ from the request's (the
		// common case needs no rewrite of the claims).
		claims = withRole(claims, role)
	}
	return identity{role: role, claims: claims, token: true}, nil
}

// withRole sets the claims' role member to the role the request runs as
// (the anonymous role, or one found under a custom claim key), as
// PostgREST does for request.jwt.claims.
func withRole(claims []byte, role string) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(claims, &m) != nil || m == nil {
		return claims
	}
	r, _ := json.Marshal(role)
	if string(m["role"]) == string(r) {
		return claims
	}
	m["role"] = r
	out, err := json.Marshal(m)
	if err != nil {
		return claims
	}
	return out
}

// profile is the schema a request addresses: Accept-Profile for reads,
// Content-Profile for writes, else the first exposed schema.
func profile(r *http.Request, s dataapispec.Served) (string, bool, error) {
	hdr := "Accept-Profile"
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr = "Content-Profile"
	}
	p := r.Header.Get(hdr)
	if p == "" {
		return s.Schemas[0], false, nil
	}
	if !containsString(s.Schemas, p) {
		return "", false, &apierr.Error{Status: http.StatusNotAcceptable, Code: "PGRST106",
			Message: "Invalid schema: " + p, Hint: "Only the following schemas are exposed: " + strings.Join(s.Schemas, ", ")}
	}
	return p, true, nil
}

// accepted is the response's media type, from Accept.
type accepted struct {
	media      string
	stripNulls bool // ;nulls=stripped
}

// media picks the response's media type from Accept: the first it can
// serve, in the order given.
func media(r *http.Request) (accepted, error) {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return accepted{media: sqlgen.MediaJSON}, nil
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		strip := strings.Contains(strings.ReplaceAll(strings.ToLower(params), " ", ""), "nulls=stripped")
		switch strings.ToLower(strings.TrimSpace(mt)) {
		case "application/json", "*/*", "application/*":
			return accepted{media: sqlgen.MediaJSON}, nil
		case mediaArray:
			return accepted{media: sqlgen.MediaJSON, stripNulls: strip}, nil
		case sqlgen.MediaObject:
			return accepted{media: sqlgen.MediaObject, stripNulls: strip}, nil
		case sqlgen.MediaCSV, "text/*":
			return accepted{media: sqlgen.MediaCSV}, nil
		}
	}
	return accepted{}, &apierr.Error{Status: http.StatusNotAcceptable, Code: "PGRST107",
		Message: "None of these media types are available: " + accept}
}

// mediaArray is PostgREST's name for a JSON array, asked for with
// nulls=stripped.
const mediaArray = "application/vnd.pgrst.array+json"

// readBody reads the request body within the limit, converting CSV and
// form bodies to JSON.
func (h *Handler) readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(h.cfg.MaxRequestBytes)+1))
	if err != nil {
		return nil, &apierr.Error{Status: http.StatusBadRequest, Code: "PGRST102", Message: "Empty or invalid json", Err: err}
	}
	if len(b) > h.cfg.MaxRequestBytes {
		return nil, apierr.New(http.StatusRequestEntityTooLarge, "PGRST413", "request body too large")
	}
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	switch strings.ToLower(strings.TrimSpace(ct)) {
	case "text/csv":
		return csvToJSON(b)
	case "application/x-www-form-urlencoded":
		return formToJSON(b)
	}
	return b, nil
}

// parseRange reads Range: a-b (items).
func parseRange(r *http.Request) (query.Range, bool, error) {
	v := r.Header.Get("Range")
	if v == "" || r.Method != http.MethodGet {
		return query.Range{}, false, nil
	}
	v = strings.TrimPrefix(strings.TrimSpace(v), "items=")
	from, to, ok := strings.Cut(v, "-")
	f, err := strconv.ParseInt(strings.TrimSpace(from), 10, 64)
	if !ok || err != nil || f < 0 {
		return query.Range{}, false, nil
	}
	if strings.TrimSpace(to) == "" {
		return query.Range{Offset: f}, true, nil
	}
	t, err := strconv.ParseInt(strings.TrimSpace(to), 10, 64)
	if err != nil {
		return query.Range{}, false, nil
	}
	if t < f {
		return query.Range{}, false, &apierr.Error{Status: http.StatusRequestedRangeNotSatisfiable, Code: "PGRST103",
			Message: "Requested range not satisfiable", Details: "The lower boundary must be lower than or equal to the upper boundary in the Range header."}
	}
	return query.Range{Offset: f, Limit: t - f + 1, HasLimit: true}, true, nil
}
