package projectspec

import (
	"strings"
	"testing"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/pgversion"
	"github.com/grovedb/grove/internal/plans"
)

var installs = []pgversion.Install{{Major: 16}, {Major: 17}}

func wantInvalid(t *testing.T, err error, has string) {
	t.Helper()
	if errkind.Of(err) != errkind.Invalid || !strings.Contains(err.Error(), has) {
		t.Fatalf("%v, want an invalid-request error with %q", err, has)
	}
}

// TestResolveDefaults: an empty request gets Neon's defaults.
func TestResolveDefaults(t *testing.T) {
	in, s, err := Resolve(Input{}, installs)
	if err != nil {
		t.Fatal(err)
	}
	if in.PGVersion != pgversion.DefaultMajor || in.RegionID != "aws-us-east-2" || in.Provisioner != "k8s-neonvm" ||
		in.BranchName != "main" || in.DatabaseName != "neondb" || in.RoleName != "neondb_owner" {
		t.Errorf("defaults: %+v", in)
	}
	if s != (Sizes{MinCU: 0.25, MaxCU: 0.25}) {
		t.Errorf("sizes: %+v", s)
	}
	min, max, susp := 0.5, 2.0, int64(-1)
	in, s, err = Resolve(Input{PGVersion: 16, RegionID: "aws-eu-central-1", Provisioner: "k8s-pod", DatabaseName: "app",
		MinCU: &min, MaxCU: &max, SuspendTimeoutSeconds: &susp}, installs)
	if err != nil || in.PGVersion != 16 || in.RoleName != "app_owner" || s != (Sizes{0.5, 2, -1}) {
		t.Errorf("given: %+v, %+v, %v", in, s, err)
	}
}

func TestResolveErrors(t *testing.T) {
	long := strings.Repeat("n", MaxName+1)
	min, max, susp := 2.0, 1.0, int64(-3)
	for _, tc := range []struct {
		in  Input
		has string
	}{
		{Input{PGVersion: 14}, "pg_version 14 is not supported; installed versions: 16, 17"},
		{Input{RegionID: "aws-mars-1"}, `region_id "aws-mars-1" is not supported`},
		{Input{Provisioner: "docker"}, `provisioner "docker" is not one of`},
		{Input{Name: long}, "name must be at most 256"},
		{Input{BranchName: long}, "branch.name must be at most 256"},
		{Input{DatabaseName: strings.Repeat("d", 64)}, "branch.database_name must be 1 to 63 bytes"},
		{Input{RoleName: "a\x00"}, "branch.role_name must be 1 to 63 bytes"},
		{Input{RoleName: "neon_superuser"}, `branch.role_name "neon_superuser" is reserved`},
		{Input{DatabaseName: "template1", RoleName: "app"}, `branch.database_name "template1" is reserved`},
		{Input{MinCU: &min, MaxCU: &max}, "autoscaling_limit"},
		{Input{SuspendTimeoutSeconds: &susp}, "suspend_timeout_seconds"},
	} {
		_, _, err := Resolve(tc.in, installs)
		wantInvalid(t, err, tc.has)
	}
}

func TestHistory(t *testing.T) {
	ip := func(v int) *int { return &v }
	if h, err := History(nil, 86400); h != 86400 || err != nil {
		t.Errorf("default: %d, %v", h, err)
	}
	if h, err := History(ip(0), 86400); h != 0 || err != nil {
		t.Errorf("none: %d, %v", h, err)
	}
	for _, v := range []int{-1, plans.MaxHistorySeconds + 1} {
		_, err := History(ip(v), 86400)
		wantInvalid(t, err, "history_retention_seconds must be between 0 and")
	}
}
