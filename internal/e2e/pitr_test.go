package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
)

// TestPointInTime: a branch at a parent_timestamp between two commits sees
// the first and not the second; so does a snapshot taken at that time and
// restored as a preview, and a restore of the branch to its own history
// (which keeps the state before it under preserve_under_name). Points before
// the branch existed or in the future are Neon's 400, changing nothing.
func TestPointInTime(t *testing.T) { eachDriver(t, testPointInTime) }

func testPointInTime(t *testing.T, g *grovetest.Grove) {
	c := checkedClient(g)
	cp := g.CreateSeed()
	id, main := cp.Project.ID, cp.Branch.ID
	uri := cp.ConnectionURIs[0].ConnectionURI
	psql(t, uri, "create table steps (n int primary key); insert into steps values (1)")
	// Commit times come from the server's clock, which the API compares
	// with: take the point between the commits from Postgres itself.
	between := psql(t, uri, "select to_char(clock_timestamp() at time zone 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
	time.Sleep(50 * time.Millisecond)
	psql(t, uri, "insert into steps values (2)")
	sees := func(t *testing.T, uri, want string) {
		t.Helper()
		if got := psql(t, uri, "select coalesce(string_agg(n::text, ',' order by n), '') from steps"); got != want {
			t.Fatalf("sees steps %q, want %q", got, want)
		}
	}

	t.Run("branch at a timestamp", func(t *testing.T) {
		var cb apitypes.CreatedBranch
		body := fmt.Sprintf(`{"branch":{"name":"past","parent_timestamp":%q},"endpoints":[{"type":"read_write"}]}`, between)
		if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches", body, &cb); st != 201 {
			t.Fatalf("branch at %s: %d %s", between, st, raw)
		}
		waitOps(t, c, id, cb.Operations)
		past := cb.ConnectionURIs[0].ConnectionURI
		sees(t, past, "1")
		if cb.Branch.ParentTimestamp.IsZero() || cb.Branch.ParentLSN == "" {
			t.Errorf("branch has no parent_timestamp or parent_lsn: %+v", cb.Branch)
		}
		sees(t, uri, "1,2")

		// Its own compute recovered it (and answered once promoted); the
		// branch's history starts once that compute runs, and a point of
		// it is a branch again.
		m := regexp.MustCompile(`recovery prepared".* into=(vol-[0-9a-z]+)`).FindStringSubmatch(g.Logs())
		if m == nil {
			t.Fatalf("the branch's compute did not recover it: %s", regexp.MustCompile(`(?m)^.*(recover|materializ).*$`).FindAllString(g.Logs(), -1))
		}
		grovetest.WaitFor(t, "the recovered branch's history", func() bool {
			return regexp.MustCompile(`msg="history started" .*volume=` + m[1] + ` `).MatchString(g.Logs())
		})
		psql(t, past, "insert into steps values (3)")
		between2 := psql(t, past, "select to_char(clock_timestamp() at time zone 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
		time.Sleep(50 * time.Millisecond)
		psql(t, past, "insert into steps values (4)")
		var again apitypes.CreatedBranch
		body = fmt.Sprintf(`{"branch":{"name":"past2","parent_id":%q,"parent_timestamp":%q},"endpoints":[{"type":"read_write"}]}`, cb.Branch.ID, between2)
		if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches", body, &again); st != 201 {
			t.Fatalf("branch of the recovered branch at %s: %d %s", between2, st, raw)
		}
		waitOps(t, c, id, again.Operations)
		sees(t, again.ConnectionURIs[0].ConnectionURI, "1,3")

		// A time after the last commit: the WAL ends before the target,
		// and the state at it is the state at the end.
		latest := psql(t, uri, "select to_char(clock_timestamp() at time zone 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
		var head apitypes.CreatedBranch
		body = fmt.Sprintf(`{"branch":{"name":"latest","parent_timestamp":%q},"endpoints":[{"type":"read_write"}]}`, latest)
		if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches", body, &head); st != 201 {
			t.Fatalf("branch after the last commit: %d %s", st, raw)
		}
		waitOps(t, c, id, head.Operations)
		sees(t, head.ConnectionURIs[0].ConnectionURI, "1,2")
		psql(t, head.ConnectionURIs[0].ConnectionURI, "insert into steps values (5)")
	})

	t.Run("snapshot at now is the head", func(t *testing.T) {
		// Neon's checkpoint demo sends {timestamp: now, name}: with nothing
		// committed since, that is a storage snapshot, not a recovery.
		nowTS := psql(t, uri, "select to_char(clock_timestamp() at time zone 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
		recoveries := strings.Count(g.Logs(), "msg=materialized")
		var sn struct {
			Snapshot   apitypes.Snapshot    `json:"snapshot"`
			Operations []apitypes.Operation `json:"operations"`
		}
		body := fmt.Sprintf(`{"timestamp":%q,"name":"v1"}`, nowTS)
		if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches/"+main+"/snapshot", body, &sn); st != 200 {
			t.Fatalf("snapshot at now: %d %s", st, raw)
		}
		waitOps(t, c, id, sn.Operations)
		if n := strings.Count(g.Logs(), "msg=materialized"); n != recoveries {
			t.Errorf("a snapshot at now ran a recovery")
		}
		if st, raw := apiUnlocked(t, g, "DELETE", "/projects/"+id+"/snapshots/"+sn.Snapshot.ID, nil, nil); st != 202 {
			t.Fatalf("delete snapshot: %d %s", st, raw)
		}
	})

	t.Run("snapshot at a timestamp, preview restore", func(t *testing.T) {
		var sn struct {
			Snapshot   apitypes.Snapshot    `json:"snapshot"`
			Operations []apitypes.Operation `json:"operations"`
		}
		path := fmt.Sprintf("/projects/%s/branches/%s/snapshot?name=before-two&timestamp=%s", id, main, between)
		if st, raw := apiUnlocked(t, g, "POST", path, nil, &sn); st != 200 {
			t.Fatalf("snapshot at %s: %d %s", between, st, raw)
		}
		waitOps(t, c, id, sn.Operations)
		var rs struct {
			Branch     apitypes.Branch      `json:"branch"`
			Operations []apitypes.Operation `json:"operations"`
		}
		if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/snapshots/"+sn.Snapshot.ID+"/restore",
			`{"name":"preview","finalize_restore":false}`, &rs); st != 200 {
			t.Fatalf("preview restore: %d %s", st, raw)
		}
		waitOps(t, c, id, rs.Operations)
		var cu apitypes.ConnectionURIResponse
		if st, raw := g.API("GET", "/projects/"+id+"/connection_uri?branch_id="+rs.Branch.ID+"&database_name=app_db&role_name=app_user", nil, &cu); st != 200 {
			t.Fatalf("preview connection uri: %d %s", st, raw)
		}
		sees(t, cu.URI, "1")
		sees(t, uri, "1,2")
		if st, raw := apiUnlocked(t, g, "DELETE", "/projects/"+id+"/snapshots/"+sn.Snapshot.ID, nil, nil); st != 202 {
			t.Fatalf("delete snapshot: %d %s", st, raw)
		}
	})

	t.Run("restore to its own history", func(t *testing.T) {
		var rs struct {
			Branch     apitypes.Branch      `json:"branch"`
			Operations []apitypes.Operation `json:"operations"`
		}
		body := fmt.Sprintf(`{"source_branch_id":%q,"source_timestamp":%q,"preserve_under_name":"before-rollback"}`, main, between)
		if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches/"+main+"/restore", body, &rs); st != 200 {
			t.Fatalf("restore to %s: %d %s", between, st, raw)
		}
		waitOps(t, c, id, rs.Operations)
		sees(t, uri, "1") // the same connection string, the earlier state
		branches, err := c.ListBranches(t.Context(), id, clientSearch("before-rollback"))
		if err != nil || len(branches.Branches) != 1 {
			t.Fatalf("backup branch: %+v, %v", branches, err)
		}
	})

	t.Run("points outside the history", func(t *testing.T) {
		before := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		for _, ts := range []string{before, future} {
			body := fmt.Sprintf(`{"branch":{"name":"nowhere","parent_timestamp":%q}}`, ts)
			if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/branches", body, nil); st != 400 {
				t.Errorf("branch at %s: %d %s, want 400", ts, st, raw)
			}
		}
		if list, err := c.ListBranches(t.Context(), id, clientSearch("nowhere")); err != nil || len(list.Branches) != 0 {
			t.Errorf("refused branches were made: %+v, %v", list, err)
		}
	})
}

// TestWarmVolumesLeaveNoHistory: the warm pool's volumes archive like any
// compute's, and when they are deleted (at a clean stop) their history
// goes with them: a grove that never created a project leaves no history
// snapshot and no archive behind.
func TestWarmVolumesLeaveNoHistory(t *testing.T) {
	g := start(t)
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(g.Logs(), `msg="history started"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no warm instance started its history:\n%s", g.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.Stop()
	vols, err := os.ReadDir(filepath.Join(g.DataDir, "volumes"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vols {
		if strings.HasPrefix(v.Name(), "hist-") || strings.HasPrefix(v.Name(), "vol-") {
			t.Errorf("volume %s left after a clean stop", v.Name())
		}
	}
	archived, _ := os.ReadDir(filepath.Join(g.DataDir, "archive"))
	for _, a := range archived {
		t.Errorf("archive of %s left after a clean stop", a.Name())
	}
}
