// Package apispec is test support: it loads Neon's api/v2 OpenAPI document
// (shared/reference/neon-openapi-v2.yaml, kept beside the repository and
// never copied into it) and validates HTTP responses against it with
// kin-openapi, so that drift between Grove's wire types and Neon's is caught
// by tests.
//
// The spec is looked up in shared/reference/ of the current directory and
// each of its ancestors, then in /work/shared/reference; the environment
// variable GROVE_NEON_OPENAPI overrides the search with a file path. Tests
// skip with a message when the spec is absent. The document is parsed once
// per process.
//
// Beyond the spec's own rules, validation is strict about unknown fields: a
// response object carrying a property its schema does not declare fails, so
// that a misspelt json tag on an optional field is not silently accepted.
package apispec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SpecFile is the file name of the spec inside shared/reference/.
const SpecFile = "neon-openapi-v2.yaml"

// ServerURL is the server URL of the spec; local paths are mapped onto it.
const ServerURL = "https://console.neon.tech/api/v2"

// EnvSpecPath names the environment variable that overrides the spec's path.
const EnvSpecPath = "GROVE_NEON_OPENAPI"

// errNotFound is returned by findSpec when no spec file exists.
var errNotFound = errors.New("neon api/v2 spec not found")

type loaded struct {
	doc    *openapi3.T
	router routers.Router
	path   string
	err    error
}

var (
	loadOnce sync.Once
	spec     loaded
)

// load parses the spec and builds its router once per process.
func load() loaded {
	loadOnce.Do(func() {
		path, err := findSpec()
		if err != nil {
			spec = loaded{err: err}
			return
		}
		doc, router, err := parse(context.Background(), path)
		spec = loaded{doc: doc, router: router, path: path, err: err}
	})
	return spec
}

// findSpec returns the path of the spec file.
func findSpec() (string, error) {
	if p := os.Getenv(EnvSpecPath); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvSpecPath, p, err)
		}
		return p, nil
	}
	var tried []string
	if dir, err := os.Getwd(); err == nil {
		for {
			p := filepath.Join(dir, "shared", "reference", SpecFile)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			tried = append(tried, p)
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	p := filepath.Join("/work", "shared", "reference", SpecFile)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	tried = append(tried, p)
	return "", fmt.Errorf("%w (set %s or place it in shared/reference/ beside the repository; tried %s)",
		errNotFound, EnvSpecPath, strings.Join(tried, ", "))
}

// parse loads the document at path and builds a router for it.
func parse(ctx context.Context, path string) (*openapi3.T, routers.Router, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load spec %s: %w", path, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("build router for %s: %w", path, err)
	}
	return doc, router, nil
}

// Load returns the parsed spec, skipping the test when the spec file is
// absent and failing it when the file cannot be parsed.
func Load(t testing.TB) *openapi3.T {
	t.Helper()
	return mustLoad(t).doc
}

// Available reports whether the spec was found and parsed, for tests that
// validate against it only when they can instead of skipping.
func Available() bool {
	return load().err == nil
}

func mustLoad(t testing.TB) loaded {
	t.Helper()
	l := load()
	if errors.Is(l.err, errNotFound) {
		t.Skipf("skipping: %v", l.err)
	}
	if l.err != nil {
		t.Fatalf("apispec: %v", l.err)
	}
	return l
}

// Option adjusts response validation.
type Option func(*options)

type options struct {
	allowUnknownFields bool
}

// AllowUnknownFields accepts object properties that the response schema does
// not declare (the spec itself allows them). Use it for responses that
// deliberately carry extensions.
func AllowUnknownFields() Option {
	return func(o *options) { o.allowUnknownFields = true }
}

// ValidateResponse reports through t.Errorf every way in which a response
// differs from the spec: method and path are those of the request (a local
// path such as "/api/v2/projects/x?limit=1" or a spec path such as
// "/projects/x"), status, header and body those of the response. A nil
// header, or one without Content-Type, is taken as application/json.
//
// 2xx and 3xx statuses must be listed for the operation; other statuses may
// fall back to the operation's default response (GeneralError).
func ValidateResponse(t testing.TB, method, path string, status int, header http.Header, body []byte, opts ...Option) {
	t.Helper()
	l := mustLoad(t)
	if err := check(l.router, true, method, path, status, header, body, opts...); err != nil {
		t.Errorf("%s %s → %d does not match the spec:\n%v\nbody: %s", method, path, status, err, truncate(body, 2000))
	}
}

// CheckResponse is like [ValidateResponse] but returns the mismatch as an
// error instead of failing t. It still skips t when the spec is absent.
func CheckResponse(t testing.TB, method, path string, status int, header http.Header, body []byte, opts ...Option) error {
	t.Helper()
	l := mustLoad(t)
	return check(l.router, true, method, path, status, header, body, opts...)
}

func check(router routers.Router, recordHit bool, method, path string, status int, header http.Header, body []byte, opts ...Option) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	u, err := specURL(path)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		return fmt.Errorf("build request %s %s: %w", method, u, err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("find operation for %s %s: %w", method, path, err)
	}
	op := route.Operation
	if status < 400 && op.Responses.Status(status) == nil {
		return fmt.Errorf("status %d is not documented for %s %s (operation %s documents %s)",
			status, method, route.Path, op.OperationID, strings.Join(documented(op), ", "))
	}
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
		},
		Status: status,
		Header: h,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC4122)),
				openapi3.WithStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail)),
			},
		},
	}
	var errs []error
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		errs = append(errs, err)
	}
	if !o.allowUnknownFields && len(body) > 0 {
		if schema := responseSchema(op, status); schema != nil {
			var v any
			if err := json.Unmarshal(body, &v); err == nil {
				for _, p := range unknownFields(schema, v, "$") {
					errs = append(errs, fmt.Errorf("property %s is not declared by the schema", p))
				}
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if recordHit {
		record(Hit{Method: method, Path: route.Path, OperationID: op.OperationID, Status: status})
	}
	return nil
}

// specURL maps a local request path onto the spec's server URL.
func specURL(path string) (string, error) {
	u, err := url.Parse(path)
	if err != nil {
		return "", fmt.Errorf("parse path %q: %w", path, err)
	}
	p := u.EscapedPath()
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if rest, ok := strings.CutPrefix(p, "/api/v2"); ok && (rest == "" || strings.HasPrefix(rest, "/")) {
		p = rest
	}
	s := ServerURL + p
	if u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	return s, nil
}

func documented(op *openapi3.Operation) []string {
	codes := make([]string, 0, op.Responses.Len())
	for code := range op.Responses.Map() {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	return codes
}

// responseSchema returns the JSON schema of the response to op with status.
func responseSchema(op *openapi3.Operation, status int) *openapi3.Schema {
	ref := op.Responses.Status(status)
	if ref == nil {
		ref = op.Responses.Default()
	}
	if ref == nil || ref.Value == nil {
		return nil
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// unknownFields returns the JSON paths of object properties in v that schema
// does not declare. Properties of allOf, anyOf and oneOf members all count
// as declared; objects with additionalProperties are open.
func unknownFields(schema *openapi3.Schema, v any, at string) []string {
	if schema == nil {
		return nil
	}
	switch v := v.(type) {
	case map[string]any:
		props, open := declared(schema)
		var out []string
		for _, k := range sortedKeys(v) {
			child := at + "." + k
			sub, ok := props[k]
			switch {
			case ok:
				for _, s := range sub {
					out = append(out, unknownFields(s, v[k], child)...)
				}
			case len(open) > 0:
				for _, s := range open {
					out = append(out, unknownFields(s, v[k], child)...)
				}
			case !hasFreeForm(schema):
				out = append(out, child)
			}
		}
		return out
	case []any:
		items := itemSchemas(schema)
		var out []string
		for i, e := range v {
			for _, s := range items {
				out = append(out, unknownFields(s, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
		return out
	}
	return nil
}

// declared collects the property schemas of schema and its composition
// members, and the schemas of their additionalProperties.
func declared(schema *openapi3.Schema) (props map[string][]*openapi3.Schema, open []*openapi3.Schema) {
	props = map[string][]*openapi3.Schema{}
	var walk func(s *openapi3.Schema)
	walk = func(s *openapi3.Schema) {
		if s == nil {
			return
		}
		for k, ref := range s.Properties {
			if ref != nil && ref.Value != nil {
				props[k] = append(props[k], ref.Value)
			}
		}
		if ap := s.AdditionalProperties.Schema; ap != nil && ap.Value != nil {
			open = append(open, ap.Value)
		}
		for _, group := range [][]*openapi3.SchemaRef{s.AllOf, s.AnyOf, s.OneOf} {
			for _, ref := range group {
				if ref != nil {
					walk(ref.Value)
				}
			}
		}
	}
	walk(schema)
	return props, open
}

// hasFreeForm reports whether schema (or a member) accepts any property: an
// object without declared properties or with additionalProperties: true.
func hasFreeForm(schema *openapi3.Schema) bool {
	if schema == nil {
		return false
	}
	if has := schema.AdditionalProperties.Has; has != nil && *has {
		return true
	}
	members := slices.Concat(schema.AllOf, schema.AnyOf, schema.OneOf)
	if len(schema.Properties) == 0 && schema.AdditionalProperties.Schema == nil && len(members) == 0 {
		return true
	}
	for _, ref := range members {
		if ref != nil && hasFreeForm(ref.Value) {
			return true
		}
	}
	return false
}

func itemSchemas(schema *openapi3.Schema) []*openapi3.Schema {
	var out []*openapi3.Schema
	if schema.Items != nil && schema.Items.Value != nil {
		out = append(out, schema.Items.Value)
	}
	for _, ref := range slices.Concat(schema.AllOf, schema.AnyOf, schema.OneOf) {
		if ref != nil && ref.Value != nil {
			out = append(out, itemSchemas(ref.Value)...)
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
