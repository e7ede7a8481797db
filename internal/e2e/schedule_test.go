package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/jackc/pgx/v5"
)

// TestBackupSchedule: a root branch's backup schedule on a paid plan is
// set, read back and turned off; bad schedules, child branches and the
// free plan are refused; a due slot takes a scheduled snapshot (not
// manual, expiring after its retention).
func TestBackupSchedule(t *testing.T) {
	g := start(t)
	st, raw, cp := createIn(t, g, g.OrgID("paid"), "")
	if st != 201 {
		t.Fatalf("create project: %d %s", st, raw)
	}
	id, main := cp.Project.ID, cp.Branch.ID
	path := "/projects/" + id + "/branches/" + main + "/backup_schedule"
	get := func() apitypes.BackupSchedule {
		t.Helper()
		var s apitypes.BackupSchedule
		if st, raw := g.API("GET", path, nil, &s); st != 200 || s.Schedule == nil {
			t.Fatalf("get schedule: %d %s", st, raw)
		}
		return s
	}
	if s := get(); len(s.Schedule) != 0 {
		t.Fatalf("a new branch has a schedule: %+v", s)
	}

	for _, tc := range []struct{ name, body, want string }{
		{"no schedule", `{}`, "schedule (field required)"},
		{"bad frequency", `{"schedule":[{"frequency":"minutely"}]}`, "frequency"},
		{"hour out of range", `{"schedule":[{"frequency":"daily","hour":24}]}`, "hour"},
		{"weekday out of range", `{"schedule":[{"frequency":"weekly","day":8}]}`, "day"},
		{"short retention", `{"schedule":[{"frequency":"hourly","retention_seconds":60}]}`, "retention_seconds"},
		{"twice the same frequency", `{"schedule":[{"frequency":"daily"},{"frequency":"daily","hour":3}]}`, "more than once"},
	} {
		st, raw := g.API("PUT", path, tc.body, nil)
		wantError(t, tc.name, st, raw, 400, tc.want)
	}
	var child apitypes.CreatedBranch
	if st, raw := g.API("POST", "/projects/"+id+"/branches", `{"branch":{"name":"child"}}`, &child); st != 201 {
		t.Fatalf("child branch: %d %s", st, raw)
	}
	st, raw = g.API("PUT", "/projects/"+id+"/branches/"+child.Branch.ID+"/backup_schedule", `{"schedule":[{"frequency":"daily"}]}`, nil)
	wantError(t, "schedule on a child branch", st, raw, 400, "root branches")
	free := g.CreateSeed()
	st, raw = g.API("PUT", "/projects/"+free.Project.ID+"/branches/"+free.Branch.ID+"/backup_schedule", `{"schedule":[{"frequency":"daily"}]}`, nil)
	wantLimitError(t, "schedule on the free plan", st, raw, 422, "", "not available on the free plan")
	if st, raw := g.API("PUT", "/projects/"+free.Project.ID+"/branches/"+free.Branch.ID+"/backup_schedule", `{"schedule":[]}`, nil); st != 200 {
		t.Errorf("turning off a schedule on the free plan: %d %s", st, raw)
	}

	body := `{"schedule":[{"frequency":"hourly","retention_seconds":7200},{"frequency":"weekly","day":1,"hour":4}]}`
	if st, raw := g.API("PUT", path, body, nil); st != 200 || string(raw) != "{}" {
		t.Fatalf("set schedule: %d %s", st, raw)
	}
	s := get()
	if len(s.Schedule) != 2 || s.Schedule[0].Frequency != "hourly" || s.Schedule[0].RetentionSeconds == nil ||
		*s.Schedule[0].RetentionSeconds != 7200 || s.Schedule[1].Day == nil || *s.Schedule[1].Day != 1 {
		t.Fatalf("schedule read back: %+v", s)
	}

	// Slots before the schedule was set take nothing; move it two hours
	// back and the hourly slot since is due.
	meta := g.MetaConn(t)
	defer meta.Close(context.Background())
	if _, err := meta.Exec(t.Context(), `UPDATE backup_schedules SET set_at = now() - interval '2 hours' WHERE branch_id = $1`, main); err != nil {
		t.Fatal(err)
	}
	var scheduled apitypes.Snapshot
	grovetest.WaitFor(t, "a scheduled snapshot", func() bool {
		var list apitypes.SnapshotsResponse
		if st, _ := g.API("GET", "/projects/"+id+"/snapshots", nil, &list); st != 200 {
			return false
		}
		for _, sn := range list.Snapshots {
			if !sn.Manual && sn.SourceBranchID == main {
				scheduled = sn
				return true
			}
		}
		return false
	})
	if scheduled.ExpiresAt.IsZero() || time.Until(scheduled.ExpiresAt.Time) < time.Hour || scheduled.FullSize != nil && *scheduled.FullSize < 0 {
		t.Errorf("scheduled snapshot: %+v, want it to expire in about two hours", scheduled)
	}
	// One snapshot per slot: the next round takes no other for the same
	// slot (a run across the hour may take the next hour's, a slot of its
	// own).
	waitScheduleRound(t, g, meta, id, main)
	var list apitypes.SnapshotsResponse
	g.API("GET", "/projects/"+id+"/snapshots", nil, &list)
	perSlot := map[string]int{}
	for _, sn := range list.Snapshots {
		if !sn.Manual {
			perSlot[sn.Name]++
		}
	}
	if len(perSlot) == 0 || len(perSlot) > 2 || perSlot[scheduled.Name] != 1 {
		raw, _ := json.Marshal(list)
		t.Errorf("scheduled snapshots per slot %v after one due slot, want one for %q: %s", perSlot, scheduled.Name, raw)
	}
	for name, n := range perSlot {
		if n != 1 {
			t.Errorf("slot %q took %d snapshots", name, n)
		}
	}

	// A finalized restore hands the schedule to the restored branch, with
	// the rest of the branch's settings.
	var rs apitypes.RestoredSnapshot
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/snapshots/"+scheduled.ID+"/restore",
		`{"target_branch_id":"`+main+`","finalize_restore":true}`, &rs); st != 200 {
		t.Fatalf("restore the scheduled snapshot: %d %s", st, raw)
	}
	waitOps(t, checkedClient(g), id, rs.Operations)
	if s := get(); len(s.Schedule) != 0 {
		t.Errorf("the replaced branch kept its schedule: %+v", s)
	}
	path = "/projects/" + id + "/branches/" + rs.Branch.ID + "/backup_schedule"
	if s := get(); len(s.Schedule) != 2 {
		t.Errorf("the restored branch's schedule: %+v, want the replaced branch's", s)
	}

	if st, raw := g.API("PUT", path, `{"schedule":[]}`, nil); st != 200 {
		t.Fatalf("turn off: %d %s", st, raw)
	}
	if s := get(); len(s.Schedule) != 0 {
		t.Errorf("schedule after turning it off: %+v", s)
	}
}

// waitScheduleRound waits until the platform's scheduled work has run one
// whole round that began after the call. Each round first deletes what
// expired: a manual snapshot of the branch made to expire now is gone once a
// round has begun, and a second one, made after, once the next begins, which
// is after the first round's scheduled snapshots were taken.
func waitScheduleRound(t *testing.T, g *grovetest.Grove, meta *pgx.Conn, projectID, branchID string) {
	t.Helper()
	for i := range 2 {
		var made struct {
			Snapshot apitypes.Snapshot `json:"snapshot"`
		}
		name := fmt.Sprintf("round-marker-%d", i)
		if st, raw := apiUnlocked(t, g, "POST", "/projects/"+projectID+"/branches/"+branchID+"/snapshot?name="+name, nil, &made); st != 200 {
			t.Fatalf("marker snapshot: %d %s", st, raw)
		}
		if _, err := meta.Exec(t.Context(), `UPDATE snapshots SET expires_at = now() WHERE id = $1`, made.Snapshot.ID); err != nil {
			t.Fatal(err)
		}
		grovetest.WaitFor(t, "a scheduled round to expire "+name, func() bool {
			var list apitypes.SnapshotsResponse
			if st, _ := g.API("GET", "/projects/"+projectID+"/snapshots", nil, &list); st != 200 {
				return false
			}
			return !slices.ContainsFunc(list.Snapshots, func(sn apitypes.Snapshot) bool { return sn.ID == made.Snapshot.ID })
		})
	}
}
