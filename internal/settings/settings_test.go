package settings

import (
	"strings"
	"testing"

	"github.com/grovedb/grove/internal/errkind"
)

func TestValidProject(t *testing.T) {
	tests := []struct {
		name, raw string
		want      string // "" = valid; else a part of the message
	}{
		{"empty", `{}`, ""},
		{"quota", `{"quota":{"active_time_seconds":100,"logical_size_bytes":0}}`, ""},
		{"negative quota", `{"quota":{"written_data_bytes":-1}}`, "quota.written_data_bytes must not be negative"},
		{"allowed ips", `{"allowed_ips":{"ips":["10.0.0.1","10.0.0.0/8","10.0.0.1-10.0.0.9"," ::1 "]}}`, ""},
		{"reversed range", `{"allowed_ips":{"ips":["10.0.0.9-10.0.0.1"]}}`, "not an IP address"},
		{"mixed family range", `{"allowed_ips":{"ips":["10.0.0.1-::1"]}}`, "not an IP address"},
		{"host name", `{"allowed_ips":{"ips":["example.com"]}}`, "not an IP address"},
		{"window", `{"maintenance_window":{"weekdays":[1,7],"start_time":"01:00","end_time":"02:30"}}`, ""},
		{"no weekdays", `{"maintenance_window":{"weekdays":[],"start_time":"01:00","end_time":"02:00"}}`, "weekdays must not be empty"},
		{"weekday 8", `{"maintenance_window":{"weekdays":[8],"start_time":"01:00","end_time":"02:00"}}`, "got 8"},
		{"short time", `{"maintenance_window":{"weekdays":[1],"start_time":"1:00","end_time":"02:00"}}`, "HH:MM"},
		{"audit level", `{"audit_log_level":"full"}`, ""},
		{"bad audit level", `{"audit_log_level":"all"}`, "audit_log_level"},
		{"not an object", `[]`, "project.settings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidProject([]byte(tt.raw))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || errkind.Of(err) != errkind.Invalid):
				t.Fatalf("err %v, want 400 with %q", err, tt.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name, base, patch, want string
		fails                   bool
	}{
		{"into nothing", ``, `{"a":1}`, `{"a":1}`, false},
		{"replace and keep", `{"a":1,"b":{"x":1}}`, `{"b":{"y":2}}`, `{"a":1,"b":{"y":2}}`, false},
		{"null deletes", `{"a":1,"b":2}`, `{"a":null}`, `{"b":2}`, false},
		{"patch not an object", `{"a":1}`, `[1]`, ``, true},
		{"null patch", `{"a":1}`, `null`, ``, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Merge([]byte(tt.base), []byte(tt.patch))
			if (err != nil) != tt.fails || (!tt.fails && string(got) != tt.want) {
				t.Errorf("Merge = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}
