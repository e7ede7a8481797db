package plans

import (
	"errors"
	"strings"
	"testing"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metastore"
)

// freePlan and paidPlan are the seeded plans (migrations 0008_plans.sql, 0010_protected_branches.sql).
var (
	freePlan = Plan{Name: "free", ProjectsPerOrg: 30000, BranchesPerProject: 10, RootBranches: 3, MinCU: 0.25, MaxCU: 2,
		MaxCUSpread: 8, MinSuspendTimeoutSeconds: 300, ManualSnapshots: 1,
		HistoryRetentionDefaultSeconds: 86400, HistoryRetentionMaxSeconds: 86400}
	paidPlan = Plan{Name: "paid", ProjectsPerOrg: 30000, BranchesPerProject: 1000, RootBranches: 25, MinCU: 0.25, MaxCU: 16,
		MaxCUSpread: 8, MinSuspendTimeoutSeconds: 60, SuspendDisableAllowed: true, ManualSnapshots: 100, ProtectedBranches: 5,
		HistoryRetentionDefaultSeconds: 86400, HistoryRetentionMaxSeconds: 604800}
)

func TestCheckEndpoint(t *testing.T) {
	tests := []struct {
		name     string
		plan     Plan
		min, max float64
		suspend  int64
		want     string // "" = allowed
	}{
		{"free at its max", freePlan, 0.25, 2, 300, ""},
		{"free fixed at its max", freePlan, 2, 2, 0, ""},
		{"free above its max", freePlan, 0.25, 4, 300, "maximum of 2 CU on the free plan"},
		{"free suspend at its minimum", freePlan, 0.25, 1, 300, ""},
		{"free suspend below its minimum", freePlan, 0.25, 1, 299, "at least 300"},
		{"free never suspending", freePlan, 0.25, 1, -1, "cannot be disabled"},
		{"free default suspend", freePlan, 0.25, 1, 0, ""},
		{"paid at 16", paidPlan, 8, 16, 60, ""},
		{"paid never suspending", paidPlan, 0.25, 1, -1, ""},
		{"paid suspend below its minimum", paidPlan, 0.25, 1, 59, "at least 60"},
		{"raised minimum", Plan{Name: "big", MinCU: 1, MaxCU: 8, MaxCUSpread: 8}, 0.5, 2, 0, "below the minimum of 1 CU"},
		{"narrow spread", Plan{Name: "narrow", MinCU: 0.25, MaxCU: 8, MaxCUSpread: 2}, 1, 4, 0, "must not exceed 2"},
		{"default suspend above a plan's minimum", Plan{Name: "slow", MinCU: 0.25, MaxCU: 2, MaxCUSpread: 8, MinSuspendTimeoutSeconds: 600}, 0.25, 1, 0, "at least 600"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckEndpoint(tc.plan, tc.min, tc.max, tc.suspend)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(message(err), tc.want) || errkind.Of(err) != errkind.Invalid):
				t.Fatalf("err %v, want 400 with %q", err, tc.want)
			}
		})
	}
}

func TestCheckHistory(t *testing.T) {
	for _, tc := range []struct {
		plan Plan
		sec  int
		ok   bool
	}{{freePlan, 86400, true}, {freePlan, 86401, false}, {paidPlan, 604800, true}, {paidPlan, 604801, false}, {freePlan, 0, true}} {
		if err := CheckHistory(tc.plan, tc.sec); (err == nil) != tc.ok {
			t.Errorf("%s %d: %v", tc.plan.Name, tc.sec, err)
		}
	}
}

func TestLimitErrors(t *testing.T) {
	err := ProjectsLimitError(30000, 30000)
	if errkind.Of(err) != errkind.Unprocessable || code(err) != "PROJECTS_LIMIT_EXCEEDED" || message(err) != "user projects limit of 30000 exceeded, got 30000" {
		t.Errorf("projects limit: %v %q %q", errkind.Of(err), code(err), message(err))
	}
	err = BranchesLimitError(10, 10)
	if errkind.Of(err) != errkind.Unprocessable || code(err) != "BRANCHES_LIMIT_EXCEEDED" {
		t.Errorf("branches limit: %v %q", errkind.Of(err), code(err))
	}
}

func TestValidate(t *testing.T) {
	i := func(v int) *int { return &v }
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name  string
		patch Patch
		want  string
	}{
		{"seeded free", Patch{}, ""},
		{"30,000 projects", Patch{ProjectsPerOrg: i(30000)}, ""},
		{"no projects", Patch{ProjectsPerOrg: i(0)}, ""},
		{"negative projects", Patch{ProjectsPerOrg: i(-1)}, "projects_per_org"},
		{"no branches", Patch{BranchesPerProject: i(0)}, "branches_per_project"},
		{"max below min", Patch{MinCU: f(4), MaxCU: f(2)}, "at least min_cu"},
		{"odd size", Patch{MaxCU: f(3.3)}, "valid compute size"},
		{"56 CU fixed", Patch{MinCU: f(56), MaxCU: f(56)}, ""},
		{"spread above Neon's 8", Patch{MaxCUSpread: f(9)}, "max_cu_spread"},
		{"history default above max", Patch{HistoryRetentionDefaultSeconds: i(90000)}, "history"},
		{"history above 30 days", Patch{HistoryRetentionMaxSeconds: i(2592001)}, "history"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.patch.Apply(freePlan))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(message(err), tc.want)):
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	if err := Validate(func() Plan { p := freePlan; p.Name = "Bad_Name"; return p }()); err == nil {
		t.Error("a plan name outside [a-z0-9-] was accepted")
	}
}

func TestPatchApply(t *testing.T) {
	n, cu, yes := 7, 8.0, true
	got := Patch{ProjectsPerOrg: &n, MaxCU: &cu, SuspendDisableAllowed: &yes}.Apply(freePlan)
	want := freePlan
	want.ProjectsPerOrg, want.MaxCU, want.SuspendDisableAllowed = 7, 8, true
	if got != want {
		t.Errorf("apply: %+v, want %+v", got, want)
	}
}

func TestCheckTransfer(t *testing.T) {
	org := func(id, plan string) metastore.Org { return metastore.Org{ID: id, Plan: plan} }
	base := metastore.TransferState{Source: org("org-a", "paid"), Dest: org("org-b", "free"), SourcePlan: paidPlan, Plan: freePlan}
	small := freePlan
	small.ProjectsPerOrg = 3
	tests := []struct {
		name   string
		edit   func(*metastore.TransferState)
		status errkind.Kind
		limits []Limit
	}{
		{"fits", func(st *metastore.TransferState) {
			st.Projects = []metastore.TransferProject{{ID: "p1", Branches: 10, RootBranches: 3, ManualSnapshots: 1}}
		}, 0, nil},
		{"exactly full", func(st *metastore.TransferState) {
			st.Plan, st.DestProjectCount = small, 2
			st.Projects = []metastore.TransferProject{{ID: "p1", Branches: 1, RootBranches: 1}}
		}, 0, nil},
		{"one too many", func(st *metastore.TransferState) {
			st.Plan, st.DestProjectCount = small, 2
			st.Projects = []metastore.TransferProject{{ID: "p1", Branches: 1, RootBranches: 1}, {ID: "p2", Branches: 1, RootBranches: 1}}
		}, 0, []Limit{{"projects_count", "3", "4"}}},
		{"too many branches and projects", func(st *metastore.TransferState) {
			st.Plan, st.DestProjectCount = small, 3
			st.Projects = []metastore.TransferProject{{ID: "p1", Branches: 11, RootBranches: 1}}
		}, 0, []Limit{{"projects_count", "3", "4"}, {"subscription_type", "paid", "free"}}},
		{"too many snapshots", func(st *metastore.TransferState) {
			st.Projects = []metastore.TransferProject{{ID: "p1", Branches: 1, RootBranches: 1, ManualSnapshots: 2}}
		}, 0, []Limit{{"subscription_type", "paid", "free"}}},
		{"a protected branch into a plan without protection", func(st *metastore.TransferState) {
			st.Projects = []metastore.TransferProject{{ID: "p1", Branches: 2, RootBranches: 1, ProtectedBranches: 1}}
		}, 0, []Limit{{"subscription_type", "paid", "free"}}},
		{"a missing project", func(st *metastore.TransferState) {
			st.Missing = []string{"nope-nope-1"}
		}, errkind.NotFound, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := base
			tc.edit(&st)
			err := CheckTransfer(st)
			if tc.status != 0 {
				if errkind.Of(err) != tc.status {
					t.Fatalf("err %v, want kind %v", err, tc.status)
				}
				return
			}
			var le *LimitsError
			if tc.limits == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errorsAs(err, &le) || len(le.Limits) != len(tc.limits) {
				t.Fatalf("err %v, want limits %v", err, tc.limits)
			}
			for i := range tc.limits {
				if le.Limits[i] != tc.limits[i] {
					t.Errorf("limit %d: %+v, want %+v", i, le.Limits[i], tc.limits[i])
				}
			}
		})
	}
}

func TestValidTransfer(t *testing.T) {
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "proj-" + strings.Repeat("a", i%5+1)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		in   transferIn
		ok   bool
	}{
		{"400", transferIn{dest: "org-b", projects: ids(400)}, true},
		{"401", transferIn{dest: "org-b", projects: ids(401)}, false},
		{"none", transferIn{dest: "org-b"}, false},
		{"no destination", transferIn{projects: ids(1)}, false},
		{"bad id", transferIn{dest: "org-b", projects: []string{"Bad/Id"}}, false},
	} {
		if err := ValidTransfer(tc.in.dest, tc.in.projects); (err == nil) != tc.ok || (err != nil && errkind.Of(err) != errkind.Invalid) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// transferIn is a transfer request's fields that ValidTransfer checks.
type transferIn struct {
	dest     string
	projects []string
}

// message and code are what the API shows of err.
func message(err error) string {
	var e *errkind.Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return ""
}

func code(err error) string {
	var e *errkind.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// TestCheckBranch: a new branch within the free plan's limits, and each
// limit it can pass, with Neon's codes.
func TestCheckBranch(t *testing.T) {
	branches := func(n, roots, protected int) []metastore.Branch {
		out := make([]metastore.Branch, n)
		parent := "br-root"
		for i := range out {
			if i >= roots {
				out[i].ParentID = &parent
			}
			out[i].Protected = i < protected
		}
		return out
	}
	small := []metastore.Endpoint{{MinCU: 0.25, MaxCU: 1, SuspendTimeoutSeconds: 300}}
	tests := []struct {
		name            string
		plan            Plan
		branches        []metastore.Branch
		protected, root bool
		eps             []metastore.Endpoint
		code, has       string // code "" and has "": allowed
	}{
		{"within the limits", freePlan, branches(3, 1, 0), false, false, small, "", ""},
		{"schema-only within the roots", freePlan, branches(3, 2, 0), false, true, nil, "", ""},
		{"branches full", freePlan, branches(10, 1, 0), false, false, nil, "BRANCHES_LIMIT_EXCEEDED", "branches limit of 10 exceeded, got 10"},
		{"roots full", freePlan, branches(4, 3, 0), false, true, nil, "ROOT_BRANCHES_LIMIT_EXCEEDED", "limit of 3 root branches"},
		{"roots full, not a root", freePlan, branches(4, 3, 0), false, false, nil, "", ""},
		{"no protected branches on free", freePlan, branches(2, 1, 0), true, false, nil, "", "protected"},
		{"protected within paid", paidPlan, branches(2, 1, 1), true, false, nil, "", ""},
		{"endpoint above the plan", freePlan, branches(1, 1, 0), false, false, []metastore.Endpoint{{MinCU: 0.25, MaxCU: 4, SuspendTimeoutSeconds: 300}}, "", "maximum of 2 CU"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckBranch(tc.plan, tc.branches, tc.protected, tc.root, tc.eps)
			if tc.code == "" && tc.has == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(message(err), tc.has) || code(err) != tc.code {
				t.Fatalf("err %v (code %q), want %q with code %q", err, code(err), tc.has, tc.code)
			}
		})
	}
}

func TestCheckManualSnapshots(t *testing.T) {
	one := []metastore.Snapshot{{Manual: true}, {Schedule: "daily"}}
	if err := CheckManualSnapshots(paidPlan, one); err != nil {
		t.Errorf("paid with one manual snapshot: %v", err)
	}
	if err := CheckManualSnapshots(freePlan, one[1:]); err != nil {
		t.Errorf("free with scheduled snapshots only: %v", err)
	}
	err := CheckManualSnapshots(freePlan, one)
	if errkind.Of(err) != errkind.Unprocessable || !strings.Contains(message(err), "limit of 1 manual snapshots on the free plan") {
		t.Errorf("free with one manual snapshot: %v", err)
	}
}
