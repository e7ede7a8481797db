package apitypes_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
)

func TestTimeMarshal(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	tests := []struct {
		name string
		in   apitypes.Time
		want string
	}{
		{"zero", apitypes.Time{}, `"0001-01-01T00:00:00Z"`},
		{"utc", apitypes.NewTime(time.Date(2025, 9, 10, 7, 58, 16, 0, time.UTC)), `"2025-09-10T07:58:16Z"`},
		{"fraction truncated", apitypes.NewTime(time.Date(2025, 9, 10, 7, 58, 16, 999999999, time.UTC)), `"2025-09-10T07:58:16Z"`},
		{"converted to utc", apitypes.NewTime(time.Date(2025, 9, 10, 2, 58, 16, 0, est)), `"2025-09-10T07:58:16Z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTimeUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: `"2025-09-10T07:58:16Z"`, want: time.Date(2025, 9, 10, 7, 58, 16, 0, time.UTC)},
		{in: `"2025-01-16T21:02:04.214837Z"`, want: time.Date(2025, 1, 16, 21, 2, 4, 214837000, time.UTC)},
		{in: `"2025-09-10T09:58:16+02:00"`, want: time.Date(2025, 9, 10, 7, 58, 16, 0, time.UTC)},
		{in: `null`},
		{in: `"2025-09-10 07:58:16"`, wantErr: true},
		{in: `1757491096`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got apitypes.Time
			err := json.Unmarshal([]byte(tt.in), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !got.Equal(tt.want) {
				t.Fatalf("got %v, want %v", got.Time, tt.want)
			}
		})
	}
}

func TestOptionalOmittedRequiredPresent(t *testing.T) {
	tests := []struct {
		name        string
		in          any
		present     []string
		absent      []string
		wantNoNulls bool
	}{
		{
			name:        "zero project",
			in:          apitypes.Project{},
			present:     []string{`"cpu_used_sec":0`, `"consumption_period_start":"0001-01-01T00:00:00Z"`, `"branch_logical_size_limit_bytes":0`, `"owner_id":""`},
			absent:      []string{"maintenance_starts_at", `"owner"`, "settings", "org_id", "synthetic_storage_size", "effective_project_permission"},
			wantNoNulls: true,
		},
		{
			name:        "zero endpoint",
			in:          apitypes.Endpoint{},
			present:     []string{`"settings":{}`, `"pooler_enabled":false`, `"passwordless_access":false`, `"suspend_timeout_seconds":0`},
			absent:      []string{"last_active", "started_at", "pending_state", `"name"`},
			wantNoNulls: true,
		},
		{
			name:        "endpoint with empty pg_settings",
			in:          apitypes.Endpoint{Settings: apitypes.EndpointSettings{PgSettings: map[string]string{}}},
			present:     []string{`"settings":{"pg_settings":{}}`},
			wantNoNulls: true,
		},
		{
			name:        "empty lists",
			in:          apitypes.CreatedProject{},
			present:     []string{`"connection_uris":[]`, `"roles":[]`, `"databases":[]`, `"operations":[]`, `"endpoints":[]`},
			wantNoNulls: true,
		},
		{
			name:        "empty project list",
			in:          apitypes.ProjectsResponse{},
			present:     []string{`"projects":[]`, `"applications":{}`, `"integrations":{}`},
			absent:      []string{"pagination", "unavailable_project_ids"},
			wantNoNulls: true,
		},
		{
			name:    "allowed ips empty list kept",
			in:      apitypes.AllowedIPs{IPs: []string{}},
			present: []string{`"ips":[]`},
		},
		{
			name:   "allowed ips nil omitted",
			in:     apitypes.AllowedIPs{},
			absent: []string{`"ips"`},
		},
		{
			name:    "api key never used",
			in:      apitypes.ApiKeysListResponseItem{},
			present: []string{`"last_used_at":null`},
		},
		{
			name:        "error without request id",
			in:          apitypes.GeneralError{Message: "x"},
			present:     []string{`"code":""`},
			absent:      []string{"request_id"},
			wantNoNulls: true,
		},
		{
			name:        "create request with zero values",
			in:          apitypes.ProjectCreateRequest{Project: apitypes.ProjectCreate{HistoryRetentionSeconds: new(int32), StorePasswords: new(bool)}},
			present:     []string{`"history_retention_seconds":0`, `"store_passwords":false`},
			absent:      []string{"name", "pg_version", "branch", "settings"},
			wantNoNulls: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			for _, want := range tt.present {
				if !strings.Contains(s, want) {
					t.Errorf("missing %s in %s", want, s)
				}
			}
			for _, no := range tt.absent {
				if strings.Contains(s, no) {
					t.Errorf("unexpected %s in %s", no, s)
				}
			}
			if tt.wantNoNulls && strings.Contains(s, "null") {
				t.Errorf("null in %s", s)
			}
		})
	}
}

// TestRoundTrip checks that decoding what was encoded gives the same JSON.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   any
		out  any
	}{
		{"created project", sampleCreatedProject(), &apitypes.CreatedProject{}},
		{"project with owner", apitypes.ProjectResponse{Project: sampleProjectWithOwner()}, &apitypes.ProjectResponse{}},
		{"projects", apitypes.ProjectsResponse{Projects: []apitypes.ProjectListItem{sampleListItem()}, Pagination: &apitypes.Pagination{Cursor: "c"}}, &apitypes.ProjectsResponse{}},
		{"current user", sampleCurrentUser(), &apitypes.CurrentUserInfoResponse{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(first, tt.out); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			second, err := json.Marshal(tt.out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first, second) {
				t.Fatalf("round trip changed the JSON:\n first %s\nsecond %s", first, second)
			}
		})
	}
}

func TestOperationStatusTerminal(t *testing.T) {
	tests := []struct {
		s    apitypes.OperationStatus
		want bool
	}{
		{apitypes.OperationStatusScheduling, false},
		{apitypes.OperationStatusRunning, false},
		{apitypes.OperationStatusCancelling, false},
		{apitypes.OperationStatusFinished, true},
		{apitypes.OperationStatusFailed, true},
		{apitypes.OperationStatusError, true},
		{apitypes.OperationStatusCancelled, true},
		{apitypes.OperationStatusSkipped, true},
		{"unknown", false},
	}
	for _, tt := range tests {
		if got := tt.s.Terminal(); got != tt.want {
			t.Errorf("%s.Terminal() = %v, want %v", tt.s, got, tt.want)
		}
	}
}
