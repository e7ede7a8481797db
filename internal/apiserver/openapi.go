package apiserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grovedb/grove/apitypes"
)

// The API description Grove serves at /api/v2/openapi.json and
// /api/v2/openapi.yaml is generated from Grove itself, never copied from
// Neon's document: the paths are the routes registered with handle, the
// operation metadata comes from the opDocs table (openapi_ops.go, using
// Neon's operationIds so that generated clients recognise them), and the
// schemas are derived by reflection from the apitypes structs.

// Routes returns the routes registered on s as "METHOD /path" patterns,
// paths relative to /api/v2, in registration order.
func (s *Server) Routes() []string {
	return slices.Clone(s.patterns)
}

// handlePublic registers a handler that needs no API key.
func (s *Server) handlePublic(pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.mux.Handle(method+" /api/v2"+path, h)
}

// openAPIVersion is the version of the OpenAPI format served.
const openAPIVersion = "3.0.3"

// opDoc describes one operation of the API description.
type opDoc struct {
	id      string // Neon's operationId
	tag     string
	summary string
	query   []queryParam
	request reflect.Type // body type; nil when the operation takes none
	// optionalBody marks a request body that may be empty.
	optionalBody bool
	status       int          // success status
	response     reflect.Type // success body type; nil for none
	// goneNoContent documents 204 without a body, the answer of a delete
	// whose resource does not exist or is already deleted.
	goneNoContent bool
}

// queryParam is a query parameter of an operation. typ is "string",
// "integer", "boolean" or "array" (of strings, repeated or comma-separated).
type queryParam struct {
	name, typ, desc string
	required        bool
}

func q(name, typ, desc string) queryParam { return queryParam{name: name, typ: typ, desc: desc} }

func qRequired(name, typ, desc string) queryParam {
	return queryParam{name: name, typ: typ, desc: desc, required: true}
}

// pathParamTypes gives the schema of path parameters that are not strings.
var pathParamTypes = map[string]map[string]any{
	"key_id": {"type": "integer", "format": "int64"},
}

var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// openAPIDocument returns the API description of the routes registered on
// s as a tree of maps, slices and scalars.
func (s *Server) openAPIDocument() map[string]any {
	sc := newSchemas()
	paths := map[string]any{}
	for _, pattern := range s.patterns {
		method, path, _ := strings.Cut(pattern, " ")
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		item[strings.ToLower(method)] = operationObject(pattern, path, opDocs[pattern], sc)
	}
	return map[string]any{
		"openapi": openAPIVersion,
		"info": map[string]any{
			"title":       "Grove API",
			"version":     "2",
			"description": "Grove's control API, wire-compatible with Neon's api/v2 for the operations listed here. docs/compat.md lists every operation of Neon's API with its status in Grove.",
		},
		"servers":  []any{map[string]any{"url": "/api/v2"}},
		"security": []any{map[string]any{"BearerAuth": []any{}}},
		"paths":    paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"BearerAuth": map[string]any{"type": "http", "scheme": "bearer", "description": "A personal, organization or project API key."},
			},
			"schemas": sc.defs,
		},
	}
}

// operationObject renders one operation. A route without an entry in
// opDocs still gets an operation, with an id made from its pattern.
func operationObject(pattern, path string, d opDoc, sc *schemas) map[string]any {
	if d.id == "" {
		d.id = fallbackOperationID(pattern)
	}
	if d.status == 0 {
		d.status = http.StatusOK
	}
	op := map[string]any{"operationId": d.id}
	if d.tag != "" {
		op["tags"] = []any{d.tag}
	}
	if d.summary != "" {
		op["summary"] = d.summary
	}
	var params []any
	for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
		schema := pathParamTypes[m[1]]
		if schema == nil {
			schema = map[string]any{"type": "string"}
		}
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": schema})
	}
	for _, qp := range d.query {
		p := map[string]any{"name": qp.name, "in": "query", "required": qp.required}
		if qp.desc != "" {
			p["description"] = qp.desc
		}
		switch qp.typ {
		case "array":
			p["schema"] = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
			p["style"] = "form"
			p["explode"] = true
		default:
			p["schema"] = map[string]any{"type": qp.typ}
		}
		params = append(params, p)
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if d.request != nil {
		op["requestBody"] = map[string]any{
			"required": !d.optionalBody,
			"content":  map[string]any{"application/json": map[string]any{"schema": sc.of(d.request)}},
		}
	}
	ok := map[string]any{"description": http.StatusText(d.status)}
	if d.response != nil {
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": sc.of(d.response)}}
	}
	responses := map[string]any{
		strconv.Itoa(d.status): ok,
		"default": map[string]any{
			"description": "Error: Neon's error body, with the status giving its kind.",
			"content":     map[string]any{"application/json": map[string]any{"schema": sc.of(reflect.TypeFor[apitypes.GeneralError]())}},
		},
	}
	if d.goneNoContent {
		responses[strconv.Itoa(http.StatusNoContent)] = map[string]any{"description": "The resource does not exist or is already deleted."}
	}
	op["responses"] = responses
	return op
}

// fallbackOperationID makes an operation id from a route pattern, e.g.
// "GET /projects/{project_id}/x" → "getProjectsProjectIdX".
func fallbackOperationID(pattern string) string {
	var b strings.Builder
	upper := false
	for i, r := range strings.ToLower(pattern) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if upper && i > 0 {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			upper = false
		default:
			upper = true
		}
	}
	return b.String()
}

// schemas derives JSON schemas from Go types; named struct types become
// components referenced by $ref.
type schemas struct {
	defs  map[string]any
	names map[reflect.Type]string
}

func newSchemas() *schemas {
	return &schemas{defs: map[string]any{}, names: map[reflect.Type]string{}}
}

var (
	apiTimeType = reflect.TypeFor[apitypes.Time]()
	timeType    = reflect.TypeFor[time.Time]()
)

// of returns the schema of t.
func (sc *schemas) of(t reflect.Type) map[string]any {
	switch {
	case t == apiTimeType || t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.Pointer:
		return sc.of(t.Elem())
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int64, reflect.Int, reflect.Uint64, reflect.Uint:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Int32, reflect.Int16, reflect.Int8, reflect.Uint32, reflect.Uint16, reflect.Uint8:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Float64:
		return map[string]any{"type": "number", "format": "double"}
	case reflect.Float32:
		return map[string]any{"type": "number", "format": "float"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": sc.of(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": sc.of(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return sc.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + sc.component(t)}
	}
	return map[string]any{} // interfaces: any value
}

// component registers the named struct t and returns its component name.
func (sc *schemas) component(t reflect.Type) string {
	if name, ok := sc.names[t]; ok {
		return name
	}
	name := t.Name()
	for i := 2; sc.defs[name] != nil; i++ {
		name = fmt.Sprintf("%s%d", t.Name(), i)
	}
	sc.names[t] = name
	sc.defs[name] = map[string]any{} // placeholder for recursive types
	sc.defs[name] = sc.object(t)
	return name
}

// object renders a struct as the JSON object encoding/json makes of it:
// fields by their json names, embedded structs flattened; fields without
// omitempty or omitzero are required, pointers without them nullable.
func (sc *schemas) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []any
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
					continue
				}
			}
			if name == "" {
				name = f.Name
			}
			omit := false
			for _, o := range strings.Split(opts, ",") {
				omit = omit || o == "omitempty" || o == "omitzero"
			}
			schema := sc.of(f.Type)
			if f.Type.Kind() == reflect.Pointer && !omit {
				if _, isRef := schema["$ref"]; isRef {
					schema = map[string]any{"allOf": []any{schema}}
				}
				schema["nullable"] = true
			}
			props[name] = schema
			if !omit {
				required = append(required, name)
			}
		}
	}
	walk(t)
	obj := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		obj["required"] = required
	}
	return obj
}

// serveOpenAPI registers the unauthenticated description routes. The
// document is built at the first request, when every area has registered
// its routes.
func (s *Server) serveOpenAPI() {
	render := sync.OnceValues(func() ([]byte, []byte) {
		doc := s.openAPIDocument()
		j, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			panic(fmt.Sprintf("render API description: %v", err)) // only maps, slices and scalars
		}
		return append(j, '\n'), appendYAML(nil, doc, 0)
	})
	s.handlePublic("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		j, _ := render()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(j)
	})
	s.handlePublic("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		_, y := render()
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		_, _ = w.Write(y)
	})
}

// appendYAML renders v (maps with string keys, slices and scalars) as
// block-style YAML. Strings are always double-quoted with JSON's escapes,
// which YAML 1.2 reads the same way; map keys are sorted.
func appendYAML(b []byte, v any, indent int) []byte {
	pad := strings.Repeat("  ", indent)
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			return append(b, "{}\n"...)
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 || len(b) == 0 || b[len(b)-1] == '\n' {
				b = append(b, pad...)
			}
			b = appendYAMLKey(b, k)
			b = append(b, ':')
			b = appendYAMLValue(b, v[k], indent+1)
		}
		return b
	case []any:
		if len(v) == 0 {
			return append(b, "[]\n"...)
		}
		for i, e := range v {
			if i > 0 || len(b) == 0 || b[len(b)-1] == '\n' {
				b = append(b, pad...)
			}
			b = append(b, "- "...)
			if isCollection(e) && !isEmptyCollection(e) {
				b = appendYAML(b, e, indent+1)
			} else {
				b = appendYAMLScalar(b, e)
				b = append(b, '\n')
			}
		}
		return b
	}
	b = appendYAMLScalar(b, v)
	return append(b, '\n')
}

// appendYAMLValue writes the value of a mapping entry after "key:".
func appendYAMLValue(b []byte, v any, indent int) []byte {
	if isCollection(v) && !isEmptyCollection(v) {
		b = append(b, '\n')
		return appendYAML(b, v, indent)
	}
	b = append(b, ' ')
	return appendYAML(b, v, indent)
}

// plainKeyRE matches map keys that YAML reads as strings without quotes.
var plainKeyRE = regexp.MustCompile(`^(?:[A-Za-z_][A-Za-z0-9_.-]*|/[A-Za-z0-9_./{}-]*)$`)

// appendYAMLKey writes a map key, quoted unless it is plainly a string.
func appendYAMLKey(b []byte, k string) []byte {
	switch strings.ToLower(k) {
	case "true", "false", "null", "yes", "no", "on", "off", "y", "n":
	default:
		if plainKeyRE.MatchString(k) {
			return append(b, k...)
		}
	}
	return appendYAMLScalar(b, k)
}

func isCollection(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

func isEmptyCollection(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	}
	return false
}

func appendYAMLScalar(b []byte, v any) []byte {
	switch v := v.(type) {
	case map[string]any:
		return append(b, "{}"...) // only empty collections reach here
	case []any:
		return append(b, "[]"...)
	case nil:
		return append(b, "null"...)
	case string:
		j, _ := json.Marshal(v)
		return append(b, j...)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case float64:
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	j, _ := json.Marshal(v)
	return append(b, j...)
}
