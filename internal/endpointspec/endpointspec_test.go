package endpointspec

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/plans"
)

func fp(v float64) *float64 { return &v }
func ip(v int64) *int64     { return &v }
func bp(v bool) *bool       { return &v }
func sp(v string) *string   { return &v }

func wantInvalid(t *testing.T, err error, has string) {
	t.Helper()
	if errkind.Of(err) != errkind.Invalid || !strings.Contains(err.Error(), has) {
		t.Fatalf("%v, want an invalid-request error with %q", err, has)
	}
}

func TestCheckType(t *testing.T) {
	for _, typ := range []string{"read_write", "read_only"} {
		if err := CheckType(typ, "endpoint"); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
	wantInvalid(t, CheckType("", "endpoints[1]"), "endpoints[1].type is required")
	wantInvalid(t, CheckType("primary", "endpoint"), `endpoint.type "primary" is not one of`)
}

// TestResolve: sizes and suspend timeout come from the request, else the
// project's defaults, else 0.25 CU and 0; the provisioner from the
// request, else the project's.
func TestResolve(t *testing.T) {
	defaults := plans.ParseEndpointDefaults(json.RawMessage(`{"autoscaling_limit_min_cu":0.5,"autoscaling_limit_max_cu":2,"suspend_timeout_seconds":600}`))
	tests := []struct {
		name    string
		in      Input
		d       plans.EndpointDefaults
		want    metastore.Endpoint
		errHas  string
		project string
	}{
		{name: "nothing given", in: Input{Type: "read_write"}, project: "k8s-pod",
			want: metastore.Endpoint{Type: "read_write", Provisioner: "k8s-pod", MinCU: 0.25, MaxCU: 0.25, PasswordlessAccess: true}},
		{name: "project defaults", in: Input{Type: "read_only"}, d: defaults, project: "k8s-neonvm",
			want: metastore.Endpoint{Type: "read_only", Provisioner: "k8s-neonvm", MinCU: 0.5, MaxCU: 2, SuspendTimeoutSeconds: 600, PasswordlessAccess: true}},
		{name: "request wins", d: defaults, project: "k8s-neonvm",
			in: Input{Type: "read_write", Provisioner: "k8s-pod", Name: "api", MinCU: fp(1), MaxCU: fp(4), SuspendTimeoutSeconds: ip(-1),
				Disabled: bp(true), PasswordlessAccess: bp(false)},
			want: metastore.Endpoint{Type: "read_write", Provisioner: "k8s-pod", Name: "api", MinCU: 1, MaxCU: 4, SuspendTimeoutSeconds: -1, Disabled: true}},
		{name: "unknown provisioner", in: Input{Type: "read_write", Provisioner: "vm"}, project: "k8s-pod", errHas: `provisioner "vm"`},
		{name: "long name", in: Input{Type: "read_write", Name: strings.Repeat("n", 65)}, project: "k8s-pod", errHas: "endpoint.name must be at most 64"},
		{name: "min above max", in: Input{Type: "read_write", MinCU: fp(2), MaxCU: fp(1)}, project: "k8s-pod", errHas: "autoscaling_limit"},
		{name: "bad suspend", in: Input{Type: "read_write", SuspendTimeoutSeconds: ip(-5)}, project: "k8s-pod", errHas: "suspend_timeout_seconds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(tc.in, tc.project, tc.d)
			if tc.errHas != "" {
				wantInvalid(t, err, tc.errHas)
				return
			}
			if err != nil || got.Type != tc.want.Type || got.Provisioner != tc.want.Provisioner || got.Name != tc.want.Name ||
				got.MinCU != tc.want.MinCU || got.MaxCU != tc.want.MaxCU || got.SuspendTimeoutSeconds != tc.want.SuspendTimeoutSeconds ||
				got.Disabled != tc.want.Disabled || got.PasswordlessAccess != tc.want.PasswordlessAccess {
				t.Fatalf("Resolve = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	defaults := map[string]string{"work_mem": "8MB"}
	tests := []struct {
		name, raw, want, errHas string
		defaults                map[string]string
	}{
		{name: "none", raw: "", want: `{}`},
		{name: "null", raw: "null", want: `{}`},
		{name: "defaults filled", raw: `{"x":1}`, defaults: defaults, want: `{"pg_settings":{"work_mem":"8MB"},"x":1}`},
		{name: "own pg_settings kept", raw: `{"pg_settings":{"a":"b"}}`, defaults: defaults, want: `{"pg_settings":{"a":"b"}}`},
		{name: "not an object", raw: `[1]`, errHas: "endpoint.settings must be an object"},
		{name: "pg_settings not strings", raw: `{"pg_settings":{"a":1}}`, errHas: "pg_settings must map names to string values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Settings(json.RawMessage(tc.raw), tc.defaults)
			if tc.errHas != "" {
				wantInvalid(t, err, tc.errHas)
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("Settings = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

// TestApply: an update changes what it names and leaves the rest.
func TestApply(t *testing.T) {
	e := metastore.Endpoint{Type: "read_write", Provisioner: "k8s-pod", Name: "a", MinCU: 0.25, MaxCU: 1,
		SuspendTimeoutSeconds: 300, PasswordlessAccess: true, Settings: json.RawMessage(`{}`)}
	got, err := ApplySize(e, Update{MaxCU: fp(2), SuspendTimeoutSeconds: ip(0)})
	if err != nil || got.MinCU != 0.25 || got.MaxCU != 2 || got.SuspendTimeoutSeconds != 0 {
		t.Fatalf("ApplySize = %+v, %v", got, err)
	}
	_, err = ApplySize(e, Update{MinCU: fp(2)})
	wantInvalid(t, err, "autoscaling_limit")
	_, err = ApplySize(e, Update{SuspendTimeoutSeconds: ip(-2)})
	wantInvalid(t, err, "suspend_timeout_seconds")

	got, err = ApplyRest(e, Update{Provisioner: sp("k8s-neonvm"), Name: sp("b"), Disabled: bp(true),
		PasswordlessAccess: bp(false), Settings: json.RawMessage(`{"pg_settings":{"a":"b"}}`)})
	if err != nil || got.Provisioner != "k8s-neonvm" || got.Name != "b" || !got.Disabled || got.PasswordlessAccess ||
		string(got.Settings) != `{"pg_settings":{"a":"b"}}` || got.MaxCU != 1 {
		t.Fatalf("ApplyRest = %+v, %v", got, err)
	}
	if got, err := ApplyRest(e, Update{Provisioner: sp("")}); err != nil || got.Provisioner != "k8s-pod" {
		t.Fatalf("empty provisioner: %+v, %v", got, err)
	}
	_, err = ApplyRest(e, Update{Provisioner: sp("vm")})
	wantInvalid(t, err, `provisioner "vm"`)
	_, err = ApplyRest(e, Update{Name: sp(strings.Repeat("n", 65))})
	wantInvalid(t, err, "endpoint.name")
	_, err = ApplyRest(e, Update{Settings: json.RawMessage(`1`)})
	wantInvalid(t, err, "endpoint.settings")
}
