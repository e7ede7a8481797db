package apiserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/grovedb/grove/internal/apispec"
)

// served fetches path from s without an API key.
func served(t *testing.T, s *Server, path string) (*http.Response, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	resp := rec.Result()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, rec.Body.String())
	}
	return resp, rec.Body.Bytes()
}

// loadDoc parses and validates an OpenAPI document with kin-openapi.
func loadDoc(t *testing.T, data []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatalf("load served document: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("served document is not valid OpenAPI: %v", err)
	}
	return doc
}

func TestOpenAPIServed(t *testing.T) {
	s := New(Config{})
	var docs []*openapi3.T
	for _, tt := range []struct{ path, contentType string }{
		{"/api/v2/openapi.json", "application/json"},
		{"/api/v2/openapi.yaml", "application/yaml"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := served(t, s, tt.path)
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type %q, want %s", ct, tt.contentType)
			}
			doc := loadDoc(t, body)
			if doc.OpenAPI != openAPIVersion {
				t.Errorf("openapi %q, want %s", doc.OpenAPI, openAPIVersion)
			}
			docs = append(docs, doc)
		})
	}
	if len(docs) != 2 {
		return
	}
	j, _ := json.Marshal(docs[0])
	y, _ := json.Marshal(docs[1])
	if string(j) != string(y) {
		t.Errorf("the YAML and JSON documents differ:\njson %s\nyaml %s", j, y)
	}
}

// TestOpenAPIRoutes: every registered route is in the document, with its
// entry in opDocs and Neon's operationId, and nothing else is.
func TestOpenAPIRoutes(t *testing.T) {
	s := New(Config{})
	_, body := served(t, s, "/api/v2/openapi.json")
	doc := loadDoc(t, body)
	routes := s.Routes()
	if len(routes) == 0 {
		t.Fatal("no routes registered")
	}
	var neon *openapi3.T
	if apispec.Available() {
		neon = apispec.Load(t)
	} else {
		t.Log("Neon's spec not found beside the repository; operation ids not compared")
	}
	described := 0
	for _, item := range doc.Paths.Map() {
		described += len(item.Operations())
	}
	if described != len(routes) {
		t.Errorf("document has %d operations, server registers %d routes", described, len(routes))
	}
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("registered route %s is not in the document", route)
			continue
		}
		d, ok := opDocs[route]
		if !ok {
			t.Errorf("registered route %s has no entry in opDocs (openapi_ops.go)", route)
			continue
		}
		op := item.GetOperation(method)
		if op.OperationID != d.id {
			t.Errorf("%s: operationId %q, want %q", route, op.OperationID, d.id)
		}
		if d.response == nil && d.status != http.StatusNoContent {
			t.Errorf("%s: opDocs entry names no response type", route)
		}
		if neon == nil {
			continue
		}
		nop := neonOperation(neon, method, path)
		if nop == nil {
			t.Errorf("%s is not an operation of Neon's spec", route)
			continue
		}
		if nop.OperationID != d.id {
			t.Errorf("%s: operationId %q, Neon's is %q", route, d.id, nop.OperationID)
		}
		for code := range op.Responses.Map() {
			if nop.Responses.Value(code) == nil {
				t.Errorf("%s: documents status %s, which Neon's operation does not", route, code)
			}
		}
		for code := range nop.Responses.Map() {
			if strings.HasPrefix(code, "2") && op.Responses.Value(code) == nil {
				t.Errorf("%s: does not document status %s, which Neon's operation does", route, code)
			}
		}
	}
}

var paramRE = regexp.MustCompile(`\{[^}]*\}`)

// neonOperation finds the operation of Neon's spec for method and a path
// template, whatever its parameters are named.
func neonOperation(neon *openapi3.T, method, path string) *openapi3.Operation {
	want := paramRE.ReplaceAllString(path, "{}")
	for p, item := range neon.Paths.Map() {
		if paramRE.ReplaceAllString(p, "{}") == want {
			return item.GetOperation(method)
		}
	}
	return nil
}

// TestOpenAPISchemas: the reflection follows encoding/json.
func TestOpenAPISchemas(t *testing.T) {
	type inner struct {
		A string `json:"a"`
	}
	type Embedded struct {
		E int32 `json:"e"`
	}
	type sample struct {
		Embedded
		Req    string            `json:"req"`
		Opt    string            `json:"opt,omitempty"`
		Zero   inner             `json:"zero,omitzero"`
		Null   *inner            `json:"null"`
		Ptr    *bool             `json:"ptr,omitempty"`
		Skip   string            `json:"-"`
		Map    map[string]string `json:"map"`
		Floats []float64         `json:"floats"`
	}
	sc := newSchemas()
	ref := sc.of(typeOf[sample]())
	if ref["$ref"] != "#/components/schemas/sample" {
		t.Fatalf("named struct not a component: %v", ref)
	}
	obj := sc.defs["sample"].(map[string]any)
	props := obj["properties"].(map[string]any)
	var names []string
	for k := range props {
		names = append(names, k)
	}
	slices.Sort(names)
	if want := []string{"e", "floats", "map", "null", "opt", "ptr", "req", "zero"}; !slices.Equal(names, want) {
		t.Errorf("properties %v, want %v", names, want)
	}
	var req []string
	for _, r := range obj["required"].([]any) {
		req = append(req, r.(string))
	}
	slices.Sort(req)
	if want := []string{"e", "floats", "map", "null", "req"}; !slices.Equal(req, want) {
		t.Errorf("required %v, want %v", req, want)
	}
	if n := props["null"].(map[string]any); n["nullable"] != true || n["allOf"] == nil {
		t.Errorf("nullable pointer: %v", n)
	}
	if e := props["e"].(map[string]any); e["format"] != "int32" {
		t.Errorf("embedded int32 field: %v", e)
	}
	if tm := sc.of(typeOf[struct {
		T any `json:"t"`
	}]()); tm["type"] != "object" {
		t.Errorf("anonymous struct inlined: %v", tm)
	}
}

func TestAppendYAML(t *testing.T) {
	in := map[string]any{
		"b": []any{map[string]any{"x": 1, "y": "two"}, "s", []any{}},
		"a": map[string]any{},
		"c": map[string]any{"d": true, "e": "quote \" and\nnewline: ok"},
	}
	want := `a: {}
b:
  - x: 1
    "y": "two"
  - "s"
  - []
c:
  d: true
  e: "quote \" and\nnewline: ok"
`
	if got := string(appendYAML(nil, in, 0)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestFallbackOperationID(t *testing.T) {
	if got := fallbackOperationID("GET /projects/{project_id}/x_y"); got != "getProjectsProjectIdXY" {
		t.Errorf("got %q", got)
	}
}
