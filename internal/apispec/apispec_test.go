package apispec

import (
	"net/http"
	"strings"
	"testing"
)

const operationJSON = `{"operation":{"id":"d8ac46eb-a757-42b1-9907-f78322ee394e","project_id":"cold-bonus-61650555",` +
	`"action":"start_compute","status":"finished","failures_count":0,` +
	`"created_at":"2025-09-10T07:58:16Z","updated_at":"2025-09-10T07:58:17Z","total_duration_ms":12}}`

func TestCheckResponse(t *testing.T) {
	Load(t)
	const opPath = "/api/v2/projects/cold-bonus-61650555/operations/d8ac46eb-a757-42b1-9907-f78322ee394e"
	tests := []struct {
		name    string
		method  string
		path    string
		status  int
		header  http.Header
		body    string
		opts    []Option
		wantErr string // substring; "" means valid
	}{
		{name: "valid", method: "GET", path: opPath, status: 200, body: operationJSON},
		{name: "spec path without prefix", method: "GET", path: "/projects/cold-bonus-61650555/operations/d8ac46eb-a757-42b1-9907-f78322ee394e", status: 200, body: operationJSON},
		{name: "explicit content type", method: "GET", path: opPath, status: 200,
			header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, body: operationJSON},
		{name: "missing required", method: "GET", path: opPath, status: 200,
			body: strings.Replace(operationJSON, `"failures_count":0,`, "", 1), wantErr: "failures_count"},
		{name: "null optional", method: "GET", path: opPath, status: 200,
			body: strings.Replace(operationJSON, `"status"`, `"branch_id":null,"status"`, 1), wantErr: "branch_id"},
		{name: "bad enum", method: "GET", path: opPath, status: 200,
			body: strings.Replace(operationJSON, `"finished"`, `"done"`, 1), wantErr: "status"},
		{name: "bad timestamp", method: "GET", path: opPath, status: 200,
			body: strings.Replace(operationJSON, `"2025-09-10T07:58:16Z"`, `"2025-09-10 07:58:16"`, 1), wantErr: "created_at"},
		{name: "bad uuid", method: "GET", path: opPath, status: 200,
			body: strings.Replace(operationJSON, `d8ac46eb-a757`, `d8ac46eb_a757`, 1), wantErr: "uuid"},
		{name: "unknown field", method: "GET", path: opPath, status: 200,
			body: strings.Replace(operationJSON, `"status"`, `"statuz":"x","status"`, 1), wantErr: "$.operation.statuz"},
		{name: "unknown field allowed", method: "GET", path: opPath, status: 200, opts: []Option{AllowUnknownFields()},
			body: strings.Replace(operationJSON, `"status"`, `"statuz":"x","status"`, 1)},
		{name: "undocumented success status", method: "GET", path: opPath, status: 201, body: operationJSON, wantErr: "not documented"},
		{name: "error body", method: "GET", path: opPath, status: 404, body: `{"code":"","message":"not found","request_id":"abc"}`},
		{name: "error body missing message", method: "GET", path: opPath, status: 404, body: `{"code":""}`, wantErr: "message"},
		{name: "unknown route", method: "GET", path: "/api/v2/nope", status: 200, body: `{}`, wantErr: "find operation"},
		{name: "map values checked", method: "GET", path: "/api/v2/projects", status: 200,
			body: `{"projects":[],"applications":{"p":["vercel"]},"integrations":{"p":[{"bogus":1}]}}`, wantErr: "integrations"},
		{name: "open map keys allowed", method: "GET", path: "/api/v2/projects", status: 200,
			body: `{"projects":[],"applications":{"p":["vercel"]},"integrations":{}}`},
		{name: "delete 204 without body", method: "DELETE", path: "/api/v2/projects/p-1/endpoints/ep-1", status: 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckResponse(t, tt.method, tt.path, tt.status, tt.header, []byte(tt.body), tt.opts...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("no error, want one containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestSpecURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/api/v2/projects/x", ServerURL + "/projects/x"},
		{"/projects/x", ServerURL + "/projects/x"},
		{"projects", ServerURL + "/projects"},
		{"/api/v2/projects?limit=1&cursor=a", ServerURL + "/projects?limit=1&cursor=a"},
		{"/api/v2", ServerURL},
		{"/api/v20/x", ServerURL + "/api/v20/x"},
		{"http://127.0.0.1:8080/api/v2/regions", ServerURL + "/regions"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := specURL(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("specURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidateResponseReportsThroughT(t *testing.T) {
	Load(t)
	ft := &fakeT{TB: t}
	ValidateResponse(ft, "GET", "/api/v2/users/me", 200, nil, []byte(`{}`))
	if !ft.failed {
		t.Fatal("ValidateResponse accepted an empty /users/me body")
	}
	ft = &fakeT{TB: t}
	ValidateResponse(ft, "GET", "/api/v2/users/me/organizations", 200, nil, []byte(`{"organizations":[]}`))
	if ft.failed {
		t.Fatal("ValidateResponse rejected a valid body")
	}
}

// fakeT records failures instead of failing the enclosing test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Helper()               {}
