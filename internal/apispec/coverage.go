package apispec

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Hit is a response that passed validation: the spec operation it answered
// (method and the spec's templated path, e.g. "/projects/{project_id}") and
// its status.
type Hit struct {
	Method      string
	Path        string
	OperationID string
	Status      int
}

var hits struct {
	mu   sync.Mutex
	list []Hit
}

func record(h Hit) {
	hits.mu.Lock()
	hits.list = append(hits.list, h)
	hits.mu.Unlock()
}

// Hits returns the responses validated without a mismatch so far in this
// process, in order. A test measures its own coverage by taking
// len(Hits()) when it starts and reading Hits()[n:] at its end.
func Hits() []Hit {
	hits.mu.Lock()
	defer hits.mu.Unlock()
	return append([]Hit(nil), hits.list...)
}

// Doc is an OpenAPI document other than Neon's, such as the description
// Grove serves, against which responses are validated the same way.
type Doc struct {
	router routers.Router
}

// ParseDoc parses and validates an OpenAPI document. Its servers are
// replaced by [ServerURL], so that paths map onto it as onto Neon's.
func ParseDoc(ctx context.Context, data []byte) (*Doc, error) {
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load document: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("validate document: %w", err)
	}
	doc.Servers = openapi3.Servers{{URL: ServerURL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("build router: %w", err)
	}
	return &Doc{router: router}, nil
}

// CheckResponse is [CheckResponse] against d; it records no [Hit].
func (d *Doc) CheckResponse(method, path string, status int, header http.Header, body []byte, opts ...Option) error {
	return check(d.router, false, method, path, status, header, body, opts...)
}
