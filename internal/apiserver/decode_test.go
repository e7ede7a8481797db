package apiserver

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/grovedb/grove/apitypes"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name, body string
		optional   bool
		wantErr    string // "" = success
	}{
		{"valid", `{"project":{"name":"x"}}`, false, ""},
		{"empty optional", ``, true, ""},
		{"empty required", ``, false, "body required"},
		{"malformed", `{"project":`, false, "invalid request: decode application/json"},
		{"wrong type names the field", `{"project":{"pg_version":"17"}}`, false, "project.pg_version"},
		{"trailing data", `{"project":{}} {}`, false, "unexpected data"},
		{"not an object", `[1]`, false, "invalid request"},
		{"too large", `{"project":{"name":"` + strings.Repeat("a", maxBody) + `"}}`, false, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v2/projects", strings.NewReader(tt.body))
			var v apitypes.ProjectCreateRequest
			err := decode(r, &v, tt.optional)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				return
			}
			var de *decodeError
			if !errors.As(err, &de) {
				t.Fatalf("decode error %v is not a decodeError", err)
			}
			if !strings.Contains(de.msg, tt.wantErr) {
				t.Fatalf("message %q does not contain %q", de.msg, tt.wantErr)
			}
		})
	}
}

func TestQueryBool(t *testing.T) {
	for _, v := range []string{"true", "True", "1", "TRUE"} {
		r := httptest.NewRequest("GET", "/x?pooled="+v, nil)
		if b, err := queryBool(r, "pooled"); err != nil || !b {
			t.Errorf("%q: %v, %v", v, b, err)
		}
	}
	r := httptest.NewRequest("GET", "/x?pooled=maybe", nil)
	if _, err := queryBool(r, "pooled"); err == nil {
		t.Error("pooled=maybe accepted")
	}
}
