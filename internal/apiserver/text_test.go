package apiserver

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/grovedb/grove/internal/accounts"
)

// TestRefuseBadText: strings Postgres cannot store as text are refused
// wherever a request carries them, and nothing else is.
func TestRefuseBadText(t *testing.T) {
	const pattern = "POST /projects/{project_id}/roles/{role_name}"
	tests := []struct {
		name, target, body string
		wantErr            string // "" = the handler runs and sees the whole body
	}{
		{"clean", "/projects/p1/roles/r1?search=x", `{"role":{"name":"r"}}`, ""},
		{"escaped backslash is not a NUL", "/projects/p1/roles/r1", `{"role":{"name":"\\u0000"}}`, ""},
		{"malformed body is left to decode", "/projects/p1/roles/r1", `{"role":"\u0000`, ""},
		{"no body", "/projects/p1/roles/r1", ``, ""},
		{"path parameter", "/projects/p1/roles/a%00b", ``, "path parameter role_name: " + nulNotAllowed},
		{"first path parameter", "/projects/%00/roles/r1", ``, "path parameter project_id: " + nulNotAllowed},
		{"query value", "/projects/p1/roles/r1?limit=1&search=a%00", ``, "query parameter search: " + nulNotAllowed},
		{"repeated query value", "/projects/p1/roles/r1?ids=a&ids=%00", ``, "query parameter ids: " + nulNotAllowed},
		{"query name", "/projects/p1/roles/r1?a%00=1", ``, `query parameter "a\x00": ` + nulNotAllowed},
		{"body string", "/projects/p1/roles/r1", `{"role":{"name":"a\u0000b"}}`, "decode application/json: role.name: " + nulNotAllowed},
		{"body array element", "/projects/p1/roles/r1", `{"project_ids":["ok","\u0000"]}`, "decode application/json: project_ids[1]: " + nulNotAllowed},
		{"body object key", "/projects/p1/roles/r1", `{"settings":{"a\u0000":1}}`, `decode application/json: "settings.a\x00": ` + nulNotAllowed},
		{"body unknown field", "/projects/p1/roles/r1", `{"role":{"name":"r"},"x":"\u0000"}`, "decode application/json: x: " + nulNotAllowed},
		{"bare string body", "/projects/p1/roles/r1", `"\u0000"`, "decode application/json: body: " + nulNotAllowed},
		{"path parameter not UTF-8", "/projects/p1/roles/a%FFb", ``, "path parameter role_name: " + notUTF8},
		{"query value not UTF-8", "/projects/p1/roles/r1?cursor=%C3", ``, "query parameter cursor: " + notUTF8},
		{"query name not UTF-8", "/projects/p1/roles/r1?%FF=1", ``, `query parameter "\xff": ` + notUTF8},
		{"body not UTF-8", "/projects/p1/roles/r1", "{\"settings\":{\"a\":\"\xff\"}}", "decode application/json: " + notUTF8},
		{"UTF-8 beyond ASCII", "/projects/p1/roles/r%C3%A9?search=%E2%82%AC", `{"role":{"name":"ré€"}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sawBody *string
			h := refuseBadText(pattern, func(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
				b, err := io.ReadAll(r.Body)
				if err != nil {
					t.Fatal(err)
				}
				s := string(b)
				sawBody = &s
				return nil
			})
			var err error
			mux := http.NewServeMux()
			mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
				err = h(w, r, accounts.Principal{})
			})
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", tt.target, body))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if sawBody == nil || *sawBody != tt.body {
					t.Fatalf("the handler read %v, want the body %q", sawBody, tt.body)
				}
				return
			}
			var de *decodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a decodeError", err)
			}
			if want := "invalid request: " + tt.wantErr; de.msg != want {
				t.Fatalf("message %q, want %q", de.msg, want)
			}
			if sawBody != nil {
				t.Fatal("the handler ran")
			}
		})
	}
}
