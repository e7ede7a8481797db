package apiserver

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/grovedb/grove/internal/accounts"
)

// The endings of the messages of requests refused by refuseBadText.
const (
	nulNotAllowed = "the NUL character (U+0000) is not allowed"
	notUTF8       = "not valid UTF-8"
)

// refuseBadText wraps the handler of the route pattern so that a request
// carrying a string Postgres cannot store as text — one holding U+0000, or
// bytes that are not UTF-8 — in a path parameter, in a query parameter's
// name or value or in its JSON body is answered 400 before the handler reads
// it. Without it such a string fails deep in the platform as an internal
// error; checking here covers every route, whichever parameters its handler
// reads.
func refuseBadText(pattern string, h handler) handler {
	_, path, _ := strings.Cut(pattern, " ")
	var params []string
	for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
		params = append(params, m[1])
	}
	return func(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
		if err := checkText(r, params); err != nil {
			return err
		}
		return h(w, r, pr)
	}
}

// textProblem returns what is wrong with s as text, or "".
func textProblem(s string) string {
	switch {
	case strings.ContainsRune(s, 0):
		return nulNotAllowed
	case !utf8.ValidString(s):
		return notUTF8
	}
	return ""
}

// checkText returns a decodeError naming the first place of r, with the
// path parameters params, that holds a string Postgres cannot store. It
// reads the body and puts back what it read, for decode.
func checkText(r *http.Request, params []string) error {
	for _, name := range params {
		if p := textProblem(r.PathValue(name)); p != "" {
			return badRequest("invalid request: path parameter %s: %s", name, p)
		}
	}
	query := r.URL.Query()
	for _, name := range slices.Sorted(maps.Keys(query)) {
		if p := textProblem(name); p != "" {
			return badRequest("invalid request: query parameter %q: %s", name, p)
		}
		for _, v := range query[name] {
			if p := textProblem(v); p != "" {
				return badRequest("invalid request: query parameter %s: %s", name, p)
			}
		}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return badRequest("invalid request: read body: %v", err)
	}
	// encoding/json would turn bytes that are not UTF-8 into U+FFFD in the
	// strings it decodes, but not in the json.RawMessage fields kept as
	// they came.
	if !utf8.Valid(body) {
		return badRequest("invalid request: decode application/json: %s", notUTF8)
	}
	// JSON spells U+0000 only as \u0000 (a raw 0x00 byte is a syntax error
	// that decode reports); decoding tells it from an escaped backslash
	// followed by "u0000".
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return nil
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil // not JSON: decode says why
	}
	if at, ok := nulIn(v, ""); ok {
		if at == "" {
			at = "body" // the body is a bare string
		}
		return badRequest("invalid request: decode application/json: %s: %s", at, nulNotAllowed)
	}
	return nil
}

// nulIn reports the JSON path (e.g. "project.branch.name", "project_ids[0]")
// of the first string or object key in v, in key order, that holds U+0000.
func nulIn(v any, at string) (string, bool) {
	switch v := v.(type) {
	case string:
		return at, strings.ContainsRune(v, 0)
	case []any:
		for i, e := range v {
			if p, ok := nulIn(e, at+"["+strconv.Itoa(i)+"]"); ok {
				return p, true
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			p := k
			if at != "" {
				p = at + "." + k
			}
			if strings.ContainsRune(k, 0) {
				return strconv.Quote(p), true
			}
			if p, ok := nulIn(v[k], p); ok {
				return p, true
			}
		}
	}
	return "", false
}
